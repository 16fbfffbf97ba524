# MongoDB wire protocol
# Pattern attributes: great veryfast
# Protocol groups: database open_source
# Wiki: https://en.wikipedia.org/wiki/MongoDB
# Copyright (C) 2026 Sluice contributors
# Aliases: mongo
# Transport: tcp
#
# A message header (length, requestID, responseTo, opCode) with OP_QUERY (2004) on a
# $cmd collection, as drivers send their handshake, or OP_MSG (2013) whose command
# document names its $db.

mongodb
^.{1,12}\xd4\x07.{0,4}[!-~]+\.\$cmd|^.{1,12}\xdd\x07.{0,500}\x02\$db

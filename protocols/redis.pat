# Redis serialization protocol (RESP)
# Pattern attributes: great veryfast
# Protocol groups: database open_source
# Wiki: https://en.wikipedia.org/wiki/Redis
# Copyright (C) 2026 Sluice contributors
# Aliases: resp
# Transport: tcp
#
# A client command is an array of bulk strings: *N, $len, the command name.

redis
^\*[1-9][0-9]{0,4}\r\n\$[1-9][0-9]{0,4}\r\n[a-z][a-z_.-]*\r\n

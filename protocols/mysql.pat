# MySQL and MariaDB client/server protocol
# Pattern attributes: great veryfast
# Protocol groups: database proprietary
# Wiki: https://en.wikipedia.org/wiki/MySQL
# Copyright (C) 2026 Sluice contributors
# Aliases: mariadb
# Transport: tcp
#
# The server speaks first: a packet header (3-byte length, sequence 0) and the Handshake
# v10 with the server version string ("8.0.36", "5.5.5-10.6.12-MariaDB"), or an error
# packet when the client host is refused.

mysql
^.?.?.?\x0a[3-9]\.[0-9]{1,2}\.[0-9]{1,3}|^.?.?.?\xff[\x01-\xff]\x04(host|too many)

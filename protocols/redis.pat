# Redis serialization protocol (RESP)
# Pattern attributes: great veryfast
# Protocol groups: database open_source
# Wiki: https://en.wikipedia.org/wiki/Redis
# Copyright (C) 2026 Sluice contributors
# Aliases: resp
# Transport: tcp
#
# A client command is an array of bulk strings: *N, $len, the command name; or an inline
# command (what redis-cli-less scripts and health checks send: `PING`, `INFO`, `AUTH`...)
# answered by a RESP reply (+PONG, +OK, $len, -ERR, -NOAUTH, :n, *n).

redis
^\*[1-9][0-9]{0,4}\r\n\$[1-9][0-9]{0,4}\r\n[a-z][a-z_.-]*\r\n|^(ping|info|auth|hello|select|dbsize|echo|exists|keys|client|config|command|flushall|monitor)( [^\r\n]*)?\r\n([^\r\n]*\r\n)*(\+pong|\+ok|\$[0-9]+\r\n|-noauth|-err|:[0-9]+\r\n|\*[0-9]+\r\n)

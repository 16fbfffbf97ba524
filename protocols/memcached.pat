# Memcached text protocol
# Pattern attributes: good veryfast
# Protocol groups: database open_source
# Wiki: https://en.wikipedia.org/wiki/Memcached
# Copyright (C) 2026 Sluice contributors
#
# Storage commands (set key flags exptime bytes), or retrieval and stats commands
# together with the server's answer. Over UDP an 8-byte frame header comes first.

memcached
^(.?.?\x01)?((set|add|replace|append|prepend|cas) [!-~]{1,250} [0-9]+ [0-9]+ [0-9]+( [0-9]+)?( noreply)?\r\n|((get|gets|gat|gats) [!-~]{1,250}( [!-~]{1,250})*|stats( [a-z]+)?|version)\r\n(.?.?\x01)?(value |end\r\n|stat |version [0-9]))

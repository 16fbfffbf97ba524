# Memcached - text and binary protocols
# Pattern attributes: good veryfast
# Protocol groups: database open_source
# Wiki: https://en.wikipedia.org/wiki/Memcached
# Copyright (C) 2026 Sluice contributors
# Packet transport: tcp
#
# Storage commands (set key flags exptime bytes), or retrieval and stats commands
# together with the server's answer. Over UDP an 8-byte frame header comes first.
#
# The binary protocol's 24-byte header is mostly NULs once a key is short, so the `packet
# pattern=` line reads the first payload of each direction as it is, NULs kept: magic 0x80
# (request) or 0x81 (response), an opcode up to 0x48, a key length up to 250, extras of 0-20
# bytes in steps of 4, data type 0, then (a response) a status up to 0x86, and a body length
# below 1 MB. TCP only (`Packet transport`): IAX2 full frames over UDP look the same.

memcached
^(.?.?\x01)?((set|add|replace|append|prepend|cas) [!-~]{1,250} [0-9]+ [0-9]+ [0-9]+( [0-9]+)?( noreply)?\r\n|((get|gets|gat|gats) [!-~]{1,250}( [!-~]{1,250})*|stats( [a-z]+)?|version)\r\n(.?.?\x01)?(value |end\r\n|stat |version [0-9]))
packet pattern=^(\x80[\x00-\x48]\x00[\x00-\xfa][\x00\x04\x08\x0c\x10\x14]\x00[\x00-\xff][\x00-\xff]|\x81[\x00-\x48]\x00[\x00-\xfa][\x00\x04\x08\x0c\x10\x14]\x00\x00[\x00-\x86])\x00[\x00-\x0f][\x00-\xff]{14}

# POP3 - Post Office Protocol version 3 - RFC 1939
# Pattern attributes: great veryfast
# Protocol groups: mail ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/Post_Office_Protocol
# Copyright (C) 2026 Sluice contributors
# Aliases: pop
# Transport: tcp
#
# The server's +OK greeting, or a client command answered by +OK for connections picked
# up after the greeting.

pop3
^\+ok( |\r?\n)|^(capa|stls|user [!-~]+|apop [!-~]+ [0-9a-f]{32})\r?\n\+ok

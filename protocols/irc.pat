# IRC - Internet Relay Chat - RFC 1459, RFC 2812
# Pattern attributes: good veryfast
# Protocol groups: chat ietf_rfc_documented
# Wiki: https://en.wikipedia.org/wiki/Internet_Relay_Chat
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# Client registration (NICK and USER, possibly after CAP LS or PASS) or a server
# speaking first with a prefixed NOTICE or numeric reply.

irc
^((cap|pass) [^\r\n]*\r?\n)*(nick [!-~]+\r?\nuser [!-~]+ [!-~]+ [!-~]+ :|user [!-~]+ [!-~]+ [!-~]+ :[^\r\n]*\r?\nnick [!-~]+)|^:[!-~]+ (notice|[0-9][0-9][0-9]) [!-~]+ :

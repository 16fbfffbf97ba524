# PPTP - Point-to-Point Tunneling Protocol control connection - RFC 2637
# Pattern attributes: great veryfast
# Protocol groups: networking
# Wiki: https://en.wikipedia.org/wiki/Point-to-Point_Tunneling_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# Start-Control-Connection-Request: length 156, control message, magic cookie
# 0x1A2B3C4D.

pptp
^\x9c\x01\x1a\+<m

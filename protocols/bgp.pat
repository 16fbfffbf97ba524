# BGP - Border Gateway Protocol - RFC 4271
# Pattern attributes: great veryfast
# Protocol groups: networking ietf_draft_standard
# Wiki: https://en.wikipedia.org/wiki/Border_Gateway_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# An OPEN message: the 16-byte all-ones marker, length, type 1, version 4.

bgp
^\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff.?.?\x01[\x03\x04]

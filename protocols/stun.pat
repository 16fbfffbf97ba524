# STUN and TURN - Session Traversal Utilities for NAT - RFC 8489, RFC 8656
# Pattern attributes: great veryfast
# Protocol groups: voip networking ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/STUN
# Copyright (C) 2026 Sluice contributors
# Aliases: turn
#
# Every STUN message carries the magic cookie 0x2112A442 at offset 4 (after type and
# length, fewer bytes once NULs go; over TCP a 2-byte frame length may come first). The
# second branch is classic STUN (RFC 3489, no cookie): a Binding Request answered by a
# Binding Response whose first attribute is MAPPED-ADDRESS (type 1, length 8, IPv4).
# WebRTC media (DTLS, SRTP) follows the STUN checks on the same flow.

stun
^.{0,6}!\x12\xa4b|^\x01[\x01-\x7f]?.{12,16}.{0,40}\x01\x01[\x01-\x7f]?.{12,16}\x01\x08\x01

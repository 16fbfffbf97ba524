# DTLS - Datagram Transport Layer Security - RFC 9147
# Pattern attributes: good veryfast
# Protocol groups: secure ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Datagram_Transport_Layer_Security
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# A DTLS 1.0 or 1.2 record header (content type, version 254.255 or 254.253). WebRTC
# sends DTLS after its STUN connectivity checks, so those flows are usually stun.

dtls
^[\x14-\x17]\xfe[\xfd\xff]

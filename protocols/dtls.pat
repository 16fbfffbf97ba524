# DTLS - Datagram Transport Layer Security - RFC 9147
# Pattern attributes: good veryfast
# Protocol groups: secure ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Datagram_Transport_Layer_Security
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# A DTLS 1.0 or 1.2 record header (content type, version 254.255 or 254.253). WebRTC
# sends DTLS after its STUN connectivity checks, so those flows are usually stun.
#
# Cisco AnyConnect still speaks the pre-standard DTLS version 1.0 (0x0100, OpenSSL's
# DTLS1_BAD_VER). Its first record is a handshake record in epoch 0 whose sequence number
# and length are mostly NULs: the `packet pattern=` line reads the datagram as it is
# (content type 22, version 1.0, epoch 0, a 6-byte sequence number below 2^16, a length,
# then a ClientHello, HelloVerifyRequest or ServerHello with a 24-bit length below 64 KB).

dtls
^[\x14-\x17]\xfe[\xfd\xff]
packet pattern=^\x16\x01\x00\x00\x00\x00\x00\x00\x00[\x00-\xff]{2}[\x00-\xff]{2}[\x01\x02\x03]\x00

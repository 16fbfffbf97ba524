# QUIC - multiplexed transport over UDP (HTTP/3) - RFC 9000, RFC 9369
# Pattern attributes: great veryfast
# Protocol groups: document_retrieval secure ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/QUIC
# Copyright (C) 2026 Sluice contributors
# Aliases: http3 gquic
# Transport: udp
#
# An Initial packet: long header (form and fixed bits set, type Initial), then the
# version - 1 (0x00000001 is just 0x01 once NULs are gone), draft versions 0xff0000xx,
# Facebook's mvfst 0xfaceb00x or a reserved 0x?a?a?a?a grease version - then a
# destination connection ID length of 8 to 20 (a 0-RTT packet, type 1, may overtake the
# Initial). QUIC version 2 (0x6b3343cf) encodes Initial as long-header type 1. Google
# QUIC is recognised by its Q0xx/T0xx version, in the IETF-style header (Q046 and later)
# or the old public header (flags with the version and 8-byte connection ID bits set).

quic
^([\xc0-\xdf](\x01|\xff[\x11-\x22]|\xfa\xce\xb0[\x01-\x0f]|[\x0a\x1a\x2a\x3a\x4a\x5a\x6a\x7a\x8a\x9a\xaa\xba\xca\xda\xea\xfa]{4})[\x08-\x14]|[\xd0-\xdf]\x6b\x33\x43\xcf[\x08-\x14]|[\xc0-\xcf][qt]0[4-9][0-9]|[\x09\x0b\x0d\x0f\x19\x1b\x1d\x1f\x29\x2b\x2d\x2f\x39\x3b\x3d\x3f].{0,8}q0[0-4][0-9])

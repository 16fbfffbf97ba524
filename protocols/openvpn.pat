# OpenVPN - SSL/TLS VPN
# Pattern attributes: good fast
# Protocol groups: networking secure open_source
# Wiki: https://en.wikipedia.org/wiki/OpenVPN
# Copyright (C) 2026 Sluice contributors
#
# The client's P_CONTROL_HARD_RESET (opcode 7 or 10) and its session ID, then the
# server's reset (opcode 8) acknowledging it - without tls-auth, with tls-auth (HMAC,
# packet id 1 and a timestamp) or with tls-crypt. The third branch covers captures that
# missed a reset: a reset followed by a P_CONTROL_V1 (opcode 4) carrying the TLS hello.
# Over TCP every packet has a 2-byte length first.

openvpn
^.?.?[\x38\x50].{6,8}(.{16,64}\x01[\x4f-\x7f].{3})?.?.?\x40.{6,8}(.{16,64}\x01[\x4f-\x7f].{3})?\x01|^.?.?[\x38\x50].{6,8}\x01[\x4f-\x7f].{3}.{32,100}.?.?\x40.{6,8}\x01[\x4f-\x7f]|^.?.?[\x38\x40].{6,200}\x20.{6,100}\x16\x03[\x01-\x03].?.?[\x01\x02].?.?\x03[\x01-\x03]

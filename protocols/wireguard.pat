# WireGuard - modern VPN tunnel
# Pattern attributes: ok veryfast
# Protocol groups: networking secure open_source
# Wiki: https://en.wikipedia.org/wiki/WireGuard
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# A handshake initiation (type 1, 148 bytes, its last 16 bytes usually zero) followed by
# the responder's handshake response (type 2, 92 bytes) and the next message. The sizes
# are what identifies it: the reserved and mac2 fields are zeros and disappear, the rest
# is random. Transport data packets (type 4) are indistinguishable from random, so
# tunnels picked up later are not recognised.

wireguard
^\x01.{125,128}\x02.{69,72}[\x01-\x04]

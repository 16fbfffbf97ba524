# eDonkey2000 and eMule - peer-to-peer file sharing
# Pattern attributes: ok veryfast
# Protocol groups: p2p file
# Wiki: https://en.wikipedia.org/wiki/EDonkey_network
# Copyright (C) 2026 Sluice contributors
# Aliases: emule ed2k
# Transport: tcp
#
# The TCP Hello: protocol byte 0xe3 (eDonkey) or 0xc5 (eMule), 4-byte length, opcode 1
# and the user hash size 16.

edonkey
^[\xe3\xc5][\x01-\xff].?.?.?\x01\x10

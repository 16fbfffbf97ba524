# Discord voice - UDP IP discovery of Discord voice connections
# Pattern attributes: good veryfast
# Protocol groups: voip chat proprietary
# Wiki: https://en.wikipedia.org/wiki/Discord
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# Before voice, the client sends an IP discovery request (type 1, length 70, its SSRC)
# and the voice server answers (type 2) with the client's public address as text. Voice
# connections also send 8-byte keep-alives that start with 0x1337cafe. The media that
# follows is encrypted RTP.

discord
^\x01F.{1,8}\x02F.{1,4}[0-9a-f:.]{7,45}|^\x137\xca\xfe

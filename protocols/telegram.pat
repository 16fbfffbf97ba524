# Telegram - calls relayed by Telegram's reflectors (tgvoip)
# Pattern attributes: ok veryfast
# Protocol groups: voip chat proprietary
# Wiki: https://en.wikipedia.org/wiki/Telegram_(software)
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# A voice/video call through a Telegram relay: a 16-byte peer tag followed by the
# reflector's special-packet marker. Telegram chat (MTProto) is obfuscated and has no
# signature.

telegram
^.{8,16}\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff

# TeamSpeak 2 and 3 - voice chat for games
# Pattern attributes: good veryfast
# Protocol groups: voip game proprietary
# Wiki: https://en.wikipedia.org/wiki/TeamSpeak
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# TeamSpeak 3 clients open with "TS3INIT1"; TeamSpeak 2 logins start with f4 be 03.

teamspeak
^ts3init1|^\xf4\xbe\x03

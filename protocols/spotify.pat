# Spotify - Spotify Connect LAN discovery
# Pattern attributes: good veryfast
# Protocol groups: streaming_audio proprietary
# Wiki: https://en.wikipedia.org/wiki/Spotify
# Copyright (C) 2026 Sluice contributors
#
# The desktop client's UDP broadcasts on port 57621 start with "SpotUdp". Music streams
# themselves are ssl. The second branch is the client's hello to an access point
# (protocol 4, then a protobuf ClientHello starting with build_info).

spotify
^spotudp[0-9]|^\x04.{1,3}R[\x0c-\x20]P[\x01-\x0f]\xa0\x01

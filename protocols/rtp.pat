# RTP and RTCP - Real-time Transport Protocol - RFC 3550
# Pattern attributes: marginal veryfast overmatch
# Protocol groups: voip streaming_audio streaming_video ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/Real-time_Transport_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# Version 2 header with a static payload type (PCMU is 0, a NUL: it cannot be seen
# unless the marker bit is set) or a dynamic one, or an RTCP sender/receiver report. RTP
# has no real signature: this overmatches random UDP, so it is listed last. The media
# streams of WebRTC start with STUN and are stun.

rtp
^[\x80\x90][\x01-\x22\x60-\x7f\x80-\xa2\xe0-\xff].{8}|^[\x80-\x83][\xc8\xc9].?[\x01-\x3f].{4}

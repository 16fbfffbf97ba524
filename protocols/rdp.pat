# RDP - Microsoft Remote Desktop Protocol - [MS-RDPBCGR]
# Pattern attributes: great veryfast
# Protocol groups: remote_access proprietary
# Wiki: https://en.wikipedia.org/wiki/Remote_Desktop_Protocol
# Copyright (C) 2026 Sluice contributors
# Aliases: ms-rdp terminal-services
#
# A TPKT (version 3) carrying an X.224 Connection Request (0xe0) with either the
# mstshash/msts cookie or an RDP negotiation request (type 1, length 8). RDP then
# usually switches to TLS; it stays rdp because the first packet decided. Over UDP
# (MS-RDPEUDP) the SYN datagram has snSourceAck -1, a receive window of 64 and
# upstream/downstream MTUs between 1200 and 1232.

rdp
^\x03.?.?.?\xe0.?.?.?(cookie: msts|\x01[\x01-\x0f]?\x08)|^\xff\xff\xff\xff@.{0,6}\x04[\xb0-\xd0]\x04[\xb0-\xd0]

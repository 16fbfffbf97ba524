# NTP - Network Time Protocol - RFC 5905
# Pattern attributes: good veryfast
# Protocol groups: time_synchronization ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Network_Time_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# A client request (mode 3, versions 1 to 4; mostly zeros, so little survives) answered
# by a server reply (mode 4) with a plausible stratum, poll and precision; or a single
# full client or server header (stratum, poll, precision) followed by timestamps of
# this era (2002-2027); or an ntpd mode 7 MON_GETLIST request or response (monlist).

ntp
^[\x0b\x13\x1b\x23\xcb\xd3\xdb\xe3].{0,47}[\x0c\x14\x1c\x24\xcc\xd4\xdc\xe4][\x01-\x10][\x01-\x11]?[\xe0-\xfa]|^[\x0b\x0c\x13\x14\x1b\x1c\x23\x24\xcb\xcc\xd3\xd4\xdb\xdc\xe3\xe4][\x01-\x10][\x01-\x11]?[\xe0-\xfa].{4,16}[\xc0-\xef].{3,7}[\xc0-\xef]|^[\x17\x1f\x27\x97\x9f\xa7\xd7\xdf\xe7].?[\x02\x03]\x2a

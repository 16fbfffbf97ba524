# NTP - Network Time Protocol - RFC 5905
# Pattern attributes: good veryfast
# Protocol groups: time_synchronization ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Network_Time_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# An NTP header (client or server mode, versions 1 to 4) with a plausible stratum, poll
# and precision, followed by two timestamps of this era (2010-2027), possibly after an
# SNTP client request, which is all zeros but for the transmit timestamp and so shrinks
# to at most 9 bytes; or an ntpd mode 7 MON_GETLIST request or response (the monlist
# query). An SNTP request alone (any version, the reply not seen yet) is recognised at its
# first packet: the mode 3 header byte, then nothing but the transmit timestamp of this
# era (`$`: the 48-byte packet shrank to at most 9 bytes), or chrony's request (poll and
# precision set, a random transmit timestamp: at most 11 bytes left).

ntp
^([\x0b\x13\x1b\x23\xcb\xd3\xdb\xe3].{0,11})?[\x0b\x0c\x13\x14\x1b\x1c\x23\x24\xcb\xcc\xd3\xd4\xdb\xdc\xe3\xe4][\x01-\x10][\x01-\x11]?[\xe0-\xfa].{0,16}[\xd0-\xef].{3,7}[\xd0-\xef]|^[\x17\x1f\x27\x97\x9f\xa7\xd7\xdf\xe7].?[\x02\x03]\x2a|^[\x0b\x13\x1b\x23\xcb\xd3\xdb\xe3][\xd0-\xef].{3,7}$|^[\x0b\x13\x1b\x23\xcb\xd3\xdb\xe3][\x01-\x11][\x20\xe0-\xfa].{5,8}$

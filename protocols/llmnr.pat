# LLMNR - Link-Local Multicast Name Resolution - RFC 4795
# Pattern attributes: good veryfast
# Protocol groups: networking ietf_rfc_documented
# Wiki: https://en.wikipedia.org/wiki/Link-Local_Multicast_Name_Resolution
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# LLMNR has the DNS format, but queries carry no flags at all (DNS queries ask for
# recursion) and ask for a single-label name (a host name without a domain). The second
# form is a response (flags 0x8000, one question, one answer). Must be listed after
# netbios and mdns, before dns. The name starts with an ASCII letter, digit, - or _, or a
# UTF-8 lead byte (never a continuation byte).

llmnr
^.?.?(\x80\x01\x01?|\x01)[\x01-\x3f][-_a-z0-9\xc2-\xf4][-_a-z0-9\x80-\xff]{0,62}[\x01\x0c\x1c!\xff]\x01

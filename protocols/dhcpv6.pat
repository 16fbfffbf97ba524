# DHCPv6 - Dynamic Host Configuration Protocol for IPv6 - RFC 8415
# Pattern attributes: good veryfast
# Protocol groups: networking ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/DHCPv6
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# A client message (Solicit ... Information-request) carrying both a Client Identifier
# option (code 1, a DUID of type 1 to 4) and the Elapsed Time option (code 8, length 2)
# that clients must send.

dhcpv6
^[\x01-\x0b].{1,120}(\x01[\x0a-\x1e]([\x01\x03]\x01|[\x02\x04]).{0,120}\x08\x02|\x08\x02.{0,120}\x01[\x0a-\x1e]([\x01\x03]\x01|[\x02\x04]))

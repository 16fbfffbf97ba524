# DHCP - Dynamic Host Configuration Protocol (and BOOTP) - RFC 2131
# Pattern attributes: great veryfast
# Protocol groups: networking ietf_draft_standard
# Wiki: https://en.wikipedia.org/wiki/Dynamic_Host_Configuration_Protocol
# Copyright (C) 2026 Sluice contributors
# Aliases: bootp
# Transport: udp
#
# BOOTREQUEST/BOOTREPLY with Ethernet hardware addresses (htype 1, hlen 6), then the
# DHCP magic cookie 99.130.83.99 after the (mostly zero) fixed fields.

dhcp
^[\x01\x02]\x01\x06.{0,240}c\x82sc

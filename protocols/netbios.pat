# NetBIOS over TCP/IP - name, datagram and session services - RFC 1002
# Pattern attributes: great veryfast
# Protocol groups: networking ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/NetBIOS_over_TCP/IP
# Copyright (C) 2026 Sluice contributors
# Aliases: nbns nbss nbds netbios-ns netbios-ssn
#
# All three services carry NetBIOS names in "first level encoding": a length byte of 32
# followed by 32 letters A to P. That name appears within the first bytes of a name
# query or registration (UDP 137), a datagram (UDP 138) and a session request (TCP 139).
# Must be listed before llmnr and dns: the name service shares the DNS format. A name
# service question is also recognised by what follows the 32 name bytes: question type
# NB (0x20) or NBSTAT (0x21) and class IN, so a name with a damaged letter (outside A-P)
# is still NetBIOS, not DNS (a DNS name never ends in a 30-33 byte label).

netbios
^.{0,14} [a-p]{32}|^.{0,14}[\x1e-\x21][!-~]{30,33}[ !]\x01

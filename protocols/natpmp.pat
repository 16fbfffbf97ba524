# NAT-PMP - NAT Port Mapping Protocol - RFC 6886
# Pattern attributes: good veryfast
# Protocol groups: networking ietf_informational
# Wiki: https://en.wikipedia.org/wiki/NAT_Port_Mapping_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: udp
# Subject: packet
# Aliases: nat-pmp
#
# A client asks its gateway (UDP port 5351) for the external address or a port mapping.
# Its messages are mostly NUL bytes (the external address request is two of them), so the
# pattern reads each datagram as it is, NULs kept (`Subject: packet`): a request for the
# external address (version 0, opcode 0: exactly two bytes), a mapping request (opcode 1
# UDP or 2 TCP, two reserved zero bytes, then the ports and the lifetime: 12 bytes), or the
# gateway's answer (opcode 128 + the request's, a result code 0-5, then its epoch and the
# address, or the mapping: 12 or 16 bytes). PCP (RFC 6887, version 2) is not recognised.

natpmp
^(\x00\x00|\x00[\x01\x02]\x00\x00[\x00-\xff]{8}|\x00\x80\x00[\x00-\x05][\x00-\xff]{8}|\x00[\x81\x82]\x00[\x00-\x05][\x00-\xff]{12})$

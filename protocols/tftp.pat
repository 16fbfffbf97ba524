# TFTP - Trivial File Transfer Protocol - RFC 1350
# Pattern attributes: good veryfast
# Protocol groups: file ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/Trivial_File_Transfer_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# A read or write request (opcode 1 or 2, file name, transfer mode; the NULs between
# them disappear), an option acknowledgement (opcode 6, RFC 2347), or - on the server's
# new port - DATA block 1 answered by ACK block 1.

tftp
^[\x01\x02][ -~]{1,255}(netascii|octet|mail)|^\x06(blksize|tsize|timeout|windowsize)|^\x03\x01.{1,512}\x04\x01

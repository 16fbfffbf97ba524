# FTP data - the data connection of an FTP session (active or passive) - RFC 959, RFC 2428
# Pattern attributes: great veryfast
# Protocol groups: file ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/File_Transfer_Protocol
# Copyright (C) 2026 Sluice contributors
# Aliases: ftpdata
# Related to: ftp
#
# A data connection carries raw file contents and listings: no signature can recognise
# it. Its verdict comes from its control connection instead: the PORT/EPRT command or the
# 227/229 reply to PASV/EPSV announces its address and port (any port, IPv4 or IPv6), and
# the new connection that fits is ftp-data from its first packet (offline: Sluice's
# expectation table; live: the kernel's FTP conntrack helper, see docs/accuracy.md). The
# pattern below can never match (NUL bytes are stripped before matching): it only gives
# the protocol its name and mark.

ftp-data
^\x00

# SMTP - Simple Mail Transfer Protocol - RFC 5321
# Pattern attributes: great veryfast
# Protocol groups: mail ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/Simple_Mail_Transfer_Protocol
# Copyright (C) 2026 Sluice contributors
# Aliases: esmtp submission
# Transport: tcp
#
# A 220 greeting that names (E)SMTP or mail, or any 220 greeting answered by EHLO/HELO.
# ftp must be listed first: FTP greetings are also 220 lines. Covers submission (587)
# and the plaintext part of STARTTLS sessions.

smtp
^220[- ][^\r\n]*(smtp|mail)|^220[- ][\x09-\x0d -~]*\r\n(ehlo|helo) |^(ehlo|helo) [!-~]+\r?\n

# FTP - File Transfer Protocol, control connection - RFC 959
# Pattern attributes: great veryfast
# Protocol groups: file ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/File_Transfer_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# A 220 greeting that mentions FTP, or any 220 greeting followed by a typical first
# client command. Must be listed before smtp. Data connections carry raw file contents
# and are not recognised.

ftp
^220[- ][^\r\n]*ftp|^220[- ][\x09-\x0d -~]*\r\n(user [!-~]+|auth (tls|ssl)|feat|syst|opts utf8 on)\r?\n

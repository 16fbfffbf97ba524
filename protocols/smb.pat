# SMB - Server Message Block / CIFS, versions 1 to 3 - [MS-SMB2]
# Pattern attributes: great veryfast
# Protocol groups: file proprietary
# Wiki: https://en.wikipedia.org/wiki/Server_Message_Block
# Copyright (C) 2026 Sluice contributors
# Aliases: cifs smb2
# Transport: tcp
#
# SMB messages travel in 4-byte length-prefixed frames (the NetBIOS session header,
# whose zero bytes disappear) and start with 0xff 'SMB' (SMB1), 0xfe 'SMB' (SMB2/3) or
# 0xfd 'SMB' (SMB3 transform header).

smb
^.?.?.?[\xfd-\xff]smb

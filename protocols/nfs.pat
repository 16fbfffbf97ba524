# NFS - Network File System over ONC RPC, with mountd, lockd and statd - RFC 7530, RFC 1813
# Pattern attributes: good veryfast
# Protocol groups: file ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Network_File_System
# Copyright (C) 2026 Sluice contributors
# Aliases: sunrpc-nfs mountd
#
# An ONC RPC call (RFC 5531: xid, message type 0, RPC version 2) to program 100003
# (nfs), 100005 (mountd), 100021 (nlockmgr), 100024 (status) or 100227 (nfs_acl), or a
# portmapper GETPORT asking for one of them. Over TCP a 4-byte record mark comes first.
# Replies alone (a capture that missed the call) are not recognised.

nfs
^.{0,8}\x02(\x01\x86[\xa3\xa5\xb5\xb8]|\x01\x87\x83)[\x01-\x04]|^.{0,8}\x02\x01\x86\xa0[\x02-\x04]\x03.{0,200}\x01(\x86[\xa3\xa5\xb5\xb8]|\x87\x83)

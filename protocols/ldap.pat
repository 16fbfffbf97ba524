# LDAP - Lightweight Directory Access Protocol - RFC 4511
# Pattern attributes: good veryfast
# Protocol groups: networking ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Lightweight_Directory_Access_Protocol
# Copyright (C) 2026 Sluice contributors
# Aliases: cldap
#
# A BER LDAPMessage: SEQUENCE, messageID, then a bind request (version 2 or 3), search
# request, extended request (StartTLS), bind response or search result entry.

ldap
^0(\x84.?.?.?.?|\x82.?.?|\x81.|[\x05-\x7f])\x02[\x01-\x04].{1,4}(`[\x81-\x84]?.{0,4}\x02\x01[\x02\x03]|c[\x81-\x84]?.{0,4}\x04|w[\x81-\x84]?.{0,4}\x80|a[\x81-\x84]?.{0,4}\x0a\x01|d[\x81-\x84]?.{0,4}\x04)

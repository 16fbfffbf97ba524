# Kerberos 5 - network authentication - RFC 4120
# Pattern attributes: great veryfast
# Protocol groups: networking secure ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Kerberos_(protocol)
# Copyright (C) 2026 Sluice contributors
# Aliases: krb5
#
# A DER-encoded AS-REQ, AS-REP, TGS-REQ, TGS-REP, AP-REQ or KRB-ERROR: application tag,
# SEQUENCE, then pvno 5 and the matching msg-type. Over TCP a 4-byte length comes first.

kerberos
^.{0,4}[j-n~][\x01-\x84].?.?.?0[\x01-\x84].?.?.?[\xa0\xa1]\x03\x02\x01\x05[\xa1\xa2]\x03\x02\x01[\x0a-\x0e\x1e]

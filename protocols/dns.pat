# DNS - Domain Name System, over UDP and TCP - RFC 1035
# Pattern attributes: great veryfast
# Protocol groups: networking ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/Domain_Name_System
# Copyright (C) 2026 Sluice contributors
# Aliases: domain
#
# The header of a standard query (RD flag, one question) or response (QR set), with the
# zero count bytes gone, then the question: a name in length-prefixed labels whose last
# label looks like a top-level domain (a letter first), then a type (any: new types keep
# appearing) and class IN, CHAOS or ANY. The leading bytes are the random ID, plus the
# 2-byte length over TCP. mdns, llmnr and netbios use the same format and must come
# first. The second form is a query for the root (an empty name: the NS priming query of
# a resolver, or an SOA/ANY one) with an EDNS OPT record (type 41, `)`).

dns
^.{0,4}(\x01?[\x10\x20\x30]?\x01\x01?|[\x80-\x87][\x01-\x05\x10\x20\x30\x80-\x85\x90\xa0-\xa5\xb0]?\x01.{0,6})([\x01-\x3f][-_a-z0-9*]{1,63})*[\x02-\x3f][a-z][-a-z0-9]{1,62}[\x01-\xff]{1,2}[\x01\x03\xff]|^.{0,4}(\x01[\x10\x20\x30]?)?\x01\x01[\x02\x06\x30\xff]\x01\)

# IPsec IKE - Internet Key Exchange versions 1 and 2 - RFC 7296, RFC 2409
# Pattern attributes: good veryfast
# Protocol groups: networking secure ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/Internet_Key_Exchange
# Copyright (C) 2026 Sluice contributors
# Aliases: ike isakmp
#
# An ISAKMP header: initiator and responder SPIs (the responder's is zero in the first
# message), next payload, version (2.0 or 1.0), exchange type (IKE_SA_INIT, IKE_AUTH,
# CREATE_CHILD_SA, INFORMATIONAL; or Main, Aggressive, Informational, Quick Mode).
# On UDP 4500 the 4 zero bytes of the non-ESP marker disappear. ESP itself is
# not a UDP/TCP payload.

ipsec
^.{4,16}([\x21\x22\x24-\x30] [\x22-\x25]|[\x01-\x0d]\x10[\x02\x04\x05\x20])

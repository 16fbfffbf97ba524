# IPsec IKE - Internet Key Exchange versions 1 and 2 - RFC 7296, RFC 2409
# Pattern attributes: good veryfast
# Protocol groups: networking secure ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/Internet_Key_Exchange
# Copyright (C) 2026 Sluice contributors
# Aliases: ike isakmp
#
# An ISAKMP header: initiator and responder SPIs (the responder's is zero in the first
# message), next payload, version and exchange type: an IKEv2 IKE_SA_INIT (first payload
# SA), an encrypted IKEv2 exchange (IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL, first
# payload SK) with its flags, or an IKEv1 Main or Aggressive Mode message whose SA
# payload has DOI 1 (IPsec) and situation 1. On UDP 4500 the 4 zero bytes of the non-ESP
# marker disappear. ESP itself is not a UDP/TCP payload.

ipsec
^.{4,16}(! \x22|[.)] [\x22-\x25][\x08\x20\x28]|\x01\x10[\x02\x04].{1,6}\x01\x01)

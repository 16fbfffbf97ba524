# H.323 - ITU-T multimedia conferencing (H.225 call signalling, RAS, H.245)
# Pattern attributes: good fast
# Protocol groups: voip
# Wiki: https://en.wikipedia.org/wiki/H.323
# Copyright (C) 2026 Sluice contributors
# Aliases: h225 h245
#
# H.225.0 and H.245 messages carry their protocol identifier, the object identifier
# 0.0.8.2250.0.v (or 0.0.8.245.0.v) in PER encoding, near the start: in the User-user
# information element of a Q.931 SETUP over TPKT, and in every RAS message over UDP.

h323
^.{0,160}\x06?\x08(\x91j|\x81u)[\x01-\x07]

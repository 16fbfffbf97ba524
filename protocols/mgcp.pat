# MGCP - Media Gateway Control Protocol - RFC 3435
# Pattern attributes: great veryfast
# Protocol groups: voip ietf_rfc_documented
# Wiki: https://en.wikipedia.org/wiki/Media_Gateway_Control_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# A command line: verb, transaction id, endpoint, MGCP version.

mgcp
^(auep|aucx|crcx|dlcx|epcf|mdcx|ntfy|rqnt|rsip|mesg) [0-9]{1,9} [!-~]+ mgcp [01]\.[0-9]

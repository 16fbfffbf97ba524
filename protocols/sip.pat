# SIP - Session Initiation Protocol - RFC 3261
# Pattern attributes: great fast
# Protocol groups: voip ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Session_Initiation_Protocol
# Copyright (C) 2026 Sluice contributors
#
# A request line (method, SIP or SIPS URI, SIP/2.0) anywhere in the first packets, or a
# status line at the start.

sip
(invite|register|options|ack|bye|cancel|subscribe|notify|refer|message|info|prack|update|publish) sips?:[!-~]+ sip/2\.0\r?\n|^sip/2\.0 [1-6][0-9][0-9] 

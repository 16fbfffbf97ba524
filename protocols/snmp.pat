# SNMP - Simple Network Management Protocol v1, v2c, v3 - RFC 3416
# Pattern attributes: great veryfast
# Protocol groups: monitoring ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/Simple_Network_Management_Protocol
# Copyright (C) 2026 Sluice contributors
# Aliases: snmptrap
#
# A BER SEQUENCE with version 0/1 (v1/v2c; version 0 is a NUL), the community string and
# a PDU tag (GetRequest ... Report), or version 3 followed by the msgGlobalData
# SEQUENCE.

snmp
^0[\x01-\x84].?.?\x02\x01(\x01?\x04[\x01-\x7f][!-~]{0,64}[\xa0-\xa8]|\x030[\x01-\x84].?.?\x02)

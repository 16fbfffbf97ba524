# RADIUS - Remote Authentication Dial-In User Service - RFC 2865, RFC 2866
# Pattern attributes: ok veryfast
# Protocol groups: networking secure ietf_draft_standard
# Wiki: https://en.wikipedia.org/wiki/RADIUS
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# An Access-Request or Accounting-Request: code, identifier, length, 16-byte
# authenticator, then a User-Name attribute (type 1) followed by a typical second
# attribute (User-Password, CHAP-Password, NAS-IP-Address, NAS-Port, Service-Type,
# Calling-Station-Id, NAS-Identifier, EAP-Message, Message-Authenticator), or an
# Accounting-Request starting with Acct-Status-Type (40).

radius
^[\x01\x04].{13,19}\x01[\x03-\x48][!-~]{1,70}(\x02[\x12\x22\x32\x42]|\x03\x13|[\x04-\x07]\x06|[\x1e\x1f\x20][\x03-\x40][!-~]|O[\x03-\xff]|P\x12|\x28\x06[\x01-\x0f])|^\x04.{13,19}\x28\x06[\x01-\x0f]

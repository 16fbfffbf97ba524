# CoAP - Constrained Application Protocol (UDP 5683) - RFC 7252
# Pattern attributes: good veryfast
# Protocol groups: networking ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Constrained_Application_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: udp
#
# A request: version 1, confirmable or non-confirmable, a token of at most 8 bytes, a
# method code (GET, POST, PUT, DELETE, FETCH, PATCH, iPATCH), the message id and token
# (zeros vanish), then a first option whose value is text: Uri-Host (3), Uri-Path (11)
# or an option 1-2 delta before them, followed by the start of a name or path. Dropbox's
# LAN sync speaks CoAP too and is dropbox, listed before.

coap
^[\x40-\x48\x50-\x58][\x01-\x07].{0,10}[\x21-\x2c\x31-\x3c\xb1-\xbc][-._~a-z0-9]{3}

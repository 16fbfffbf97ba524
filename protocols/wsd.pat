# WS-Discovery - Web Services Dynamic Discovery (printers, scanners, Windows network)
# Pattern attributes: great fast
# Protocol groups: networking
# Wiki: https://en.wikipedia.org/wiki/WS-Discovery
# Copyright (C) 2026 Sluice contributors
# Aliases: ws-discovery
# Transport: udp
#
# SOAP envelopes over UDP multicast port 3702 that use the WS-Discovery namespace.

wsd
^<\?xml[^>]*>.{0,200}envelope.{0,1000}(schemas\.xmlsoap\.org/ws/2005/04/discovery|docs\.oasis-open\.org/ws-dd/ns/discovery)

# SSDP - Simple Service Discovery Protocol (UPnP)
# Pattern attributes: great veryfast
# Protocol groups: networking
# Wiki: https://en.wikipedia.org/wiki/Simple_Service_Discovery_Protocol
# Copyright (C) 2026 Sluice contributors
# Aliases: upnp
# Transport: udp
#
# HTTP over UDP multicast: M-SEARCH and NOTIFY requests, and the unicast search
# responses with ST/USN headers.

ssdp
^(m-search|notify) \* http/1\.[01]\r?\n|^http/1\.[01] 200 ok\r?\n.*(\r\nst:|\r\nusn:|upnp:rootdevice|urn:schemas-upnp-org)

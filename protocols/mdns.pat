# mDNS - Multicast DNS - RFC 6762
# Pattern attributes: good veryfast
# Protocol groups: networking ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Multicast_DNS
# Copyright (C) 2026 Sluice contributors
# Aliases: bonjour zeroconf
# Transport: udp
#
# Multicast DNS uses the DNS message format with a zero ID, so the first bytes are just
# the flags and counts; the first name of the message ends in .local (host names and
# DNS-SD service types such as _googlecast._tcp.local). Must be listed before llmnr and
# dns.

# Labels are written as [\x01-\x3f][ -\xff]+ rather than {1,63}: a counted repetition
# nested in {1,6} made RE2's automaton explode (0.8 ms per 2 KB buffer instead of µs).
mdns
^.{0,8}([\x01-\x3f][ -\xff]+){1,6}\x05local[\x01-\x21\xff]

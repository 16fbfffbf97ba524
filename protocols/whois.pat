# WHOIS - domain and address registration queries - RFC 3912
# Pattern attributes: ok veryfast
# Protocol groups: networking ietf_draft_standard
# Wiki: https://en.wikipedia.org/wiki/WHOIS
# Copyright (C) 2026 Sluice contributors
# Aliases: nicname
# Transport: tcp
#
# A one-line query answered by a registry's or registrar's typical response.

whois
^[-a-z0-9.:/ =+@]{1,253}\r\n[\x09-\x0d -~]*(domain name: |registrar|% this is the ripe|% iana whois|whois server|netrange:|inetnum:|no match for|% \[whois\.apnic\.net\]|whois database)

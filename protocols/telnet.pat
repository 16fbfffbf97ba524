# Telnet - remote terminal - RFC 854
# Pattern attributes: good veryfast
# Protocol groups: remote_access ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/Telnet
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# Telnet sessions open with option negotiation: IAC (255) followed by WILL, WONT, DO or
# DONT and an option, twice in a row. Option 0 (binary) is a NUL and disappears, hence
# the optional byte. Sessions without negotiation (raw "telnet" to a banner) are not
# telnet from the wire's point of view.

telnet
^\xff[\xfb-\xfe].?\xff[\xfa-\xfe]

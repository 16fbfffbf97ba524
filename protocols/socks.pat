# SOCKS - proxy protocol versions 4, 4a and 5 - RFC 1928
# Pattern attributes: good veryfast
# Protocol groups: networking proxy
# Wiki: https://en.wikipedia.org/wiki/SOCKS
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# SOCKS4/4a: version 4, command CONNECT or BIND, port, address, user id (and host name
# for 4a), then the server's reply code 90-93. SOCKS5: the method negotiation (version
# 5, number of methods, methods; the no-auth method 0 is a NUL and disappears), the
# server's choice, optional authentication, then the request (version 5,
# CONNECT/BIND/UDP ASSOCIATE, address type).

socks
^\x04[\x01\x02].{1,6}[!-~]{0,64}[\x5a-\x5d]|^\x05[\x01-\x09][\x01-\x09\x80-\xfe]{0,9}\x05.{0,520}\x05[\x01-\x03][\x01\x03\x04]

# HTTP - Hypertext Transfer Protocol/1.x - RFC 9112
# Pattern attributes: great fast
# Protocol groups: document_retrieval ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/HTTP
# Copyright (C) 2026 Sluice contributors
# Aliases: http1 www
# Transport: tcp
#
# Matches the request line of a client (the method list covers RFC 9110 and WebDAV) or,
# for connections picked up in the middle, a server's status line. CONNECT is left to
# httpconnect, and the protocols that speak HTTP syntax (websocket, http2 upgrades, rtsp
# tunnels, bittorrent trackers, gnutella downloads) must be listed before http. TCP
# only: HTTP-over-UDP multicast is ssdp.

http
^(get|post|head|put|delete|options|patch|trace|propfind|proppatch|mkcol|copy|move|lock|unlock|report|search|mkcalendar|purge) [!-~]+ http/[0-3](\.[0-9])?\r?\n|^http/[0-3](\.[0-9])? [1-5][0-9][0-9]( |\r?\n)

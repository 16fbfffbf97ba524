# HTTP CONNECT - tunnel through an HTTP proxy - RFC 9110 section 9.3.6
# Pattern attributes: great veryfast
# Protocol groups: document_retrieval networking ietf_internet_standard
# Wiki: https://en.wikipedia.org/wiki/HTTP_tunnel
# Copyright (C) 2026 Sluice contributors
# Aliases: http-connect
# Transport: tcp
#
# A client asks a proxy to open a tunnel (usually TLS) to host:port. Everything after
# the proxy's "200" belongs to this connection, so the tunnel stays httpconnect.

httpconnect
^connect [-.a-z0-9_%\[\]:]+:[0-9]{1,5} http/1\.[01]\r?\n

# HTTP/2 - Hypertext Transfer Protocol version 2 in cleartext (h2c) - RFC 9113
# Pattern attributes: great veryfast
# Protocol groups: document_retrieval ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/HTTP/2
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# Prior-knowledge h2c starts with the connection preface PRI * HTTP/2.0; an HTTP/1.1
# request may also ask to upgrade with "Upgrade: h2c". HTTP/2 over TLS is ssl (ALPN is
# inside the encrypted-later handshake, not worth a pattern).

http2
^pri \* http/2\.0\r\n\r\nsm\r\n\r\n|^(get|head|options|post) [!-~]+ http/1\.1\r\n([^\r\n]*\r\n)*upgrade: *h2c\r?\n

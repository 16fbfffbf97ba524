# SSL and TLS - Transport Layer Security, any version up to 1.3 - RFC 8446
# Pattern attributes: great veryfast
# Protocol groups: secure ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Transport_Layer_Security
# Copyright (C) 2026 Sluice contributors
# Aliases: tls https
# Transport: tcp
#
# Every TLS record starts with a content type (20 change_cipher_spec, 21 alert, 22
# handshake, 23 application data) and a 3.x version; so this matches a ClientHello, a
# ServerHello (captures that only see the server) and connections picked up in the
# middle. The second branch covers SSL 3.0 hellos, whose 3.0 version loses its NUL. TLS
# 1.3 still sends 3.1/3.3 in the record layer. Protocols that carry TLS after a
# plaintext start (STARTTLS, postgres, rdp, openvpn) are caught by their own pattern
# first. DTLS is a separate pattern (dtls).

ssl
^([\x14-\x17]\x03[\x01-\x04]|\x16\x03.?.?[\x01\x02].?.?\x03)

# WebSocket - full-duplex messages over an upgraded HTTP connection - RFC 6455
# Pattern attributes: good fast
# Protocol groups: document_retrieval ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/WebSocket
# Copyright (C) 2026 Sluice contributors
# Aliases: ws
# Transport: tcp
#
# The opening handshake is an HTTP/1.1 GET with "Upgrade: websocket" (must be listed
# before http). The second branch recognises a connection picked up after the handshake:
# an unmasked text frame from the server followed by a masked text frame from the
# client.

websocket
^get [!-~]+ http/1\.1\r?\n([!-~]+:[^\r\n]*\r?\n)*upgrade: *websocket|^\x81[\x06-\x7d][\x09\x0a\x0d -~]{6}.{0,120}\x81[\x86-\xfd]

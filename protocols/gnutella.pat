# Gnutella and Gnutella2 - peer-to-peer file sharing
# Pattern attributes: good fast
# Protocol groups: p2p file open_source
# Wiki: https://en.wikipedia.org/wiki/Gnutella
# Copyright (C) 2026 Sluice contributors
# Aliases: gnutella2 g2
#
# The TCP handshake GNUTELLA CONNECT/0.6 and its answer, downloads by URN or index with
# Gnutella headers, push (GIV), Gnutella2 UDP packets ("GND" and flags) and Gnutella's
# Kademlia DHT (Mojito: a Gnutella message header with function 0x44 'D', then the
# opcode and the vendor code of one of the two servents that implement it, gtk-gnutella
# (GTKG) or LimeWire (LIME)).

gnutella
^gnutella connect/[0-9]\.[0-9]\r?\n|^gnutella/[0-9]\.[0-9] [0-9]{3}|^(get|head) /(uri-res/n2r\?urn:sha1:|get/[0-9]+/)[^\r\n]* http/1\.[01]\r?\n([!-~]+:[^\r\n]*\r?\n)*(x-gnutella[-a-z]*|x-queue|x-features|listen-ip|x-alt):|^giv [0-9]+:[0-9a-f]{32}/|^gnd[\x01-\x03\x10-\x13]|^.{10,16}d.{1,4}[\x01-\x0e](gtkg|lime)

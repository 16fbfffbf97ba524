# BitTorrent - peer wire, DHT, trackers, uTP and local discovery
# Pattern attributes: great fast
# Protocol groups: p2p file open_source
# Wiki: https://en.wikipedia.org/wiki/BitTorrent
# Copyright (C) 2026 Sluice contributors
# Aliases: torrent utp
#
# The peer wire handshake (19, "BitTorrent protocol"; unanchored so that it is also
# found inside uTP), DHT KRPC messages (bencoded dictionaries d1:ad2:id20: ...), the UDP
# tracker connect magic 0x41727101980, local service discovery BT-SEARCH, an HTTP
# tracker announce, and the uTP handshake (ST_SYN, ST_STATE, ST_DATA). Must be listed
# before http. Encrypted peer connections (MSE) are not recognised.

bittorrent
\x13bittorrent protocol|^d(1:ad2:id20:|1:rd2:id20:|2:ip(6|18):|1:eli[0-9]{3})|^\x04\x17'\x10\x19\x80|^bt-search \* http/1\.[01]\r?\n|^get /[!-~]*\?[!-~]*info_hash=[!-~]*peer_id=|^\x41[\x01\x02]?.{6,14}\x21[\x01\x02]?.{8,18}\x01

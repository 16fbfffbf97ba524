# Dropbox LAN sync discovery
# Pattern attributes: good veryfast
# Protocol groups: file proprietary
# Wiki: https://en.wikipedia.org/wiki/Dropbox
# Copyright (C) 2026 Sluice contributors
# Aliases: db-lsp-disc
# Transport: udp
#
# The client's UDP broadcasts on port 17500 are JSON objects with host_int, version,
# port and namespaces. The LAN sync bus between clients (also port 17500) is CoAP whose
# path names `Bus17Cmd`: listed before coap. File transfer itself is ssl.

dropbox
^\{[^}]{0,400}"host_int": ?[0-9]|^[\x40-\x7f][\x01-\x45].{1,40}bus17cmd

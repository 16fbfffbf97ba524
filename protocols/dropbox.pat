# Dropbox LAN sync discovery
# Pattern attributes: good veryfast
# Protocol groups: file proprietary
# Wiki: https://en.wikipedia.org/wiki/Dropbox
# Copyright (C) 2026 Sluice contributors
# Aliases: db-lsp-disc
# Transport: udp
#
# The client's UDP broadcasts on port 17500 are JSON objects with host_int, version,
# port and namespaces. File transfer itself is ssl.

dropbox
^\{[^}]{0,400}"host_int": ?[0-9]

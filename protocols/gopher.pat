# Gopher - menu-driven document retrieval - RFC 1436
# Pattern attributes: ok veryfast
# Protocol groups: document_retrieval obsolete ietf_rfc_documented
# Wiki: https://en.wikipedia.org/wiki/Gopher_(protocol)
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# The client sends a selector line; the server answers with menu lines: item type,
# display string, selector, host and port separated by tabs.

gopher
^[ -~]{0,200}\r?\n[0-9+gihsItTp:;<d][^\t\r\n]*\t[^\t\r\n]*\t[^\t\r\n]*\t[0-9]{1,5}\r?\n

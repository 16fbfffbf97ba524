# XMPP (Jabber) - Extensible Messaging and Presence Protocol - RFC 6120
# Pattern attributes: great fast
# Protocol groups: chat ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/XMPP
# Copyright (C) 2026 Sluice contributors
# Aliases: xmpp
# Transport: tcp
#
# The opening <stream:stream> (optionally after an XML declaration), or a stanza (iq,
# presence, message) for connections picked up in the middle.

jabber
^(<\?xml[^>]*>[\x09-\x0d ]*)?<stream:stream[\x09-\x0d ]|^<(iq|presence|message)[\x09-\x0d ][^>]*(to|from|type|id|xmlns)=|^</stream:stream>

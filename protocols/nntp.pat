# NNTP - Network News Transfer Protocol (Usenet) - RFC 3977
# Pattern attributes: good veryfast
# Protocol groups: mail ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Network_News_Transfer_Protocol
# Copyright (C) 2026 Sluice contributors
# Aliases: usenet news
# Transport: tcp
#
# A 200 (posting allowed) or 201 greeting that mentions news, or that is followed by a
# reader command.

nntp
^20[01][- ][\x09-\x0d -~]*(nntp|news|usenet|leafnode|\r\n(mode reader|capabilities|authinfo|group|list|article|newnews|xover|over)( |\r?\n))

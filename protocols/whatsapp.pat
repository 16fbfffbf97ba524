# WhatsApp - WhatsApp messenger chat connection
# Pattern attributes: good veryfast
# Protocol groups: chat proprietary
# Wiki: https://en.wikipedia.org/wiki/WhatsApp
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# The chat connection starts with "WA" and a protocol version (FunXMPP, later the
# Noise-based protocol), optionally behind the "ED" edge routing header. Media, calls
# and the web client are other protocols (ssl, stun).

whatsapp
^(ed\x01[\x01-\x0f].{0,6})?wa[\x01-\x06][\x01-\x09]

# X11 - X Window System protocol
# Pattern attributes: good veryfast
# Protocol groups: remote_access
# Wiki: https://en.wikipedia.org/wiki/X_Window_System_core_protocol
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# The client's connection setup: byte order 'l' or 'B', protocol version 11, then the
# authorization protocol name.

x11
^[lb]\x0b.{0,6}(mit-magic-cookie-1|xdm-authorization-1)

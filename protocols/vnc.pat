# VNC - Virtual Network Computing (Remote Framebuffer protocol) - RFC 6143
# Pattern attributes: great veryfast
# Protocol groups: remote_access ietf_rfc_documented
# Wiki: https://en.wikipedia.org/wiki/Virtual_Network_Computing
# Copyright (C) 2026 Sluice contributors
# Aliases: rfb
# Transport: tcp
#
# The server and then the client send a ProtocolVersion "RFB 003.008\n".

vnc
^rfb 00[0-9]\.00[0-9]\x0a

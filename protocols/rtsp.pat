# RTSP - Real Time Streaming Protocol - RFC 2326, RFC 7826
# Pattern attributes: great fast
# Protocol groups: streaming_video streaming_audio ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Real_Time_Streaming_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# An RTSP request or status line, or RTSP tunnelled in HTTP (QuickTime style). Must be
# listed before http. The media itself flows in rtp.

rtsp
^(options|describe|setup|play|pause|teardown|announce|record|get_parameter|set_parameter|redirect) [!-~]+ rtsp/[12]\.[0-9]|^rtsp/[12]\.[0-9] [1-5][0-9][0-9] |^(get|post) [!-~]+ http/1\.[01]\r\n([^\r\n]*\r\n)*(accept|content-type): *application/x-rtsp-tunnelled

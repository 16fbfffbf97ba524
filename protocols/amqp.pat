# AMQP - Advanced Message Queuing Protocol 0-9-1 and 1.0
# Pattern attributes: good veryfast
# Protocol groups: networking
# Wiki: https://en.wikipedia.org/wiki/Advanced_Message_Queuing_Protocol
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# The protocol header AMQP followed by the version, or - for connections picked up in
# the middle - an AMQP 0-9-1 method frame for basic.publish or basic.deliver (class 60,
# method 40 or 60).

amqp
^amqp[\x01-\x0a]|^\x01.{1,6}<[(<]

# MQTT - message queuing for IoT - OASIS MQTT 3.1.1 and 5.0
# Pattern attributes: good veryfast
# Protocol groups: chat networking
# Wiki: https://en.wikipedia.org/wiki/MQTT
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# A CONNECT packet (remaining length, then the protocol name MQTT level 4/5 or MQIsdp
# level 3), or a connection whose first two packets are a keep-alive PINGREQ/PINGRESP
# pair (0xc0 0x00, 0xd0 0x00; $ is the end of the data so far).

mqtt
^\x10[\x01-\xff]{1,4}(\x04mqtt[\x03-\x05]|\x06mqisdp\x03)|^\xc0\xd0$

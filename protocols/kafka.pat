# Kafka - Apache Kafka wire protocol (TCP 9092)
# Pattern attributes: ok fast
# Protocol groups: networking
# Wiki: https://kafka.apache.org/protocol
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# A client's first request: a 4-byte length (its zero high bytes vanish), the API key
# (e.g. 18 ApiVersions, 3 Metadata, 0 Produce: a zero vanishes) and version, a 4-byte
# correlation id, then the client id (2-byte length and name) as the client libraries
# set it by default: `rdkafka`, `sarama`, `kafka-python-...`, `kafkajs`, `kgo`, the Java
# client's `producer-N`, `consumer-GROUP-N`, `adminclient-N`, the console tools'. Or,
# whatever the client id, the broker's ApiVersions response: its list of API keys 1, 2,
# 3, 4, 5 in order, each with its version range (zeros vanish). A generic client id is
# not enough: a length byte and six name characters occur in too many binary protocols.

kafka
^[\x01-\xff]{1,2}[\x01-\x4a]?[\x01-\x10]?.{1,4}[\x03-\x40](rdkafka|sarama|kafka-?python|kafkajs|kgo|producer-|consumer-|adminclient-|console-(producer|consumer))|^.{1,80}\x01[\x01-\x10]{1,2}\x02[\x01-\x10]{1,2}\x03[\x01-\x10]{1,2}\x04[\x01-\x10]{1,2}\x05

# Elasticsearch transport - node-to-node and transport client protocol (TCP 9300)
# Pattern attributes: good veryfast
# Protocol groups: database
# Wiki: https://www.elastic.co/guide/en/elasticsearch/reference/current/modules-network.html
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# Every message starts with the marker "ES", then a 4-byte length (-1 for a keep-alive
# ping), a request id, a status byte and a version; a request then names its action
# (`internal:tcp/handshake`, `indices:data/read/...`, `cluster:monitor/...`) and requests
# and responses carry thread-context headers such as `_xpack_security_...`. The REST API
# (TCP 9200) is plain HTTP and is http.

elasticsearch
^es(\xff\xff\xff\xff|[\x01-\xff].{0,60}(internal:|indices:|cluster:|_xpack|x-pack))

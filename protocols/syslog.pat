# Syslog - event logging - RFC 5424, RFC 3164
# Pattern attributes: good veryfast
# Protocol groups: monitoring ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Syslog
# Copyright (C) 2026 Sluice contributors
#
# A message starts with the priority <0> to <191>; over TCP with octet counting (RFC
# 6587) a decimal length comes first.

syslog
^<([0-9]|[1-9][0-9]|1[0-8][0-9]|19[01])>[ -~]|^[1-9][0-9]{1,4} <([0-9]|[1-9][0-9]|1[0-8][0-9]|19[01])>[ -~]

# SSH - Secure Shell - RFC 4253
# Pattern attributes: great veryfast
# Protocol groups: remote_access secure ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Secure_Shell
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# Both sides start with an identification string SSH-protoversion-softwareversion.

ssh
^ssh-(2\.0|1\.99|1\.[0-9]+)-

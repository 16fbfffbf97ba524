# rsync - rsync daemon protocol
# Pattern attributes: great veryfast
# Protocol groups: file open_source
# Wiki: https://en.wikipedia.org/wiki/Rsync
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# Both sides greet with @RSYNCD: protocol-version. rsync over ssh is ssh.

rsync
^@rsyncd: [0-9]+\.[0-9]+

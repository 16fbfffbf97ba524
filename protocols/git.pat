# Git - the git:// smart transport protocol
# Pattern attributes: great veryfast
# Protocol groups: file version_control open_source
# Wiki: https://en.wikipedia.org/wiki/Git
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# The client's first pkt-line names the service: 4 hex digits of length, then
# git-upload-pack /path. git over https is ssl, over ssh is ssh.

git
^[0-9a-f]{4}git-(upload-pack|receive-pack|upload-archive) 

# Finger - user information protocol - RFC 1288
# Pattern attributes: ok veryfast
# Protocol groups: obsolete ietf_draft_standard
# Wiki: https://en.wikipedia.org/wiki/Finger_(protocol)
# Copyright (C) 2026 Sluice contributors
# Transport: tcp
#
# A user name (or nothing, or /W) on one line, answered by a typical finger report.

finger
^(/w +)?[-a-z0-9._@]{0,64}\r\n[^\r\n]{0,80}(login: |login name|no one logged on|in real life|last login|no plan|plan:)

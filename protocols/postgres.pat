# PostgreSQL frontend/backend protocol version 3
# Pattern attributes: great veryfast
# Protocol groups: database open_source
# Wiki: https://en.wikipedia.org/wiki/PostgreSQL
# Copyright (C) 2026 Sluice contributors
# Aliases: postgresql pgsql
# Transport: tcp
#
# The client speaks first: an SSLRequest, GSSENCRequest or CancelRequest (magic codes
# 1234.5679/5680/5678), or a StartupMessage (protocol 3.0) whose first parameter is user
# or database.

postgres
^[\x08\x10]\x04\xd2\x16[\x2e-\x30]|^.?.?\x03(user|database|application_name|client_encoding|options|replication)

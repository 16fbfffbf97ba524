# IMAP - Internet Message Access Protocol - RFC 9051
# Pattern attributes: great veryfast
# Protocol groups: mail ietf_proposed_standard
# Wiki: https://en.wikipedia.org/wiki/Internet_Message_Access_Protocol
# Copyright (C) 2026 Sluice contributors
# Aliases: imap4
# Transport: tcp
#
# The untagged * OK (or PREAUTH/BYE) greeting, or a tagged client command when the
# greeting was missed.

imap
^\* (ok|preauth|bye)[ \[]|^[a-z]{0,8}[0-9][a-z0-9.]{0,8} (capability\r?\n|login [!-~]+ [!-~]+\r?\n|starttls\r?\n|authenticate [a-z0-9-]+|id \()

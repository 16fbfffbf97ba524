# Microsoft SQL Server (TDS - Tabular Data Stream) - [MS-TDS]
# Pattern attributes: good veryfast
# Protocol groups: database proprietary
# Wiki: https://en.wikipedia.org/wiki/Tabular_Data_Stream
# Copyright (C) 2026 Sluice contributors
# Aliases: tds sqlserver
# Transport: tcp
#
# A TDS packet header (type, status, length, SPID, packet id) carrying a PRELOGIN (the
# option table: VERSION, ENCRYPTION, INSTOPT), a LOGIN7 with a 7.x TDS version, a SQL
# batch (with or without ALL_HEADERS) starting with a T-SQL keyword, or an RPC request
# with a procedure name (UCS-2 text loses its NULs and reads as ASCII).

mssql
^\x12\x01.{1,3}[\x10-\x40]\x06\x01[\x10-\x50]\x01\x02[\x10-\x50]|^\x10\x01.{1,5}[\x01-\xff]{1,2}(\x04t|\x03\x0bs|\x02\x09r|\x01q)|^\x01[\x01\x09].{1,4}\x01(\x16\x12\x02.{1,20})?[\x09-\x0d ]*(select|insert|update|delete|commit|begin|set|exec|execute|if|declare|create|use|with|rollback|alter|drop|save|truncate|merge)[\x09-\x0d ]|^\x03[\x01\x09].{1,4}\x01(\x16\x12\x02.{1,12})?[\x03-\x80][a-z_#@][a-z0-9_.#@]{2}

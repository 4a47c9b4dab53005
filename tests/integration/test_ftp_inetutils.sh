#!/usr/bin/env bash
#
# test_ftp_inetutils.sh - inetutils-ftp under tlsshim talks to vsftpd under tlsshim,
# every FTP connection in TLS (implicit, both ends shimmed).
#
# One passive and one active session, each: log in, upload a 5 MB random
# file, list, download it; both copies must be byte-identical (sha256).
# In active mode vsftpd opens the data connection to the client, yet the
# client is the TLS client ([server] rule with tls_role = client on the
# client's side, [client] rule with tls_role = server on vsftpd's).  The
# loopback traffic is recorded: the file's marker, the password and the FTP
# dialogue must be absent from it, and every connection must start with TLS.
# (helpers/ftp_lib.sh has the setup and the checks.)
#
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/ftp_lib.sh"

ftp_client_test inetutils-ftp

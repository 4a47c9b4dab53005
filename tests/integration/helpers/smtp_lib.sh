# shellcheck shell=bash
#
# smtp_lib.sh - SMTP servers and mailboxes for the SMTP tests.  Source it
# after lib.sh:
#
#   . "$(dirname "$0")/helpers/smtp_lib.sh"
#
# smtp_start NAME PORT MAILDIR CERT [LAUNCHER...]  starts aiosmtpd
#     (Debian's python3-aiosmtpd, run by /usr/bin/python3) on
#     127.0.0.1:PORT as background process NAME, saving every message it
#     accepts in the Maildir MAILDIR.  With CERT server, wrongname or
#     untrusted (a pair in $CERTS) aiosmtpd does SMTPS itself (implicit
#     TLS); with CERT none it speaks plaintext SMTP.  LAUNCHER (e.g.
#     "$TLSSHIM" -p policy --) goes in front of it.
# smtp_count MAILDIR  prints how many messages MAILDIR holds.
# smtp_find MAILDIR STRING  prints the messages of MAILDIR that contain
#     STRING, one file name a line; fails if there is none.
# smtp_policy SAMPLE OUT KEY=VALUE...  see below.

smtp_start()
{
    local name=$1 port=$2 maildir=$3 cert=$4
    local tls=()
    shift 4
    if [ "$cert" != none ]; then
        tls=(--smtpscert "$CERTS/$cert.pem" --smtpskey "$CERTS/$cert.key")
    fi
    # MAILDIR must not exist yet: Python's mailbox.Maildir makes its
    # new/cur/tmp only when it creates the directory itself.
    # -n: stay root (no setuid to nobody, who could not write in $T).
    # The Mailbox handler writes each message to the Maildir as received,
    # with X-Peer, X-MailFrom and X-RcptTo headers added.
    bg "$name" "$@" "$PY" -m aiosmtpd -n -l "127.0.0.1:$port" "${tls[@]}" \
        -c aiosmtpd.handlers.Mailbox "$maildir"
}

smtp_count()
{
    find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l
}

smtp_find()
{
    local found
    found=$(grep -r -l -F -e "$2" "$1/new" "$1/cur" 2>/dev/null || true)
    if [ -z "$found" ]; then
        fail "no message in $1 contains '$2' ($(smtp_count "$1") messages there)"
    fi
    printf '%s\n' "$found"
}

# smtp_policy SAMPLE OUT KEY=VALUE... writes to OUT the sample policy
# policy/SAMPLE with KEYs replaced: lib.sh's sample_policy.
smtp_policy()
{
    sample_policy "$@"
}

# shellcheck shell=bash
#
# ldap_lib.sh - a throwaway OpenLDAP directory for the LDAP tests.  Source it
# after lib.sh:
#
#   . "$(dirname "$0")/helpers/ldap_lib.sh"
#
# ldap_make DIR [CERT]  writes DIR/slapd.conf (mdb database, suffix
#     dc=example,dc=com, a few hundred entries) and loads the entries with
#     slapadd.  With CERT (server, wrongname, untrusted: a pair in $CERTS)
#     slapd does TLS itself with that certificate, for ldaps:// listeners.
#     Sets:
#       LDAP_BASE     dc=example,dc=com
#       LDAP_ROOTDN   the database's root DN, password $LDAP_ROOTPW
#       LDAP_USER     uid=alice's DN, password $LDAP_PW
#       LDAP_SECRET   the value of alice's description attribute: what the
#                     server sends, to be looked for on the wire
#       LDAP_ENTRIES  how many entries the directory holds
# ldap_start NAME DIR URLS [LAUNCHER...]  starts slapd in the foreground
#     (as background process NAME, see lib.sh bg) with DIR's configuration,
#     listening on URLS; LAUNCHER (e.g. "$TLSSHIM" -p policy --) goes in
#     front of it.  slapd logs every operation (-d stats) to NAME.err.
# ldap_policy SAMPLE OUT KEY=VALUE...  see below.
#
# slapd runs as root with every file in $T: it never touches the system's
# own slapd configuration or database.

# The LDAP_* variables are for the scripts that source this file.
# shellcheck disable=SC2034

LDAP_BASE=dc=example,dc=com
LDAP_ROOTDN=cn=admin,$LDAP_BASE
LDAP_USER=uid=alice,ou=people,$LDAP_BASE

ldap_make()
{
    local dir=$1 cert=${2:-} i
    LDAP_ROOTPW=root-$(marker)
    LDAP_PW=pw-$(marker)
    LDAP_SECRET=$(marker)
    mkdir -p "$dir/data"
    {
        # The schemas inetOrgPerson needs, the mdb backend as a module (the
        # way Debian builds it).
        printf 'include /etc/ldap/schema/%s.schema\n' core cosine inetorgperson
        printf 'modulepath /usr/lib/ldap\nmoduleload back_mdb\n'
        printf 'pidfile %s/slapd.pid\nargsfile %s/slapd.args\n' "$dir" "$dir"
        if [ -n "$cert" ]; then
            # Debian's slapd is built with GnuTLS; these are its TLS keys.
            printf 'TLSCertificateFile %s/%s.pem\n' "$CERTS" "$cert"
            printf 'TLSCertificateKeyFile %s/%s.key\n' "$CERTS" "$cert"
        fi
        printf 'database mdb\nmaxsize 67108864\n'
        printf 'suffix "%s"\nrootdn "%s"\nrootpw %s\n' "$LDAP_BASE" \
            "$LDAP_ROOTDN" "$LDAP_ROOTPW"
        printf 'directory %s/data\n' "$dir"
    } >"$dir/slapd.conf"

    {
        printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\n' \
            "$LDAP_BASE"
        printf 'o: Example\ndc: example\n\n'
        printf 'dn: ou=people,%s\nobjectClass: organizationalUnit\n' "$LDAP_BASE"
        printf 'ou: people\n\n'
        printf 'dn: %s\nobjectClass: inetOrgPerson\nuid: alice\n' "$LDAP_USER"
        printf 'cn: Alice Example\nsn: Example\ndescription: %s\n' "$LDAP_SECRET"
        printf 'userPassword: %s\n\n' "$LDAP_PW"
        # Enough entries that a subtree search answers with many TLS
        # records (about 100 KB).
        for ((i = 1; i <= 300; i++)); do
            printf 'dn: uid=user%d,ou=people,%s\nobjectClass: inetOrgPerson\n' \
                "$i" "$LDAP_BASE"
            printf 'uid: user%d\ncn: User %d\nsn: Number %d\n' "$i" "$i" "$i"
            printf 'description: entry %d of the tlsshim test directory, %s\n\n' \
                "$i" "padding padding padding padding padding padding padding"
        done
    } >"$dir/data.ldif"
    LDAP_ENTRIES=303

    slapadd -q -f "$dir/slapd.conf" -l "$dir/data.ldif" \
        >"$dir/slapadd.out" 2>&1 ||
        { cat "$dir/slapadd.out" >&2; fail "slapadd could not load $dir/data.ldif"; }
}

ldap_start()
{
    local name=$1 dir=$2 urls=$3
    shift 3
    # -d stats: stay in the foreground and log each connection and
    # operation (bind DN, search filter) to stderr: that is where the test
    # sees what slapd received in plaintext.
    bg "$name" "$@" slapd -d stats -f "$dir/slapd.conf" -h "$urls"
}

# ldap_policy SAMPLE OUT KEY=VALUE... writes to OUT the sample policy
# policy/SAMPLE with KEYs replaced: lib.sh's sample_policy.
ldap_policy()
{
    sample_policy "$@"
}

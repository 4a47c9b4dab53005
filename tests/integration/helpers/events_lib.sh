# shellcheck shell=bash
#
# events_lib.sh - helpers for the event-loop tests (nginx, curl --parallel,
# asyncio, stalled handshakes, readiness probe).  Source after lib.sh:
#
#   . "$TESTS_DIR/helpers/events_lib.sh"

# events_need PROGRAM... fails unless each PROGRAM (nginx, wrk) is on PATH.
events_need()
{
    local prog
    for prog in "$@"; do
        command -v "$prog" >/dev/null ||
            fail "$prog is not installed (tests/deps/events.txt)"
    done
}

# events_probe prints the path of readiness_probe: the one built beside the
# library (tests/events/ of the build tree), else one compiled now into $T
# from tests/events/readiness_probe.c (it needs nothing but libc).
events_probe()
{
    local built src=$REPO_ROOT/tests/events/readiness_probe.c
    built="$(dirname "$TLSSHIM_LIB")/tests/events/readiness_probe"
    if [ -x "$built" ] && [ "$built" -nt "$src" ]; then
        printf '%s\n' "$built"
        return 0
    fi
    cc -std=c11 -O2 -Wall -o "$T/readiness_probe" "$src" ||
        fail "cannot build $src"
    printf '%s\n' "$T/readiness_probe"
}

# nginx_setup PORT [WORKERS] [POLICY_LINES] writes a plaintext nginx
# configuration into $T/nginx/ serving $T/www on 127.0.0.1:PORT, and the
# tlsshim server policy $T/nginx.policy for it, with POLICY_LINES (e.g.
# "handshake_timeout = 3") added to its rule.  nginx: daemon off, a master
# and WORKERS workers (default 2),
# epoll, sendfile on, every path (pid, logs, temp files) inside $T.  The
# workers stay root (user root): they read $T, which only root may.
nginx_setup()
{
    local port=$1 workers=${2:-2} extra=${3:-} d=$T/nginx
    NGINX_WORKERS=$workers
    mkdir -p "$d/tmp" "$T/www"
    cat >"$d/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes $workers;
user root;
pid $d/nginx.pid;
error_log $d/error.log info;
events {
    worker_connections 1024;
    use epoll;
}
http {
    access_log $d/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 30;
    keepalive_requests 100000;
    types {
        text/html html;
        text/plain txt;
        application/octet-stream bin;
    }
    server {
        listen 127.0.0.1:$port;
        root $T/www;
    }
}
CONF
    cat >"$T/nginx.policy" <<CONF
# nginx listens in plaintext; the shim is the TLS server on its port.
[server nginx]
match = 127.0.0.1:$port
cert  = $CERTS/server.pem
key   = $CERTS/server.key
$extra
CONF
}

# nginx_index_page writes $T/www/index.html, a small page that holds a new
# marker, and sets PAGE_MARKER to the marker.
nginx_index_page()
{
    PAGE_MARKER=$(marker)
    printf '<html><body>%s</body></html>\n' "$PAGE_MARKER" >"$T/www/index.html"
}

# nginx_start PORT [LEVEL] starts nginx under tlsshim (background process
# "nginx", shim log level LEVEL, default info) and waits for its port.  The
# shim's log is $T/shim.log: nginx points its own stderr at its error log.
nginx_start()
{
    local port=$1 level=${2:-info}
    # -e: nginx opens the default error log before it reads the
    # configuration; point that one into $T as well.
    bg nginx env TLSSHIM_LOG_FILE="$T/shim.log" \
        "$TLSSHIM" -p "$T/nginx.policy" -l "$level" -- \
        nginx -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log"
    wait_port "$port" nginx
}

# nginx_workers prints the pids of the nginx worker processes.
nginx_workers()
{
    pgrep -P "$(cat "$T/nginx/nginx.pid")" || true
}

# nginx_assert_alive fails unless the nginx master and its workers run.
nginx_assert_alive()
{
    bg_alive nginx
    local n
    n=$(nginx_workers | wc -l)
    [ "$n" -eq "$NGINX_WORKERS" ] ||
        fail "want $NGINX_WORKERS nginx workers, found $n (did one crash?)"
    if grep -E '\[(alert|emerg|crit)\]' "$T/nginx/error.log" >&2; then
        fail "nginx logged alerts (above)"
    fi
}

# sha256_of FILE prints the SHA-256 of FILE.
sha256_of()
{
    sha256sum "$1" | cut -d' ' -f1
}

#!/usr/bin/env bash
# HTTPS on loopback: uhttpd (release build) side by side with nginx, same
# certificate (ECDSA P-256), same 1 KiB file, same run.
#
#   handshakes/s   openssl s_time -new: a full handshake per connection (no
#                  session resumption), CLIENTS processes in parallel;
#                  TLS 1.3 and TLS 1.2 each
#   requests/s     wrk over keep-alive HTTPS connections (TLS 1.3)
#
# Installs what it needs (Debian: nginx-light, wrk, openssl). Environment:
# SECS (per measurement, default 10), CLIENTS (parallel s_time clients,
# default 2), CONNS (wrk connections, default 32), WORKERS (poll loops /
# nginx worker processes, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${SECS:-10}
CLIENTS=${CLIENTS:-2}
CONNS=${CONNS:-32}
WORKERS=${WORKERS:-1}

need=()
command -v openssl >/dev/null || need+=(openssl)
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}" >&2
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

cargo build --release --quiet --bin uhttpd
UHTTPD=target/release/uhttpd

work=$(mktemp -d /tmp/uhttpd-tls-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
mkdir -p "$work/root" "$work/nginx/logs"
head -c 1024 /dev/urandom >"$work/root/1k.bin"
chmod 644 "$work/root/1k.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

# uhttpd: port 0, the port read from its banner.
"$UHTTPD" --bind 127.0.0.1 --port 0 --quiet --workers "$WORKERS" \
    --keep-alive-max-requests 1000 --max-connections 1024 \
    --cert "$work/cert.pem" --key "$work/key.pem" "$work/root" >"$work/uhttpd.out" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/uhttpd.out" ] && break; sleep 0.05; done
uport=$(sed -n '1s/.*:\([0-9]*\)\/.*/\1/p' "$work/uhttpd.out")

# nginx: a port next to it that is free now.
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $WORKERS;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    keepalive_requests 1000;
    server {
        listen 127.0.0.1:$nport ssl;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        root $work/root;
    }
}
CONF
"$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" -g 'daemon off;' &
pids+=($!)
for _ in $(seq 100); do
    curl -skf "https://127.0.0.1:$nport/1k.bin" -o /dev/null && curl -skf "https://127.0.0.1:$uport/1k.bin" -o /dev/null && break
    sleep 0.05
done

# Full handshakes per second: CLIENTS s_time processes, summed.
handshakes() { # port version-flag
    local total=0 out n clients=()
    for i in $(seq "$CLIENTS"); do
        openssl s_time -connect "127.0.0.1:$1" -new "$2" -time "$SECS" >"$work/stime.$i" 2>&1 &
        clients+=($!)
    done
    wait "${clients[@]}" || true
    for i in $(seq "$CLIENTS"); do
        out=$(grep -m1 'connections in' "$work/stime.$i" || true)
        # "N connections in T real seconds, B bytes read per connection"
        n=$(awk '{printf "%.0f", $1 / $4}' <<<"$out")
        total=$((total + n))
    done
    echo "$total"
}

requests() { # port
    wrk -t2 -c"$CONNS" -d"${SECS}s" "https://127.0.0.1:$1/1k.bin" |
        awk '/Requests\/sec/ {printf "%.0f", $2}'
}

printf '%-10s %22s %22s %20s\n' server "TLS1.3 handshakes/s" "TLS1.2 handshakes/s" "keep-alive req/s"
for name in uhttpd nginx; do
    port=$uport
    [ "$name" = nginx ] && port=$nport
    h13=$(handshakes "$port" -tls1_3)
    h12=$(handshakes "$port" -tls1_2)
    rps=$(requests "$port")
    printf '%-10s %22s %22s %20s\n' "$name" "$h13" "$h12" "$rps"
done
echo "($(nproc) CPUs, $WORKERS worker(s) each, $CLIENTS s_time clients, wrk -t2 -c$CONNS, ${SECS}s each; $(nginx -v 2>&1 | sed 's/.*: //'), $(openssl version | cut -d' ' -f1-2))"

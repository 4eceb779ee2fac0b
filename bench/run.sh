#!/usr/bin/env bash
# Side-by-side benchmark of uhttpd, nginx and lighttpd (issue 6).
#
# One command on a fresh Debian machine: installs wrk, ab, nginx-light,
# lighttpd and openssl when missing, builds uhttpd, makes its fixtures,
# starts the three servers on loopback with the same ROOT (each pinned to
# CPU 0, the load generator to CPU 1), runs every scenario for every server
# interleaved over several rounds, prints a table of medians and writes it
# to bench/RESULTS.md.
#
# Environment:
#   DURATION=10     seconds per measured run (QUICK=1: 1)
#   ROUNDS=3        rounds; each round runs every server once per scenario
#   WARMUP=2        seconds of unrecorded load per server before a scenario (QUICK=1: 0)
#   QUICK=1         smoke test: short runs, 1,000 idle connections
#   SCENARIOS="1 2 3 4 5 6 7 8 9 10 11 12"   which scenarios to run (12: the
#                                   library against the Rust frameworks,
#                                   bench/frameworks/run.sh, its table in the report)
#   IDLE_CONNS=10000                idle keep-alive connections in scenario 7
#   PORT_BASE=18000                 first of the loopback ports used
#   RESULTS=bench/RESULTS.md        where the Markdown table goes ("-": nowhere)
#   SKIP_INSTALL=1, SKIP_BUILD=1    leave packages / the build alone
#   UHTTPD_BIN=PATH                 measure this uhttpd binary (e.g. one built
#                                   from an older commit) instead of building
#   UHTTPD_EXTRA_ARGS="ARGS"        more arguments for every uhttpd started,
#                                   split on spaces (e.g. "--metrics 127.0.0.1:0"
#                                   to measure the cost of metrics)
#   PEERS="nginx lighttpd uhttpd"   servers compared in scenarios 1-8 and 11 (those
#                                   installed of these; PEERS=uhttpd: uhttpd only)
#   KEEP_WORK=1                     keep the temporary directory (configs, logs, raw results)
set -euo pipefail

# The whole script is one block, read in full before it starts: editing this
# file during a long run cannot change the run.
{

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
HELPER="$BENCH_DIR/helper.py"

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
    DURATION=${DURATION:-1}
    WARMUP=${WARMUP:-0}
    IDLE_CONNS=${IDLE_CONNS:-1000}
fi
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
IDLE_CONNS=${IDLE_CONNS:-10000}
SCENARIOS=${SCENARIOS:-1 2 3 4 5 6 7 8 9 10 11 12}
PORT_BASE=${PORT_BASE:-18000}
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
WANT_PEERS=${PEERS:-nginx lighttpd uhttpd}
read -ra UHTTPD_EXTRA <<<"${UHTTPD_EXTRA_ARGS:-}"

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }

# --- packages ----------------------------------------------------------------

as_root() {
    if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi
}

install_packages() {
    local want=() pkg
    declare -A provides=(
        [wrk]=wrk [ab]=apache2-utils [nginx]=nginx-light [lighttpd]=lighttpd
        [openssl]=openssl [python3]=python3 [taskset]=util-linux [brotli]=brotli
    )
    for cmd in "${!provides[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || want+=("${provides[$cmd]}")
    done
    # lighttpd's TLS module is a package of its own on Debian.
    if [[ ! -e /usr/lib/lighttpd/mod_openssl.so ]]; then
        want+=(lighttpd-mod-openssl)
    fi
    ((${#want[@]})) || return 0
    log "installing ${want[*]}"
    as_root apt-get update -qq
    for pkg in "${want[@]}"; do
        if ! apt-cache show "$pkg" >/dev/null 2>&1; then
            warn "package $pkg not available; scenarios needing it will be skipped"
            continue
        fi
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null ||
            warn "could not install $pkg"
    done
    stop_package_services
}

# Debian starts nginx and lighttpd as services on install when it can;
# they would hold port 80 and CPU time during the runs.
stop_package_services() {
    local svc
    for svc in nginx lighttpd; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
            as_root systemctl stop "$svc" || true
        elif [[ -x /etc/init.d/$svc ]]; then
            as_root /etc/init.d/"$svc" stop >/dev/null 2>&1 || true
        fi
    done
}

export PATH=$PATH:/usr/sbin:/sbin
[[ ${SKIP_INSTALL:-0} == 1 ]] || install_packages
for cmd in wrk ab openssl python3 taskset; do
    command -v "$cmd" >/dev/null || {
        echo "bench: $cmd is missing" >&2
        exit 1
    }
done
HAVE_NGINX=0 HAVE_LIGHTTPD=0
command -v nginx >/dev/null && HAVE_NGINX=1
command -v lighttpd >/dev/null && HAVE_LIGHTTPD=1

if [[ -n ${UHTTPD_BIN:-} ]]; then
    UHTTPD=$UHTTPD_BIN
    UHTTPD_AT="binary $UHTTPD_BIN"
else
    if [[ ${SKIP_BUILD:-0} != 1 ]]; then
        # The release build with line tables (Cargo.toml's `profiling`), so
        # that perf and callgrind can name the lines they count.
        log "building uhttpd (cargo build --profile profiling)"
        (cd "$REPO" && cargo build --profile profiling --quiet --bin uhttpd)
    fi
    UHTTPD=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/profiling/uhttpd
    UHTTPD_AT="at $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
fi
[[ -x $UHTTPD ]] || {
    echo "bench: $UHTTPD not built" >&2
    exit 1
}

# --- machine set-up ----------------------------------------------------------

if [[ $(nproc) -ge 2 ]]; then
    SERVER_CPU=0 CLIENT_CPU=1
else
    warn "one CPU only: server and load generator share it"
    SERVER_CPU=0 CLIENT_CPU=0
fi
# Scenario 3 holds 1000 connections, scenario 7 ten thousand: both ends need
# the descriptors (servers inherit this limit; each end is its own process).
NEED_FDS=$((IDLE_CONNS + 1000))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt $NEED_FDS ]]; then
    { ulimit -Hn $NEED_FDS && ulimit -n $NEED_FDS; } 2>/dev/null ||
        warn "ulimit -n is $(ulimit -n): scenario 7 may not reach $IDLE_CONNS connections"
fi
MAX_FDS=$(ulimit -n)
[[ $MAX_FDS == unlimited || $MAX_FDS -gt 65536 ]] && MAX_FDS=65536

WORK=$(mktemp -d /tmp/uhttp-bench.XXXXXX)
chmod 755 "$WORK" # nginx's workers run as nobody
ROOT=$WORK/root
RAW=$WORK/results.tsv
: >"$RAW"
PIDS=() # every server process started, by PID
HOLDER="" # scenario 7's idle-connection client while it runs

# The load generator opens tens of thousands of short connections
# (scenarios 4 and 8); let it reuse ports in TIME_WAIT. Restored on exit.
SYSCTL_SAVED=()
tune() {
    local key=$1 value=$2 old
    old=$(sysctl -n "$key" 2>/dev/null) || return 0
    [[ $old == "$value" ]] && return 0
    if as_root sysctl -q -w "$key=$value" >/dev/null 2>&1; then
        SYSCTL_SAVED+=("$key=$old")
    fi
}
tune net.ipv4.tcp_tw_reuse 1
tune net.core.somaxconn 4096

cleanup() {
    local pid setting
    for pid in $HOLDER "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    for setting in "${SYSCTL_SAVED[@]}"; do
        as_root sysctl -q -w "$setting" >/dev/null 2>&1 || true
    done
    if [[ ${KEEP_WORK:-0} == 1 ]]; then
        echo "bench: work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- fixtures ------------------------------------------------------------------

log "fixtures in $WORK"
mkdir -p "$ROOT"
head -c 1024 /dev/urandom | base64 -w 64 | head -c 1024 >"$ROOT/1k.txt"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$ROOT/100m.bin"
# Scenario 10: a 100 KiB script, in c/ as it is (coded on the fly) and in
# p/ with .gz and .br siblings made beforehand (gzip -9; brotli -q 11 when
# the brotli tool is there, else uhttpd's own quality 5, fetched below).
mkdir -p "$ROOT/c" "$ROOT/p"
python3 "$HELPER" script $((100 * 1024)) >"$ROOT/c/app.js"
cp -p "$ROOT/c/app.js" "$ROOT/p/app.js"
gzip -9 -k "$ROOT/p/app.js"
if command -v brotli >/dev/null; then
    brotli -q 11 -k "$ROOT/p/app.js"
fi
chmod 644 "$ROOT"/*.* "$ROOT"/c/* "$ROOT"/p/*
chmod 755 "$ROOT" "$ROOT/c" "$ROOT/p"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 30 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
chmod 644 "$WORK/key.pem"
RPC_BODY='{"method":"GET","path":"/rpc","query":{},"headers":{},"cookies":{},"remote_addr":"127.0.0.1"}'

cat >"$WORK/report.lua" <<'EOF'
-- Prints wrk's summary as one JSON line for bench/run.sh.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"bytes":%d,"duration_us":%d,"socket_errors":%d,"non2xx":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.bytes, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
EOF

# --- servers -------------------------------------------------------------------

declare -A HTTP_PORT TLS_PORT HTTP_PID TLS_PID
NEXT_PORT=$PORT_BASE

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

take_port() {
    while ! port_free "$NEXT_PORT"; do
        NEXT_PORT=$((NEXT_PORT + 1))
    done
    PORT=$NEXT_PORT
    NEXT_PORT=$((NEXT_PORT + 1))
}

# pin CPU|"" CMD...: runs CMD in the background, pinned when CPU is set.
spawn() {
    local cpu=$1 log=$2
    shift 2
    if [[ -n $cpu ]]; then
        taskset -c "$cpu" "$@" >"$log" 2>&1 &
    else
        "$@" >"$log" 2>&1 &
    fi
    SPAWNED=$!
    PIDS+=("$SPAWNED")
}

wait_ready() {
    local name=$1 url=$2 pid=$3
    if ! python3 "$HELPER" probe "$url" || ! kill -0 "$pid" 2>/dev/null; then
        warn "$name did not answer $url; its log:"
        tail -5 "$WORK/$name.log" >&2 || true
        return 1
    fi
}

stop_server() {
    local pid
    for pid in "$@"; do
        [[ -n $pid ]] || continue
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# start_nginx NAME WORKERS CPU: HTTP and HTTPS in one nginx.
start_nginx() {
    local name=$1 workers=$2 cpu=$3 dir=$WORK/$1 http tls
    take_port && http=$PORT
    take_port && tls=$PORT
    mkdir -p "$dir/logs"
    local mime=""
    [[ -f /etc/nginx/mime.types ]] && mime="include /etc/nginx/mime.types;"
    cat >"$dir/nginx.conf" <<EOF
worker_processes $workers;
worker_rlimit_nofile $MAX_FDS;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 16384; }
http {
    $mime
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    keepalive_requests 100000000;
    client_body_temp_path $dir/tmp;
    server {
        listen 127.0.0.1:$http;
        listen 127.0.0.1:$tls ssl;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        root $ROOT;
        # Scenario 10: gzip on the fly (nginx's default level, 1) and
        # precompressed .gz files; Debian's nginx has no brotli module.
        location /c/ {
            gzip on;
            gzip_types application/javascript text/javascript;
        }
        location /p/ {
            gzip_static on;
        }
        location = /rpc {
            default_type application/json;
            return 200 '$RPC_BODY';
        }
    }
}
EOF
    spawn "$cpu" "$WORK/$name.log" nginx -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" -g 'daemon off;'
    HTTP_PORT[$name]=$http TLS_PORT[$name]=$tls HTTP_PID[$name]=$SPAWNED TLS_PID[$name]=$SPAWNED
    wait_ready "$name" "http://127.0.0.1:$http/1k.txt" "$SPAWNED"
}

# start_lighttpd NAME CPU: defaults, logging off; TLS when mod_openssl exists.
start_lighttpd() {
    local name=$1 cpu=$2 dir=$WORK/$1 http tls=""
    take_port && http=$PORT
    mkdir -p "$dir"
    cat >"$dir/lighttpd.conf" <<EOF
server.document-root = "$ROOT"
server.bind = "127.0.0.1"
server.port = $http
server.errorlog = "$dir/error.log"
server.max-fds = $MAX_FDS
server.max-connections = 12000
server.max-keep-alive-requests = 100000000
server.max-keep-alive-idle = 65
mimetype.assign = ( ".txt" => "text/plain", ".bin" => "application/octet-stream" )
EOF
    if [[ -e /usr/lib/lighttpd/mod_openssl.so ]]; then
        take_port && tls=$PORT
        cat >>"$dir/lighttpd.conf" <<EOF
server.modules += ( "mod_openssl" )
\$SERVER["socket"] == "127.0.0.1:$tls" {
    ssl.engine = "enable"
    ssl.pemfile = "$WORK/cert.pem"
    ssl.privkey = "$WORK/key.pem"
}
EOF
    fi
    spawn "$cpu" "$WORK/$name.log" lighttpd -D -f "$dir/lighttpd.conf"
    HTTP_PORT[$name]=$http HTTP_PID[$name]=$SPAWNED
    if [[ -n $tls ]]; then TLS_PORT[$name]=$tls TLS_PID[$name]=$SPAWNED; fi
    wait_ready "$name" "http://127.0.0.1:$http/1k.txt" "$SPAWNED"
}

UHTTPD_ARGS=(-q --bind 127.0.0.1 --keep-alive-max-requests 100000000
    --keep-alive-timeout 65 --max-connections 12000 "${UHTTPD_EXTRA[@]}")

# start_uhttpd NAME WORKERS CPU [tls]: one process per listener.
start_uhttpd() {
    local name=$1 workers=$2 cpu=$3 with_tls=${4:-} http tls
    take_port && http=$PORT
    spawn "$cpu" "$WORK/$name.log" "$UHTTPD" "${UHTTPD_ARGS[@]}" --workers "$workers" -p "$http" "$ROOT"
    HTTP_PORT[$name]=$http HTTP_PID[$name]=$SPAWNED
    wait_ready "$name" "http://127.0.0.1:$http/1k.txt" "$SPAWNED" || return 1
    [[ -n $with_tls ]] || return 0
    take_port && tls=$PORT
    spawn "$cpu" "$WORK/$name-tls.log" "$UHTTPD" "${UHTTPD_ARGS[@]}" --workers "$workers" -p "$tls" \
        --cert "$WORK/cert.pem" --key "$WORK/key.pem" "$ROOT"
    TLS_PORT[$name]=$tls TLS_PID[$name]=$SPAWNED
    wait_ready "$name-tls" "https://127.0.0.1:$tls/1k.txt" "$SPAWNED"
}

# --- measuring -------------------------------------------------------------------

record() { # scenario metric server round value
    printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW"
}

fail() { # scenario server round message
    warn "scenario $1, $2, round $3: $4"
    printf '%s\terror\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"
}

cpu_of() { # PID: CPU seconds of it and its children (nginx workers)
    # shellcheck disable=SC2046
    python3 "$HELPER" cpu $(python3 "$HELPER" tree "$1")
}

mem_of() { # PID: "RSS USS" bytes of it and its children
    # shellcheck disable=SC2046
    python3 "$HELPER" mem $(python3 "$HELPER" tree "$1")
}

client() { # runs the load generator pinned to the client CPU (or unpinned)
    if [[ -n ${CLIENT_PIN-$CLIENT_CPU} ]]; then
        taskset -c "${CLIENT_PIN-$CLIENT_CPU}" "$@"
    else
        "$@"
    fi
}

# wrk_run SCENARIO SERVER ROUND PID URL SECONDS WRK-ARGS...: one measured wrk
# run; sets REQS, RPS, MBPS, P50_MS, P99_MS, CPU_S (server CPU seconds) and
# CPU_US (per request). A run that completed no request fails, unless
# PARTIAL=1 (large downloads: the bytes of the one in flight still count).
wrk_run() {
    local scenario=$1 server=$2 round=$3 pid=$4 url=$5 seconds=$6
    shift 6
    local before after out json
    before=$(cpu_of "$pid")
    if ! out=$(client wrk -d "${seconds}s" -s "$WORK/report.lua" "$@" "$url" 2>&1); then
        fail "$scenario" "$server" "$round" "wrk failed: $(tail -1 <<<"$out")"
        return 1
    fi
    after=$(cpu_of "$pid")
    json=$(grep '^WRKJSON ' <<<"$out" | cut -d' ' -f2-)
    if [[ -z $json ]]; then
        fail "$scenario" "$server" "$round" "no wrk summary"
        return 1
    fi
    read -r REQS RPS MBPS P50_MS P99_MS CPU_S CPU_US ERRS < <(python3 -c '
import json, sys
s = json.loads(sys.argv[1]); cpu = float(sys.argv[3]) - float(sys.argv[2])
secs = s["duration_us"] / 1e6; n = s["requests"]
print(n, n / secs, s["bytes"] / secs / 1e6, s["p50_us"] / 1e3, s["p99_us"] / 1e3,
      cpu, cpu / n * 1e6 if n else "nan", s["socket_errors"] + s["non2xx"])
' "$json" "$before" "$after")
    if ((REQS == 0)) && [[ ${PARTIAL:-0} != 1 || $MBPS == 0.0 ]]; then
        fail "$scenario" "$server" "$round" "no request completed"
        return 1
    fi
    ((ERRS == 0)) || warn "scenario $scenario, $server: $ERRS socket errors or non-2xx answers"
}

# ab_run SCENARIO SERVER ROUND PID URL SECONDS: new connection per request, 64
# concurrent; sets REQS, RPS, CPU_US.
ab_run() {
    local scenario=$1 server=$2 round=$3 pid=$4 url=$5 seconds=$6
    local before after out
    before=$(cpu_of "$pid")
    # -t alone caps the count at 50000; -n after it lifts the cap (ab sizes
    # its statistics array by -n, so not too far).
    if ! out=$(client ab -q -r -c 64 -t "$seconds" -n $((seconds * 100000)) "$url" 2>&1); then
        fail "$scenario" "$server" "$round" "ab failed: $(tail -1 <<<"$out")"
        return 1
    fi
    after=$(cpu_of "$pid")
    REQS=$(awk '/^Complete requests:/ {print $3}' <<<"$out")
    RPS=$(awk '/^Requests per second:/ {print $4}' <<<"$out")
    if [[ -z $REQS || $REQS == 0 ]]; then
        fail "$scenario" "$server" "$round" "ab completed no request"
        return 1
    fi
    CPU_US=$(python3 -c "print(($after - $before) / $REQS * 1e6)")
}

# Servers in the order of a round; rotated each round so that none always
# runs first.
rotate() { # ROUND NAME...
    local round=$1
    shift
    local n=$# i
    local names=("$@")
    for ((i = 0; i < n; i++)); do
        printf '%s\n' "${names[$(((i + round) % n))]}"
    done
}

# each_round SCENARIO FUNCTION SERVER...: FUNCTION SERVER ROUND for every
# server, interleaved, ROUNDS times, after one warm-up pass. A failure is
# recorded and the loop goes on.
each_round() {
    local scenario=$1 fn=$2 round server
    shift 2
    if ((WARMUP > 0)); then
        for server in "$@"; do
            WARM=1 "$fn" "$server" 0 >/dev/null 2>&1 || true
        done
    fi
    for ((round = 1; round <= ROUNDS; round++)); do
        while read -r server; do
            log "scenario $scenario, round $round/$ROUNDS: $server"
            "$fn" "$server" "$round" || true
        done < <(rotate "$round" "$@")
    done
}

seconds_for() { if [[ ${WARM:-0} == 1 ]]; then echo "$WARMUP"; else echo "$DURATION"; fi; }

keep() { [[ ${WARM:-0} == 1 ]] || record "$@"; }

# --- scenarios -----------------------------------------------------------------

# 1-3: 1 KiB file, keep-alive, CONNS connections.
s_keepalive() { # server round (CONNS, SCEN from the caller)
    local server=$1 round=$2 extra=()
    [[ $SCEN == 2 ]] && extra=(--latency)
    wrk_run "$SCEN" "$server" "$round" "${HTTP_PID[$server]}" \
        "http://127.0.0.1:${HTTP_PORT[$server]}/1k.txt" "$(seconds_for)" \
        -t 1 -c "$CONNS" --timeout 10s "${extra[@]}" || return 1
    keep "$SCEN" rps "$server" "$round" "$RPS"
    keep "$SCEN" cpu_us "$server" "$round" "$CPU_US"
    if [[ $SCEN == 2 ]]; then
        keep "$SCEN" p50_ms "$server" "$round" "$P50_MS"
        keep "$SCEN" p99_ms "$server" "$round" "$P99_MS"
    fi
}

s4_close() {
    local server=$1 round=$2
    ab_run 4 "$server" "$round" "${HTTP_PID[$server]}" \
        "http://127.0.0.1:${HTTP_PORT[$server]}/1k.txt" "$(seconds_for)" || return 1
    keep 4 rps "$server" "$round" "$RPS"
    keep 4 cpu_us "$server" "$round" "$CPU_US"
}

s5_download() { # CONNS parallel downloads of the 100 MiB file
    local server=$1 round=$2
    PARTIAL=1 wrk_run 5 "$server" "$round" "${HTTP_PID[$server]}" \
        "http://127.0.0.1:${HTTP_PORT[$server]}/100m.bin" "$(seconds_for)" \
        -t 1 -c "$CONNS" --timeout 30s || return 1
    keep 5 "mbps_$CONNS" "$server" "$round" "$MBPS"
    keep 5 "cpu_us_per_mb_$CONNS" "$server" "$round" \
        "$(python3 -c "print($CPU_S * 1e6 / ($MBPS * $(seconds_for)))")"
}

# 11: CONNS parallel HTTPS downloads of the 100 MiB file (no kTLS here:
# every server reads the file and encrypts it in user space).
s11_https_download() {
    local server=$1 round=$2
    [[ -n ${TLS_PORT[$server]:-} ]] || {
        fail 11 "$server" "$round" "no TLS listener"
        return 1
    }
    PARTIAL=1 wrk_run 11 "$server" "$round" "${TLS_PID[$server]}" \
        "https://127.0.0.1:${TLS_PORT[$server]}/100m.bin" "$(seconds_for)" \
        -t 1 -c "$CONNS" --timeout 30s || return 1
    keep 11 "mbps_$CONNS" "$server" "$round" "$MBPS"
    keep 11 "cpu_us_per_mb_$CONNS" "$server" "$round" \
        "$(python3 -c "print($CPU_S * 1e6 / ($MBPS * $(seconds_for)))")"
}

s6_rpc() {
    local server=$1 round=$2
    wrk_run 6 "$server" "$round" "${HTTP_PID[$server]}" \
        "http://127.0.0.1:${HTTP_PORT[$server]}/rpc" "$(seconds_for)" \
        -t 1 -c 64 --timeout 10s || return 1
    keep 6 rps "$server" "$round" "$RPS"
    keep 6 cpu_us "$server" "$round" "$CPU_US"
}

s8_https() {
    local server=$1 round=$2
    [[ -n ${TLS_PORT[$server]:-} ]] || {
        fail 8 "$server" "$round" "no TLS listener"
        return 1
    }
    wrk_run 8 "$server" "$round" "${TLS_PID[$server]}" \
        "https://127.0.0.1:${TLS_PORT[$server]}/1k.txt" "$(seconds_for)" \
        -t 1 -c 64 --timeout 10s || return 1
    keep 8 rps "$server" "$round" "$RPS"
    keep 8 cpu_us "$server" "$round" "$CPU_US"
}

s8_handshakes() {
    local server=$1 round=$2
    [[ -n ${TLS_PORT[$server]:-} ]] || return 1
    ab_run 8 "$server" "$round" "${TLS_PID[$server]}" \
        "https://127.0.0.1:${TLS_PORT[$server]}/1k.txt" "$(seconds_for)" || return 1
    keep 8 handshakes "$server" "$round" "$RPS"
    keep 8 cpu_us_handshake "$server" "$round" "$CPU_US"
}

s9_workers() {
    local server=$1 round=$2
    wrk_run 9 "$server" "$round" "${HTTP_PID[$server]}" \
        "http://127.0.0.1:${HTTP_PORT[$server]}/1k.txt" "$(seconds_for)" \
        -t 2 -c 64 --timeout 10s --latency || return 1
    keep 9 rps "$server" "$round" "$RPS"
    keep 9 cpu_us "$server" "$round" "$CPU_US"
    keep 9 p99_ms "$server" "$round" "$P99_MS"
}

# 10: the 100 KiB script, compressed: VARIANT (fly: coded on the fly,
# static: precompressed sibling), METRIC gzip_* or br_*; uhttpd runs as
# its own process with --compress (UHTTPD_Z_PORT). gzip against gzip:
# nginx is sent "br, gzip" (it has no brotli, so answers gzip), uhttpd
# "gzip" for the gzip figures and "br, gzip" for the brotli ones. Records
# req/s, CPU per request and bytes per response (headers included) as
# METRIC_{rps,cpu_us,bytes}.
s10_compressed() {
    local server=$1 round=$2 port pid dir accept="br, gzip"
    [[ $server == uhttpd && $METRIC == gzip_* ]] && accept=gzip
    case $server in
    nginx) port=${HTTP_PORT[nginx]} pid=${HTTP_PID[nginx]} ;;
    uhttpd) port=$UHTTPD_Z_PORT pid=$UHTTPD_Z_PID ;;
    esac
    dir=$([[ $VARIANT == fly ]] && echo c || echo p)
    wrk_run 10 "$server" "$round" "$pid" "http://127.0.0.1:$port/$dir/app.js" "$(seconds_for)" \
        -t 1 -c 64 --timeout 10s -H "Accept-Encoding: $accept" || return 1
    keep 10 "${METRIC}_rps" "$server" "$round" "$RPS"
    keep 10 "${METRIC}_cpu_us" "$server" "$round" "$CPU_US"
    keep 10 "${METRIC}_bytes" "$server" "$round" "$(python3 -c "print($MBPS * 1e6 / $RPS)")"
}

# 7: a fresh server per round: memory after start, then holding IDLE_CONNS
# idle keep-alive connections.
s7_memory() {
    local kind=$1 round=$2 name="mem-$1-$2" pid mem rss uss before held out holder
    case $kind in
    nginx) start_nginx "$name" 1 "$SERVER_CPU" ;;
    lighttpd) start_lighttpd "$name" "$SERVER_CPU" ;;
    uhttpd) start_uhttpd "$name" 1 "$SERVER_CPU" ;;
    esac || {
        fail 7 "$kind" "$round" "server did not start"
        stop_server "${HTTP_PID[$name]:-}"
        return 1
    }
    pid=${HTTP_PID[$name]}
    sleep 0.5 # the probe request is answered; let the process settle
    read -r rss uss < <(mem_of "$pid")
    record 7 rss_start "$kind" "$round" "$rss"
    record 7 uss_start "$kind" "$round" "$uss"
    before=$rss
    out=$WORK/$name.idle
    : >"$out"
    # Not through client(): $! must be the holder itself (taskset execs it).
    taskset -c "$CLIENT_CPU" python3 "$HELPER" idle 127.0.0.1 "${HTTP_PORT[$name]}" /1k.txt \
        "$IDLE_CONNS" >"$out" 2>&1 &
    holder=$!
    HOLDER=$holder
    while kill -0 "$holder" 2>/dev/null && ! grep -q '^ready' "$out"; do
        sleep 0.2
    done
    read -r _ held failed < <(grep '^ready' "$out" || echo "ready 0 0")
    if ((held > 0)); then
        sleep 1
        read -r rss uss < <(mem_of "$pid")
        record 7 rss_idle "$kind" "$round" "$rss"
        record 7 bytes_per_conn "$kind" "$round" "$(((rss - before) / held))"
        ((failed == 0)) || fail 7 "$kind" "$round" "$failed of $IDLE_CONNS connections failed"
    else
        fail 7 "$kind" "$round" "no idle connection held: $(tail -1 "$out")"
    fi
    kill "$holder" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    HOLDER=""
    stop_server "$pid"
}

# --- run -----------------------------------------------------------------------

wanted() { [[ " $WANT_PEERS " == *" $1 "* ]]; }
PEERS=()
((HAVE_NGINX)) && wanted nginx && PEERS+=(nginx)
((HAVE_LIGHTTPD)) && wanted lighttpd && PEERS+=(lighttpd)
wanted uhttpd && PEERS+=(uhttpd)

wants() { [[ " $SCENARIOS " == *" $1 "* ]]; }

SERVERS=()
start_all() {
    local server
    for server in "${PEERS[@]}"; do
        case $server in
        nginx) start_nginx nginx 1 "$SERVER_CPU" ;;
        lighttpd) start_lighttpd lighttpd "$SERVER_CPU" ;;
        uhttpd) start_uhttpd uhttpd 1 "$SERVER_CPU" tls ;;
        esac && SERVERS+=("$server") || fail start "$server" 0 "did not start"
    done
}

log "uhttpd: $UHTTPD; duration ${DURATION}s, $ROUNDS rounds, scenarios: $SCENARIOS"
STARTED=$(date -u +%FT%TZ)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

# Memory first, on fresh processes, before anything else has run.
if wants 7; then
    for ((round = 1; round <= ROUNDS; round++)); do
        while read -r server; do
            log "scenario 7, round $round/$ROUNDS: $server"
            s7_memory "$server" "$round" || true
        done < <(rotate "$round" "${PEERS[@]}")
    done
fi

if wants 1 || wants 2 || wants 3 || wants 4 || wants 5 || wants 6 || wants 8 || wants 11; then
    start_all
    for SCEN in 1 2 3; do
        CONNS=$([[ $SCEN == 1 ]] && echo 1 || ([[ $SCEN == 2 ]] && echo 64 || echo 1000))
        wants $SCEN && each_round $SCEN s_keepalive "${SERVERS[@]}"
    done
    wants 4 && each_round 4 s4_close "${SERVERS[@]}"
    if wants 5; then
        for CONNS in 1 4; do
            each_round 5 s5_download "${SERVERS[@]}"
        done
    fi
    if wants 6; then
        # lighttpd has no built-in dynamic answer to compare with.
        rpc_servers=()
        for server in "${SERVERS[@]}"; do
            [[ $server == lighttpd ]] || rpc_servers+=("$server")
        done
        each_round 6 s6_rpc "${rpc_servers[@]}"
    fi
    if wants 8; then
        tls_servers=()
        for server in "${SERVERS[@]}"; do
            [[ -n ${TLS_PORT[$server]:-} ]] && tls_servers+=("$server")
        done
        each_round 8 s8_https "${tls_servers[@]}"
        each_round 8 s8_handshakes "${tls_servers[@]}"
    fi
    if wants 11; then
        tls_servers=()
        for server in "${SERVERS[@]}"; do
            [[ -n ${TLS_PORT[$server]:-} ]] && tls_servers+=("$server")
        done
        for CONNS in 1 4; do
            each_round 11 s11_https_download "${tls_servers[@]}"
        done
    fi
    for server in "${SERVERS[@]}"; do
        stop_server "${HTTP_PID[$server]}" "${TLS_PID[$server]:-}"
    done
fi

# 9: two workers, nothing pinned; uhttpd with one worker for its scaling.
if wants 9; then
    CLIENT_PIN=""
    s9=()
    if ((HAVE_NGINX)); then
        start_nginx nginx-2w 2 "" && s9+=(nginx-2w) || fail 9 nginx 0 "did not start"
    fi
    start_uhttpd uhttpd-2w 2 "" && s9+=(uhttpd-2w) || fail 9 uhttpd 0 "did not start"
    start_uhttpd uhttpd-1w 1 "" && s9+=(uhttpd-1w) || fail 9 uhttpd-1w 0 "did not start"
    ((${#s9[@]})) && each_round 9 s9_workers "${s9[@]}"
    for server in "${s9[@]}"; do
        stop_server "${HTTP_PID[$server]}"
    done
    unset CLIENT_PIN
fi

if wants 10; then
    s10=()
    if ((HAVE_NGINX)); then
        start_nginx nginx 1 "$SERVER_CPU" && s10+=(nginx) || fail 10 nginx 0 "did not start"
    fi
    take_port && UHTTPD_Z_PORT=$PORT
    spawn "$SERVER_CPU" "$WORK/uhttpd-z.log" "$UHTTPD" "${UHTTPD_ARGS[@]}" --compress \
        -p "$UHTTPD_Z_PORT" "$ROOT"
    UHTTPD_Z_PID=$SPAWNED
    if wait_ready uhttpd-z "http://127.0.0.1:$UHTTPD_Z_PORT/1k.txt" "$SPAWNED"; then
        if [[ ! -e $ROOT/p/app.js.br ]]; then
            python3 "$HELPER" fetch "http://127.0.0.1:$UHTTPD_Z_PORT/c/app.js" br >"$ROOT/p/app.js.br"
            touch -r "$ROOT/p/app.js" "$ROOT/p/app.js.br"
            chmod 644 "$ROOT/p/app.js.br"
        fi
        log "scenario 10: app.js $(stat -c %s "$ROOT/p/app.js") bytes, .gz $(stat -c %s "$ROOT/p/app.js.gz"), .br $(stat -c %s "$ROOT/p/app.js.br")"
        VARIANT=fly METRIC=gzip_fly each_round 10 s10_compressed "${s10[@]}" uhttpd
        VARIANT=static METRIC=gzip_static each_round 10 s10_compressed "${s10[@]}" uhttpd
        VARIANT=fly METRIC=br_fly each_round 10 s10_compressed uhttpd
        VARIANT=static METRIC=br_static each_round 10 s10_compressed uhttpd
    else
        fail 10 uhttpd 0 "did not start"
    fi
    stop_server "${HTTP_PID[nginx]:-}" "$UHTTPD_Z_PID"
fi

# 12: the library against the Rust frameworks, with the same settings. Its
# own script builds and runs the apps; its table joins this report.
if wants 12; then
    log "scenario 12: bench/frameworks/run.sh"
    DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS RESULTS="$WORK/frameworks.md" \
        "$BENCH_DIR/frameworks/run.sh" || fail 12 frameworks 0 "bench/frameworks/run.sh failed"
fi

# --- report ------------------------------------------------------------------

machine() {
    local v
    echo "- date: $STARTED"
    echo "- CPUs (nproc): $(nproc); model: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "- kernel: $(uname -srm); load average at the start: $LOAD_AT_START"
    v=$( ((HAVE_NGINX)) && nginx -v 2>&1 | sed 's/.*: //' || echo "not installed")
    echo "- nginx: $v; lighttpd: $( ((HAVE_LIGHTTPD)) && lighttpd -v 2>&1 | head -1 | sed 's/ - .*//' || echo "not installed")"
    echo "- wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}'); ab: $(ab -V 2>&1 | head -1 | awk '{print $5}'); $(openssl version | cut -d' ' -f1-2)"
    echo "- uhttpd: $("$UHTTPD" --version) $UHTTPD_AT"
    echo "- settings: DURATION=${DURATION}s, ROUNDS=$ROUNDS, WARMUP=${WARMUP}s, IDLE_CONNS=$IDLE_CONNS, servers on CPU $SERVER_CPU, load generator on CPU $CLIENT_CPU (scenario 9: unpinned)${UHTTPD_EXTRA_ARGS:+; uhttpd extra arguments: $UHTTPD_EXTRA_ARGS}"
}

machine >"$WORK/machine.md"
python3 "$BENCH_DIR/report.py" "$RAW" "$WORK/machine.md" "$RESULTS" "$WORK/frameworks.md"
[[ $RESULTS == - ]] || log "written to $RESULTS"
exit
}

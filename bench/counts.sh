#!/usr/bin/env bash
# Load-independent costs of one keep-alive request (issue 16): system
# calls (`strace -c -f`) and user-space instructions (callgrind) per
# request, for the 1 KiB file and for `/rpc`, on one `ab -k` connection.
# Counts, unlike req/s, do not change with what else the machine runs, so
# two builds can be compared on a busy machine.
#
#   bench/counts.sh                      build (profile `profiling`) and count
#   UHTTPD_BIN=/tmp/old/uhttpd bench/counts.sh   count another binary
#
# Environment: N=20000 requests per strace run; instructions per request
# are the difference between callgrind runs of 11,000 and 1,000 requests,
# divided by 10,000 (start-up and shutdown cancel out). PORT=18650.
# Needs strace, valgrind, ab (apache2-utils) and curl.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${PORT:-18650}
N=${N:-20000}
for cmd in strace valgrind callgrind_annotate ab curl; do
    command -v "$cmd" >/dev/null || {
        echo "counts: $cmd is missing" >&2
        exit 1
    }
done
if [[ -n ${UHTTPD_BIN:-} ]]; then
    BIN=$UHTTPD_BIN
else
    (cd "$REPO" && cargo build --profile profiling --quiet --bin uhttpd)
    BIN=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/profiling/uhttpd
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/root"
head -c 1024 /dev/zero | tr '\0' x >"$WORK/root/1k.txt"

# run NAME URL REQUESTS TOOL...: uhttpd under TOOL answers REQUESTS
# keep-alive requests for URL, then stops on SIGINT.
run() {
    local name=$1 url=$2 requests=$3 tool=$4 pid server i
    shift 3
    "$@" "$BIN" -q -p "$PORT" -b 127.0.0.1 "$WORK/root" >"$WORK/$name.log" 2>&1 &
    pid=$!
    for ((i = 0; i < 300; i++)); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/1k.txt" && break
        sleep 0.1
    done
    ab -q -n "$requests" -c 1 -k "$url" >"$WORK/$name.ab"
    grep -q '^Failed requests: *0$' "$WORK/$name.ab" || {
        echo "counts: $name: failed requests" >&2
        exit 1
    }
    # strace's child is the server; valgrind is the server itself.
    server=$pid
    [[ $tool == strace ]] && server=$(pgrep -P "$pid")
    kill -INT "$server"
    wait "$pid" || true
}

total() { # callgrind output: its instruction total
    callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }'
}

echo "uhttpd: $BIN"
for path in 1k.txt rpc; do
    url="http://127.0.0.1:$PORT/$path"
    run "strace-$path" "$url" "$N" strace -c -f -o "$WORK/strace-$path.txt"
    echo "/$path: system calls per request ($N requests; the curl probes before them included)"
    awk -v n="$N" 'NR > 2 && $NF !~ /^(total|-+)$/ && NF >= 5 {
        calls = ($4 ~ /^[0-9]+$/) ? $4 : 0
        if (calls >= n / 100) printf "  %-14s %6.3f\n", $NF, calls / n
    }' "$WORK/strace-$path.txt"
    for n in 1000 11000; do
        run "cg-$path-$n" "$url" "$n" valgrind --tool=callgrind \
            --callgrind-out-file="$WORK/cg-$path-$n.out"
    done
    a=$(total "$WORK/cg-$path-1000.out")
    b=$(total "$WORK/cg-$path-11000.out")
    echo "/$path: instructions per request: $(((b - a) / 10000))"
done

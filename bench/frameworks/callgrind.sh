#!/usr/bin/env bash
# Instructions per request of one app, load-independent (issue 16): runs
# BIN under callgrind, sends it a fixed number of requests with load.py,
# and prints the instructions it executed per request.
#
#   bench/frameworks/callgrind.sh BIN [PATH] [DEPTH]
#
# PATH: /plaintext (default) or /json; DEPTH: requests per write (1: not
# pipelined; 16: pipelined). CONNS=16 connections, ROUNDS=200 batches each,
# PORT=18490. A run with ROUNDS=1 is subtracted, so start-up and
# connection set-up do not count.
set -euo pipefail
BIN=$1 URL_PATH=${2:-/plaintext} DEPTH=${3:-1}
CONNS=${CONNS:-16} ROUNDS=${ROUNDS:-200} PORT=${PORT:-18490}
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is missing" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Total instructions of BIN serving ROUNDS rounds.
count() {
    local rounds=$1
    valgrind --tool=callgrind --callgrind-out-file="$WORK/out.%p" "$BIN" "$PORT" \
        >"$WORK/log" 2>&1 &
    local pid=$!
    for _ in $(seq 600); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), timeout=1).close()" \
            2>/dev/null && break
        sleep 0.1
    done
    python3 "$DIR/load.py" "$PORT" "$URL_PATH" "$CONNS" "$rounds" "$DEPTH" >/dev/null
    kill -TERM "$pid"
    wait "$pid" || true
    cat "$WORK"/out.* | awk '/^summary:/ { s += $2 } END { print s }'
    rm -f "$WORK"/out.*
}

base=$(count 1)
full=$(count "$ROUNDS")
requests=$((CONNS * (ROUNDS - 1) * DEPTH))
echo "$BIN $URL_PATH depth $DEPTH: $(((full - base) / requests)) instructions per request ($requests requests)"

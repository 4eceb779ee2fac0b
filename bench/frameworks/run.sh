#!/usr/bin/env bash
# Frameworks benchmark (issue 16): uhttp against other Rust HTTP servers on
# TechEmpower's plaintext and JSON tests, with and without pipelining.
#
# One command: builds every app of this workspace (release), then for each
# round and server starts it pinned to CPU 0, loads it with wrk pinned to
# CPU 1 (256 connections; pipelined: 16 requests per write, pipeline.lua)
# and measures req/s and requests per server CPU-second (utime+stime of the
# server from /proc/PID/stat over the measured run). Prints one table of
# medians with ratios to the best and writes it to RESULTS.md.
#
# Environment:
#   DURATION=10   seconds per measured run
#   WARMUP=2      seconds of unrecorded load before each run
#   ROUNDS=3      rounds; each runs every server once per test
#   SERVERS="uhttp may_minihttp hyper actix tiny_http astra"
#   CONNECTIONS=256, DEPTH=16, PORT=18400
#   RESULTS=bench/frameworks/RESULTS.md  ("-": nowhere)
#   SKIP_BUILD=1  use the binaries already built
#   CARGO_TARGET_DIR  where the workspace builds (default: target/ here)
set -euo pipefail
{

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
SERVERS=${SERVERS:-uhttp may_minihttp hyper actix tiny_http astra}
CONNECTIONS=${CONNECTIONS:-256}
DEPTH=${DEPTH:-16}
PORT=${PORT:-18400}
RESULTS=${RESULTS:-$DIR/RESULTS.md}
TARGET=${CARGO_TARGET_DIR:-$DIR/target}

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

for cmd in wrk taskset curl python3 cargo; do
    command -v "$cmd" >/dev/null || {
        echo "frameworks: $cmd is missing (scripts/install-test-deps.sh, or apt-get install wrk)" >&2
        exit 1
    }
done

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building the apps (cargo build --release in bench/frameworks)"
    (cd "$DIR" && CARGO_TARGET_DIR=$TARGET cargo build --release --quiet)
fi

# The binary of each app: bench-NAME, '_' spelt '-'.
declare -A BIN
for s in $SERVERS; do
    b="$TARGET/release/bench-${s//_/-}"
    if [[ -x $b ]]; then BIN[$s]=$b; else log "no binary for $s ($b): skipped"; fi
done

if [[ $(nproc) -ge 2 ]]; then SERVER_CPU=0 CLIENT_CPU=1; else SERVER_CPU=0 CLIENT_CPU=0; fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RAW=$WORK/raw.tsv

# utime+stime of PID (all its threads), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

start() {
    local name=$1
    taskset -c "$SERVER_CPU" "${BIN[$name]}" "$PORT" >"$WORK/$name.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 200); do
        curl -fs -o /dev/null "http://127.0.0.1:$PORT/plaintext" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "frameworks: $name did not start (log: $(cat "$WORK/$name.log"))" >&2
    return 1
}

stop() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# wrk against TEST (plaintext|json), pipelined (1) or not (0), for SECS.
load() {
    local test=$1 pipelined=$2 secs=$3 script=()
    [[ $pipelined == 1 ]] && script=(-s "$DIR/pipeline.lua")
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${secs}s" "${script[@]}" \
        "http://127.0.0.1:$PORT/$test" ${script:+-- "$DEPTH"}
}

TESTS="plaintext:0 json:0 plaintext:1 json:1"
for round in $(seq "$ROUNDS"); do
    for s in "${!BIN[@]}"; do
        log "round $round/$ROUNDS: $s"
        start "$s" || continue
        for t in $TESTS; do
            test=${t%:*} pipelined=${t#*:}
            ((WARMUP > 0)) && load "$test" "$pipelined" "$WARMUP" >/dev/null
            before=$(cpu_ticks "$SERVER_PID")
            out=$(load "$test" "$pipelined" "$DURATION")
            after=$(cpu_ticks "$SERVER_PID")
            requests=$(awk '/requests in/ { print $1 }' <<<"$out")
            errors=$(awk '/Non-2xx|Socket errors/' <<<"$out" | tr '\n' ' ')
            [[ -n $errors ]] && log "$s $test pipelined=$pipelined: $errors"
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$test" "$pipelined" "${requests:-0}" \
                "$((after - before))" "$DURATION" >>"$RAW"
        done
        stop
    done
done

MACHINE="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs, Linux $(uname -r); \
$(rustc --version | cut -d' ' -f1-2); $({ wrk --version 2>&1 || true; } | head -1 | cut -d' ' -f1-2)"
python3 - "$RAW" "$RESULTS" "$MACHINE" "$ROUNDS" "$DURATION" "$CONNECTIONS" "$DEPTH" <<'PY'
import os, statistics, sys
from collections import defaultdict

raw, results, machine, rounds, duration, conns, depth = sys.argv[1:]
tick = os.sysconf("SC_CLK_TCK")
runs = defaultdict(list)
for line in open(raw):
    server, test, pipelined, requests, ticks, secs = line.split("\t")
    runs[(server, test, pipelined)].append((int(requests), int(ticks) / tick, float(secs)))

figures = [("plaintext", "0"), ("json", "0"), ("plaintext", "1"), ("json", "1")]
names = {("plaintext", "0"): "plaintext", ("json", "0"): "JSON",
         ("plaintext", "1"): f"plaintext, pipelined ×{depth}", ("json", "1"): f"JSON, pipelined ×{depth}"}
servers = sorted({k[0] for k in runs})
rps, per_cpu = {}, {}
for key, vals in runs.items():
    rps[key] = statistics.median(r / s for r, _, s in vals)
    per_cpu[key] = statistics.median(r / c if c > 0 else 0 for r, c, _ in vals)

def best(table, fig):
    return max((table.get((s,) + fig, 0) for s in servers), default=0) or 1

lines = [
    "# Frameworks benchmark",
    "",
    f"`bench/frameworks/run.sh`: {machine}. Each server pinned to CPU 0, wrk "
    f"(1 thread, {conns} connections) on CPU 1; medians of {rounds} round(s) of "
    f"{duration} s. *CPU-s* = the server's utime+stime over the run "
    "(/proc/PID/stat); ratios are to the best server of the column.",
    "",
]
head = "| server |" + "".join(f" {names[f]}: req/s | ratio | req per CPU-s | ratio |" for f in figures)
lines += [head, "| --- |" + " ---: | ---: | ---: | ---: |" * len(figures)]
for s in servers:
    row = f"| {s} |"
    for f in figures:
        k = (s,) + f
        if k not in rps:
            row += " | | | |"
            continue
        row += (f" {rps[k]:,.0f} | {rps[k] / best(rps, f):.2f} |"
                f" {per_cpu[k]:,.0f} | {per_cpu[k] / best(per_cpu, f):.2f} |")
    lines.append(row)
text = "\n".join(lines) + "\n"
print(text)
if results != "-":
    with open(results, "w") as out:
        out.write(text)
PY

}

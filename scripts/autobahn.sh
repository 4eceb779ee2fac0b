#!/usr/bin/env bash
# Runs the Autobahn TestSuite (the WebSocket conformance suite,
# `wstest -m fuzzingclient`) against the release build of
# examples/ws_echo with a 16 MiB message limit, prints the counts per case
# group, every case that is not OK and the 9.7/9.8 round trips as messages
# per second, and exits non-zero unless every case is OK (INFORMATIONAL
# only for the three cases the suite leaves to the server: see
# scripts/autobahn/report.py).
#
#   scripts/autobahn.sh [CASE...]      # default: every case ('*'); e.g. '9.*' 7.13.1
#   WS_ECHO_BIN=PATH scripts/autobahn.sh '9.7.*'   # against another build
#
# The full report stays in target/autobahn/ (open PART/index.html there;
# the suite's own log is PART/wstest.log). The suite is Python 2 code: it is
# installed once, pinned (scripts/autobahn/requirements.txt), into a
# virtualenv made with pyenv's Python 2.7.18 in target/autobahn-venv, and
# reused while the pins are unchanged. AUTOBAHN_PYTHON names another 2.7
# interpreter. The suite takes a few minutes (the permessage-deflate
# groups 12 and 13 most of it; the Python client is the slow side).
set -euo pipefail
cd "$(dirname "$0")/.."

target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
venv=$target/autobahn-venv
reports=$target/autobahn
requirements=scripts/autobahn/requirements.txt
cases=("${@:-*}")

fail() {
    echo "autobahn: $*" >&2
    exit 1
}

# Python 2.7 and the suite.
if [ -z "${AUTOBAHN_PYTHON:-}" ]; then
    pyenv_root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    AUTOBAHN_PYTHON=$pyenv_root/versions/2.7.18/bin/python
fi
"$AUTOBAHN_PYTHON" -c 'import sys; assert sys.version_info[:2] == (2, 7)' 2>/dev/null ||
    fail "needs Python 2.7 (the suite is Python 2 code): $AUTOBAHN_PYTHON is missing or not 2.7; install it with pyenv or set AUTOBAHN_PYTHON"
stamp=$venv/.requirements
if ! cmp -s "$requirements" "$stamp" || [ ! -x "$venv/bin/wstest" ]; then
    echo "autobahn: installing the suite into $venv"
    rm -rf "$venv"
    if ! "$AUTOBAHN_PYTHON" -m virtualenv --version >/dev/null 2>&1; then
        # The last virtualenv releases that still make Python 2 environments.
        "$AUTOBAHN_PYTHON" -m pip install -q --disable-pip-version-check "virtualenv<20.22" ||
            fail "could not install virtualenv for $AUTOBAHN_PYTHON"
    fi
    "$AUTOBAHN_PYTHON" -m virtualenv -q "$venv" || fail "could not make the virtualenv $venv"
    if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" \
        >"$venv/install.log" 2>&1; then
        grep -v DEPRECATION "$venv/install.log" | tail -n 30 >&2
        fail "could not install the suite (log: $venv/install.log)"
    fi
    "$venv/bin/wstest" --autobahnversion >/dev/null 2>&1 ||
        fail "the suite did not install: $venv/bin/wstest does not run"
    cp "$requirements" "$stamp"
fi

# The server.
# WS_ECHO_BIN=PATH runs the suite against another build (a before/after
# comparison) instead of building this tree's.
if [ -n "${WS_ECHO_BIN:-}" ]; then
    server_bin=$WS_ECHO_BIN
    [ -x "$server_bin" ] || fail "WS_ECHO_BIN=$server_bin is not an executable"
else
    cargo build --release --example ws_echo
    server_bin=$target/release/examples/ws_echo
fi
work=$(mktemp -d)
server_pid=
stop() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM
# Port 0: the example prints the address it bound, and accepts from then on.
"$server_bin" 0 --max-message-size 16777216 >"$work/server.log" 2>&1 &
server_pid=$!
address=
for _ in $(seq 100); do
    address=$(grep -o -m 1 -E '127\.0\.0\.1:[0-9]+' "$work/server.log" || true)
    [ -n "$address" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$address" ]; then
    cat "$work/server.log" >&2
    fail "ws_echo did not start (its output is above)"
fi
(exec 3<>"/dev/tcp/${address%:*}/${address#*:}") 2>/dev/null ||
    fail "ws_echo does not accept connections at $address"

# The suite: every case, no exclusions, the report into $reports. The whole
# suite runs as two clients at once (the permessage-deflate group 13 in one,
# everything else in the other: about the same time each), so that both
# cores work; the Python client is the slow side. Cases named on the
# command line run in one client.
rm -rf "$reports"
mkdir -p "$reports"
if [ "${cases[*]}" = "*" ]; then
    parts=("rest" "13")
else
    parts=("given")
fi
for part in "${parts[@]}"; do
    mkdir -p "$work/$part" "$reports/$part"
    python3 - "$work/$part/spec.json" "ws://$address/ws" "$reports/$part" "$part" "${cases[@]}" <<'EOF'
import json, sys
spec_path, url, outdir, part, *cases = sys.argv[1:]
excluded = []
if part == "rest":
    excluded = ["13.*"]
elif part == "13":
    cases = ["13.*"]
spec = {
    "outdir": outdir,
    "servers": [{"agent": "uhttp ws_echo", "url": url}],
    "cases": cases,
    "exclude-cases": excluded,
    "exclude-agent-cases": {},
}
with open(spec_path, "w") as f:
    json.dump(spec, f, indent=2)
EOF
done
echo "autobahn: running cases ${cases[*]} against ws://$address/ws (${#parts[@]} clients)"
started=$SECONDS
# Bounded: each case has its own time-out (at most 480 s, 9.7.6/9.8.6), so a
# server that stops answering ends the run here rather than hanging CI.
clients=()
for part in "${parts[@]}"; do
    (cd "$work/$part" && exec timeout 1200 "$venv/bin/wstest" -m fuzzingclient -s spec.json) \
        >"$reports/$part/wstest.log" 2>&1 &
    clients+=($!)
done
for i in "${!parts[@]}"; do
    status=0
    wait "${clients[$i]}" || status=$?
    if [ "$status" -ne 0 ]; then
        tail -n 30 "$reports/${parts[$i]}/wstest.log" >&2
        fail "wstest exited with $status (log: $reports/${parts[$i]}/wstest.log)"
    fi
done
echo "autobahn: suite ran in $((SECONDS - started)) s"
kill -0 "$server_pid" 2>/dev/null || {
    cat "$work/server.log" >&2
    fail "ws_echo died during the run (its output is above)"
}

python3 scripts/autobahn/report.py "${parts[@]/#/$reports/}"

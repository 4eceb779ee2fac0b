#!/usr/bin/env bash
# REDbot (HTTP lint) against a running uhttpd: fails on any BAD note,
# prints the WARN notes.
#
# Installs redbot (pinned) into a virtualenv under target/ (reused when
# present), builds uhttpd, generates a tree in a temporary directory (an
# HTML page, a CSS file, a 5 MiB binary, a directory listing), starts
# uhttpd on a free loopback port and runs REDbot's command line on each URL:
# the page, the CSS, the binary (REDbot also sends a Range request, an
# If-None-Match and an If-Modified-Since for each), the listing, the
# directory without its slash (a redirect), a missing path (404) and /rpc.
# Notes are read from REDbot's HAR output (`-o har`: each entry carries
# `_red_messages` with a level), not from its prose. Each URL must also get
# the notes that show REDbot's range and conditional requests were made
# (a check it skipped would otherwise pass unseen).
#
#   scripts/redbot.sh                     # build, check, print notes
#   UHTTPD_BIN=path scripts/redbot.sh     # check that binary instead
#   KEEP_WORK=1 scripts/redbot.sh         # keep the tree and HAR files
set -euo pipefail
cd "$(dirname "$0")/.."

REDBOT_VERSION=2.7.1
VENV=target/redbot-venv

die() {
    echo "redbot.sh: $*" >&2
    exit 1
}

# redbot needs Python 3.11 or later: pyenv's, else the system's.
find_python() {
    local candidates=()
    [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
    if command -v pyenv >/dev/null; then
        local root
        root=$(pyenv root)
        for py in "$root"/versions/3.1[1-9]*/bin/python; do
            [ -x "$py" ] && candidates+=("$py")
        done
    fi
    candidates+=(python3)
    for py in "${candidates[@]}"; do
        if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$py"
            return
        fi
    done
    die "no Python 3.11 or later found (redbot $REDBOT_VERSION needs it); set PYTHON"
}

installed_version() {
    "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("redbot"))' 2>/dev/null || true
}

if [ "$(installed_version)" != "$REDBOT_VERSION" ]; then
    python=$(find_python)
    echo "installing redbot $REDBOT_VERSION into $VENV (with $python)"
    rm -rf "$VENV"
    "$python" -m venv "$VENV" || die "cannot create the virtualenv $VENV"
    "$VENV/bin/pip" install -q "redbot==$REDBOT_VERSION" || die "cannot install redbot==$REDBOT_VERSION"
fi
[ "$(installed_version)" = "$REDBOT_VERSION" ] || die "redbot $REDBOT_VERSION is not installed in $VENV"
[ -x "$VENV/bin/redbot" ] || die "$VENV/bin/redbot is missing"

if [ -n "${UHTTPD_BIN:-}" ]; then
    uhttpd=$UHTTPD_BIN
else
    cargo build --quiet --bin uhttpd
    uhttpd=target/debug/uhttpd
fi
[ -x "$uhttpd" ] || die "no uhttpd binary at $uhttpd"

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -n "${KEEP_WORK:-}" ]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

root=$work/root
mkdir -p "$root/docs"
cat >"$root/index.html" <<'EOF'
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>uhttpd REDbot page</title>
<link rel="stylesheet" href="style.css">
</head>
<body>
<h1>A page</h1>
<p>With a <a href="docs/">listing</a> and a <a href="big.bin">download</a>.</p>
</body>
</html>
EOF
cat >"$root/style.css" <<'EOF'
/* A style sheet of a realistic size: REDbot's range check asks for up to
   97 bytes, which would be the whole of a smaller file. */
body { font-family: sans-serif; margin: 2em auto; max-width: 40em; }
h1 { font-size: 1.5em; }
a { color: #0645ad; }
EOF
head -c $((5 * 1024 * 1024)) /dev/urandom >"$root/big.bin"
echo "notes" >"$root/docs/notes.txt"
echo '{"a": 1}' >"$root/docs/data.json"

"$uhttpd" --port 0 --bind 127.0.0.1 -q "$root" >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
base=""
for _ in $(seq 100); do
    base=$(grep -m1 -o 'http://[^ /]*' "$work/stdout" || true)
    [ -n "$base" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$base" ] || die "uhttpd did not start: $(cat "$work/stderr")"

# Each URL, with the notes REDbot must give it: proof that its range and
# conditional requests were made and answered right, not skipped.
checks=(
    "/ INM_304 IMS_304 RANGE_CORRECT"
    "/style.css INM_304 IMS_304 RANGE_CORRECT"
    "/big.bin INM_304 IMS_304 RANGE_CORRECT"
    "/docs/ INM_304"
    "/docs"
    "/missing.html STATUS_NOT_FOUND"
    "/rpc STORE_NO_STORE"
)

failed=0
for check in "${checks[@]}"; do
    read -r path expected <<<"$check"
    url=$base$path
    har=$work/$(echo "$path" | tr -c 'A-Za-z0-9.\n' '_').har
    if ! "$VENV/bin/redbot" -o har "$url" >"$har"; then
        echo "FAIL $path: redbot exited non-zero"
        failed=1
        continue
    fi
    "$VENV/bin/python" - "$path" "$har" "$expected" <<'EOF' || failed=1
"""Prints the notes of one REDbot HAR file; exits 1 on a BAD note or
when an expected note is missing."""
import json
import sys

path, har_file, expected = sys.argv[1], sys.argv[2], sys.argv[3].split()
with open(har_file, encoding="utf-8") as f:
    log = json.load(f)["log"]
if log.get("_red_error"):
    print(f"FAIL {path}: REDbot could not check it: {log['_red_error']}")
    sys.exit(1)
if not log["entries"]:
    print(f"FAIL {path}: REDbot got no complete response")
    sys.exit(1)


def walk(notes):
    for note in notes:
        yield note
        yield from walk(note.get("subnotes", []))


counts = {"BAD": 0, "WARN": 0}
lines = []
seen = set()
for entry in log["entries"]:
    status = entry["response"]["status"]
    for note in walk(entry["_red_messages"]):
        level = note["level"]
        seen.add(note["note_id"])
        if level in counts:
            counts[level] += 1
            lines.append(f"  {level} {note['note_id']}: {note['summary']}")
missing = [note_id for note_id in expected if note_id not in seen]
print(f"{path} ({status}): {counts['BAD']} BAD, {counts['WARN']} WARN")
for line in lines:
    print(line)
if missing:
    print(f"  FAIL: expected notes missing: {', '.join(missing)}")
sys.exit(1 if counts["BAD"] or missing else 0)
EOF
done

if [ "$failed" != 0 ]; then
    echo "redbot.sh: BAD notes or failed checks (above)" >&2
    exit 1
fi
echo "redbot.sh: no BAD notes on ${#checks[@]} URLs"

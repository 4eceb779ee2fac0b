#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS each (default 600), one after
# the other, and prints per target the executions and the coverage
# (libFuzzer's last `#N ... cov: ... ft: ...` line).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Exits non-zero when any target finds a crash (panic, failed invariant,
# timeout or out-of-memory), after printing the input's path under
# fuzz/artifacts/TARGET/. Reproduce with
#   cargo +nightly fuzz run -s none TARGET fuzz/artifacts/TARGET/crash-...
#
# Needs a nightly toolchain and cargo-fuzz; both are installed when
# missing. The committed seeds are read from fuzz/corpus/TARGET, and the
# inputs that once crashed it from fuzz/regressions/TARGET; what the runs
# add goes to fuzz/generated/TARGET (ignored by git) and is reused by the
# next run. FUZZ_SANITIZER=address builds with AddressSanitizer (the
# crate forbids unsafe code, so the default is none: about twice the
# executions per second).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-600}
shift || true
case $seconds in
'' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
    ;;
esac
sanitizer=${FUZZ_SANITIZER:-none}

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz: installing the nightly toolchain" >&2
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# One build for all targets; the runs below then start at once.
cargo +nightly fuzz build -s "$sanitizer"

logs=$(mktemp -d)
# The TLS and path targets make their files under TMPDIR: in memory
# when possible, and removed with the logs.
scratch_base=/dev/shm
[ -d "$scratch_base" ] && [ -w "$scratch_base" ] || scratch_base=${TMPDIR:-/tmp}
scratch=$(mktemp -d "$scratch_base/uhttp-fuzz.XXXXXX")
trap 'rm -rf "$logs" "$scratch"' EXIT
failed=()
for target in "${targets[@]}"; do
    # Longer than the 8 KiB head limit for the HTTP targets, so that the
    # 431 paths are reached; shorter elsewhere, where length buys nothing.
    case $target in
    h1_head | h1_request) max_len=10240 ;;
    tls_pem) max_len=8192 ;;
    *) max_len=4096 ;;
    esac
    dict=()
    case $target in
    h1_*) dict=(-dict=dict/http.dict) ;;
    esac
    mkdir -p "generated/$target" "corpus/$target"
    # Inputs that once crashed the target are replayed first, every run.
    corpora=("generated/$target" "corpus/$target")
    [ -d "regressions/$target" ] && corpora+=("regressions/$target")
    log=$logs/$target.log
    status=0
    TMPDIR=$scratch cargo +nightly fuzz run -s "$sanitizer" "$target" "${corpora[@]}" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len="$max_len" \
        -print_final_stats=1 "${dict[@]}" >"$log" 2>&1 || status=$?
    stats=$(grep -E '^#[0-9]+' "$log" | tail -n 1 |
        sed -E 's/^#([0-9]+)[[:space:]]+[A-Z]+[[:space:]]+/\1 runs, /; s/ (lim|exec\/s|rss|L|MS):.*//' || true)
    if [ "$status" -eq 0 ]; then
        echo "fuzz: $target: ${stats:-no stats}"
    else
        artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1 || true)
        echo "fuzz: $target: FAILED (exit $status) after ${stats:-no stats}"
        grep -E -m 5 "panicked at|^(assertion|  left|  right)|ERROR: libFuzzer" "$log" | sed 's/^/    /' || true
        echo "    input: ${artifact:-none written; full log follows}"
        if [ -z "$artifact" ]; then
            tail -n 30 "$log" | sed 's/^/    /'
        fi
        failed+=("$target")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds} s each, no crash"

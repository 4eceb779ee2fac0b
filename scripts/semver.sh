#!/usr/bin/env bash
# The library's public API against its last published version:
# `cargo semver-checks` fails when a change needs a bigger version bump
# than Cargo.toml has. Until a first version of uhttp-server is on
# crates.io there is nothing to compare with, and this says so and
# succeeds; from then on it installs cargo-semver-checks (a long build,
# once) and runs it. Any other failure to ask crates.io fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Asked from outside the workspace: inside it `cargo info` describes the
# local package, not the published one.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if ! info=$(cd "$scratch" && cargo info uhttp-server --registry crates-io 2>&1); then
    if grep -q "could not find \`uhttp-server\`" <<<"$info"; then
        echo "semver: no published baseline yet; skipped"
        exit 0
    fi
    echo "semver: cannot ask crates.io about uhttp-server:" >&2
    echo "$info" >&2
    exit 1
fi
baseline=$(sed -n 's/^version: \([^ ]*\).*/\1/p' <<<"$info" | head -n 1)
if [ -z "$baseline" ]; then
    echo "semver: no version in \`cargo info uhttp-server\`:" >&2
    echo "$info" >&2
    exit 1
fi

if ! cargo semver-checks --version >/dev/null 2>&1; then
    cargo install --locked cargo-semver-checks
fi
echo "semver: uhttp-server against $baseline"
cargo semver-checks -p uhttp-server --baseline-version "$baseline"

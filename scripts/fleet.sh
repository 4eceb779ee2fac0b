#!/usr/bin/env bash
# The figures of a drained restart behind HAProxy (README, "Several
# instances"): two release-built uhttpd sharing ROOT and the upload
# directory behind HAProxy, wrk for SECONDS (default 30) with CONNECTIONS
# (default 64) while one instance is drained (SIGTERM with --drain 2),
# seen DOWN, restarted and seen UP. Prints requests, failures and p99.
# Usage: scripts/fleet.sh [SECONDS [CONNECTIONS]]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
cargo build --release -p uhttpd
FLEET_UHTTPD="$PWD/target/release/uhttpd" \
FLEET_SECONDS="${1:-30}" \
FLEET_CONNECTIONS="${2:-64}" \
    cargo test -p uhttpd --test cli fleet::figures -- --ignored --nocapture 2>&1 |
    grep -E '^fleet: |^test |panicked|test result'

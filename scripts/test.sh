#!/usr/bin/env bash
# The test command: installs missing test programs, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc

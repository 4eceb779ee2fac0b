#!/usr/bin/env bash
# The library's feature builds: without default features, and with `tls`
# or `websocket` alone. Clippy (a check plus lints, no code generation)
# for each, the unit tests that apply without either feature, and the
# examples that need neither. The full set (default features) is built
# and tested by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

for features in "" tls websocket; do
    echo "features: ${features:-none}"
    cargo clippy --no-default-features ${features:+--features "$features"} -- -D warnings
done
cargo check --no-default-features --examples
cargo test --no-default-features --lib

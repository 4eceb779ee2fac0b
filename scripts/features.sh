#!/usr/bin/env bash
# The library's feature builds: without default features, and with `tls`
# or `websocket` alone. Clippy (a check plus lints, no code generation)
# for each, the unit tests and doc examples that apply without either
# feature, and the examples that need neither. The full set (default
# features) is built and tested by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

for features in "" tls websocket; do
    echo "features: ${features:-none}"
    cargo clippy -p uhttp-server --no-default-features ${features:+--features "$features"} -- -D warnings
done
cargo check -p uhttp-server --no-default-features --examples
cargo test -p uhttp-server --no-default-features --lib
# The doc examples (the guide's included) compile and pass without either feature.
cargo test -p uhttp-server --no-default-features --doc

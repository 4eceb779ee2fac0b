#!/usr/bin/env bash
# Builds the uhttpd Debian package with cargo-deb ([package.metadata.deb]
# in uhttpd/Cargo.toml): a release build of the package uhttpd, stripped, into
# target/debian/; the last line printed is the .deb's path.
#
#   scripts/deb.sh           build it
#   scripts/deb.sh --test    build it, then run the packaging test on it
#                            (uhttpd/tests/cli/packaging.rs, `#[ignore]`d in the
#                            ordinary runs: a release build takes minutes)
#   scripts/deb.sh --tools   only install cargo-deb when missing
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: the package layout is what this version makes of the metadata.
CARGO_DEB_VERSION=3.8.0
if [ "$(cargo deb --version 2>/dev/null)" != "cargo-deb $CARGO_DEB_VERSION" ]; then
    echo "installing: cargo-deb $CARGO_DEB_VERSION" >&2
    cargo install --locked --force "cargo-deb@$CARGO_DEB_VERSION" >&2
fi
[ "${1:-}" = --tools ] && exit 0

# cargo-deb runs `cargo build --release -p uhttpd` itself.
cargo deb -p uhttpd --no-dbgsym --strip --output target/debian/ >&2
deb="$(ls -t target/debian/uhttpd_*.deb | head -n 1)"
if [ "${1:-}" = --test ]; then
    UHTTPD_DEB="$PWD/$deb" cargo test -p uhttpd --test cli packaging -- --include-ignored
fi
echo "$deb"

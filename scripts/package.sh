#!/usr/bin/env bash
# Packages both crates as `cargo publish` would, without uploading:
# `cargo package --workspace` makes target/package/uhttp-server-VERSION.crate
# and target/package/uhttpd-VERSION.crate and builds each from its packaged
# sources alone (uhttpd against the packaged uhttp-server, through a local
# registry overlay, since the library is not on crates.io yet). Then checks
# what the .crate files hold: nothing from target/, no file over 2 MiB,
# the files each package must ship.
#
# The uhttpd package leaves out its test suites (they include the shared
# harness in tests/common/, which belongs to the library's package):
# cargo says "ignoring test `cli`" and "`tls`" for them.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo package --workspace --locked "$@"

version() {
    cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == sys.argv[1]))' "$1"
}

failed=0
fail() {
    echo "package: $*" >&2
    failed=1
}

# check NAME REQUIRED-FILE...
check() {
    local name=$1
    shift
    local crate
    crate="target/package/$name-$(version "$name").crate"
    [ -f "$crate" ] || {
        fail "$crate was not made"
        return
    }
    local listing
    listing=$(tar -tvzf "$crate")
    # tar -tv: MODE OWNER SIZE DATE TIME PATH; paths are NAME-VERSION/...
    while read -r size path; do
        case $path in
        */target/*) fail "$crate holds $path (build output)" ;;
        esac
        [ "$size" -le $((2 * 1024 * 1024)) ] || fail "$crate holds $path: $size bytes, over 2 MiB"
    done < <(awk '{ print $3, $6 }' <<<"$listing")
    for file in "$@"; do
        grep -q " $name-[^/]*/$file\$" <<<"$listing" || fail "$crate lacks $file"
    done
    echo "package: $crate: $(wc -l <<<"$listing") files, $(du -k "$crate" | cut -f1) KiB"
}

check uhttp-server Cargo.toml src/lib.rs README.md CHANGELOG.md LICENSE examples/hello.rs
check uhttpd Cargo.toml src/main.rs README.md man/uhttpd.1 \
    completions/uhttpd.bash completions/_uhttpd completions/uhttpd.fish \
    contrib/uhttpd.service contrib/uhttpd.socket contrib/uhttpd-redirect.socket \
    contrib/uhttpd.toml contrib/www/index.html
exit $failed

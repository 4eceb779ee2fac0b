#!/usr/bin/env bash
# The soak run, on demand: one release uhttpd takes 1,000,000 keep-alive
# requests, 100,000 new connections and 10,000 uploads (one in ten cut off
# mid-body), and the library's ws_echo example 10,000 WebSocket sessions.
# File descriptors, RSS and CPU per request are sampled after every tenth
# of each phase and must stay flat; the table is printed at the end.
# Takes a few minutes on two cores (most of it the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin uhttpd --example ws_echo
cargo test --release -p uhttpd --test cli -- --ignored --exact soak::soak --nocapture

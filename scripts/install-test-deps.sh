#!/usr/bin/env bash
# Installs the programs the tests talk to when they are missing: curl and
# openssl (real clients), chromium (the upload form test), tar and unzip
# (archive downloads), systemd and man-db (the units), Python's requests
# (content codings), haproxy (in front of uhttpd with the PROXY protocol),
# wrk (load through HAProxy), prometheus and promtool (metrics), pebble
# (an ACME CA, for --acme). Debian packages; cargo-deb (crates.io, pinned
# in scripts/deb.sh); and a Python venv with h11 (PyPI) for the
# strict-client check.
set -euo pipefail

need=()
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
command -v chromium >/dev/null || need+=(chromium)
# Directory archives (uhttpd/tests/cli/archive.rs) are extracted with both.
command -v tar >/dev/null || need+=(tar)
command -v unzip >/dev/null || need+=(unzip)
# The units and the .deb (uhttpd/tests/cli/packaging.rs): systemd-analyze, man
# (verify looks up Documentation=man:), /bin/kill (ExecReload=), setpriv
# (runs uhttpd as a dynamic user's uid), dpkg-deb.
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v man >/dev/null || need+=(man-db)
[ -x /bin/kill ] || need+=(procps)
command -v setpriv >/dev/null || need+=(util-linux)
command -v dpkg-deb >/dev/null || need+=(dpkg)
# cargo-deb: dpkg-shlibdeps for the package's Depends, strip.
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
command -v strip >/dev/null || need+=(binutils)
# Content codings (uhttpd/tests/cli/compression.rs) are also read by requests.
python3 -c 'import requests' 2>/dev/null || need+=(python3-requests)
# A real load balancer speaking the PROXY protocol (uhttpd/tests/cli/proxy_protocol.rs).
command -v haproxy >/dev/null || need+=(haproxy)
# Load through HAProxy in front of two instances (uhttpd/tests/cli/fleet.rs).
command -v wrk >/dev/null || need+=(wrk)
# The metrics tests (uhttpd/tests/cli/metrics.rs) check the output with promtool
# and scrape it with a real Prometheus: both come with `prometheus`.
{ command -v promtool && command -v prometheus; } >/dev/null || need+=(prometheus)
# A real ACME CA for --acme (uhttpd/tests/cli/acme.rs): pebble and, in the same
# package, pebble-challtestsrv as its DNS server.
{ command -v pebble && command -v pebble-challtestsrv; } >/dev/null || need+=(pebble)

if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The strict-client check (uhttpd/tests/cli/strict_client.rs) runs h11 from a venv
# in target/py-venv: pyenv's Python 3.11 when there, else the system one.
venv="$(dirname "$0")/../target/py-venv"
if ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv"
    python="$(pyenv root 2>/dev/null || echo /root/.pyenv)/versions/3.11.7/bin/python"
    if [ ! -x "$python" ]; then
        python=python3
        if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
            echo "installing: python3 python3-venv"
            if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
            $sudo apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
        fi
    fi
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/../uhttpd/tests/cli/strict_client.requirements.txt"

# The resumable-upload tests (uhttpd/tests/cli/resumable.rs) run tuspy from the
# same venv and tus-js-client under the system node, from target/tus-js;
# uhttpd/tests/cli/browser.rs serves its browser bundle (dist/tus.min.js) to Chromium.
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/../uhttpd/tests/cli/resumable/requirements.txt"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "installing: nodejs npm"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
js="$(dirname "$0")/../target/tus-js"
mkdir -p "$js"
# The lock file pins every package, not only tus-js-client.
cp "$(dirname "$0")"/../uhttpd/tests/cli/resumable/package{,-lock}.json "$js/"
(cd "$js" && npm ci --silent --no-audit --no-fund >/dev/null)
# The .deb (scripts/deb.sh --test): cargo-deb, pinned there.
"$(dirname "$0")/deb.sh" --tools

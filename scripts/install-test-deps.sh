#!/usr/bin/env bash
# Installs the programs the tests talk to when they are missing: curl and
# openssl (real clients), chromium (the upload form test), Python's
# requests (content codings). Debian packages.
set -euo pipefail

need=()
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
command -v chromium >/dev/null || need+=(chromium)
python3 -c 'import requests' 2>/dev/null || need+=(python3-requests)

if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Installs every Debian package mailguide needs to build, test and run.
# Idempotent: it does nothing (and prints nothing) when everything is present.
# Usage: deploy/install-deps.sh [MORE_PACKAGES...]   (the benchmark adds wrk, for instance)
# dnsmasq-base is dnsmasq without its system service: the tests start their own on a free
# loopback port, and no resolver daemon is left running to take over the machine's DNS.
# clang and libclang-rt-14-dev build the libFuzzer targets (tests/fuzz/smoke.sh).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcpp-httplib-dev libssl-dev nlohmann-json3-dev libsqlite3-dev libcli11-dev
  libhiredis-dev catch2
  redis-server openssl
  libc-ares-dev dnsmasq-base
  clang libclang-rt-14-dev
  chromium
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Installs ingot's build dependencies (Debian 12 packages) and builds it into
# ./build. Safe to run again: apt skips what is installed, cmake rebuilds
# only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(build-essential cmake pkg-config libcurl4-openssl-dev libmicrohttpd-dev libjansson-dev
      libpcre2-dev libutf8proc-dev libreadline-dev libssl-dev python3 tmux curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}"
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"

#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs, only when one is missing.
# Runs `apt-get update` once before installing. Needs root (or sudo).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config clang-14 libclang-rt-14-dev
  libuv1-dev libgtest-dev libgmock-dev libbenchmark-dev libgmp-dev libfmt-dev
  libcli11-dev nlohmann-json3-dev libcereal-dev libhttp-parser-dev libgumbo-dev
  libssl-dev libboost-dev python3 python3-uvloop valgrind
  libcurl4-openssl-dev liburiparser-dev libmd4c-dev libmd4c-html0-dev
  openssl curl wrk openmpi-bin libopenmpi-dev chromium doxygen libpng-dev
  python3-requests python3-aiohttp python3-bs4
  nginx
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

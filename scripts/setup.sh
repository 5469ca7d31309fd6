#!/usr/bin/env bash
# Installs what the testbed needs on a fresh Debian 12 / Ubuntu machine, then builds it.
# System packages through apt when root (otherwise prints the exact command), then
# `npm ci` (beamcoder compiles against the system FFmpeg) and the TypeScript build.
# Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg pkg-config python3 make g++ iproute2 chromium fonts-dejavu-core
  libavcodec-dev libavformat-dev libavdevice-dev libavfilter-dev libavutil-dev
  libswscale-dev libswresample-dev libpostproc-dev)

say() { printf '[setup] %s\n' "$*" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "Node.js 20+ and npm are required: apt-get install -y nodejs npm (or https://nodejs.org)"; exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then say "Node.js 20+ required, found $(node -v)"; exit 1; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing system packages; run:"
    echo "sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# npm ci when node_modules is absent or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ ! -f node_modules/beamcoder/build/Release/beamcoder.node ]; then
  say "beamcoder's native module was not built; building it"
  npm rebuild beamcoder --foreground-scripts
fi
[ -f node_modules/beamcoder/build/Release/beamcoder.node ] || { say "beamcoder did not build (see npm output above)"; exit 1; }

say "building (tsc)"
npx --no-install tsc -p tsconfig.json

# The bundled scenes (FFmpeg lavfi, deterministic; ~1.5 min the first time, nothing after).
node bin/testbed.js clips make

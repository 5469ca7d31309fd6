#!/usr/bin/env bash
# The demo: streams the embedded default clip (generated on first run) from `testbed offer`
# to `testbed answer` over loopback for 20 s at 2 Mbit/s, records what was rendered, and
# prints the per-frame latency components and the PSNR of the recording.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=results/demo
rm -rf "$out"; mkdir -p "$out"
port=$((20000 + RANDOM % 20000))
node bin/testbed.js answer --out "$out" --signaling-port "$port" --record-to "$out/recorded.mp4" &
answer=$!
node bin/testbed.js offer --out "$out" --signaling-port "$port" --play-from clips/default-720p30.mp4 --duration 20 --rate-control fixed --bitrate 2000000
wait "$answer"
node bin/testbed.js summary "$out" --reference clips/default-720p30.mp4 --recorded "$out/recorded.mp4"
echo "per-frame CSV: $out/frames.csv"

#!/usr/bin/env bash
# The demo: a short shaped comparison on the embedded default. The generated clip is
# streamed single-stream and dual-stream (I/P backup), both under GCC, each for 30 s over a
# 4G bandwidth trace replayed with tc between two network namespaces
# (experiments/demo.json); the two arms' end-to-end latency percentiles are printed side by
# side, then the dashboard of the run is written and its path printed. Needs root (tc).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=results/demo
rm -rf "$out"
node bin/testbed.js run experiments/demo.json --out "$out"
node bin/testbed.js plot "$out"

#!/usr/bin/env bash
# The whole test suite (what CI runs): set-up first, then node's test runner over
# every compiled test file, one file at a time (they share two cores and real sockets).
# TAP output: the summary (tests / pass / fail / todo) closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
exec node --test --test-concurrency=1 --test-reporter=tap "${files[@]}"

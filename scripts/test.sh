#!/usr/bin/env bash
# The whole test suite (what CI runs): set-up first, then node's test runner over
# every compiled test file, one file at a time (they share two cores and real sockets).
# TAP output: the summary (tests / pass / fail / todo) closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# From the sources, not dist/: a test deleted or renamed in test/ leaves its compiled copy behind.
mapfile -t files < <(cd test && find . -name '*.test.ts' | sort | sed 's|^\./|dist/test/|; s|\.ts$|.js|')
exec node --test --test-concurrency=1 --test-reporter=tap "${files[@]}"

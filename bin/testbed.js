#!/usr/bin/env node
'use strict';
// Files are flushed and closed before main() resolves; exit explicitly because werift
// and beamcoder may keep handles open after a run.
require('../dist/src/cli/main.js')
  .main(process.argv)
  .then((code) => process.exit(code));

#!/usr/bin/env node
'use strict';
require('../dist/cli/main.js').main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`audit-ledger: ${err && err.message ? err.message : String(err)}\n`); process.exitCode = 1; },
);

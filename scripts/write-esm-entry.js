// Writes the ESM entries of `audit-ledger/verify` and `audit-ledger/client` next to their
// CommonJS builds, so that both `import` and `require` load one and the same module instance.
// Usage: node scripts/write-esm-entry.js [DIST] (default: the server package's dist/; the
// standalone @audit-ledger/client passes packages/client/dist).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dist = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist'));
for (const entry of ['verify', 'client']) {
  const dir = path.join(dist, entry);
  if (!fs.existsSync(path.join(dir, 'index.js'))) continue;
  const cjs = require(path.join(dir, 'index.js'));
  const names = Object.keys(cjs).filter((n) => n !== 'default' && n !== '__esModule');
  const body = `import cjs from './index.js';\n${names.map((n) => `export const ${n} = cjs.${n};`).join('\n')}\n`;
  fs.writeFileSync(path.join(dir, 'index.mjs'), body);
}

// Builds the standalone @audit-ledger/client package (packages/client: the client SDK and the
// verifier, with only their browser-safe dependencies) from the server's own sources, and
// packs it with `npm pack`. Prints the tarball's path on the last line.
// Usage: npm run pack:client [-- --pack-destination DIR]   (default: the directory npm was run in)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const PKG = path.join(ROOT, 'packages', 'client');
const DIST = path.join(PKG, 'dist');

function fail(message) {
  console.error(`pack:client: ${message}`);
  process.exit(1);
}

function destination() {
  const i = process.argv.indexOf('--pack-destination');
  if (i === -1) return path.resolve(process.env.INIT_CWD ?? process.cwd());
  const dir = process.argv[i + 1];
  if (!dir) fail('--pack-destination needs a directory');
  return path.resolve(dir);
}

/** The package's name from a bare module specifier (`@noble/hashes/sha2.js` → `@noble/hashes`). */
function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every bare `require("…")` of the emitted CommonJS files, by package. */
function requiredPackages(dir) {
  const found = new Set();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) for (const p of requiredPackages(full)) found.add(p);
    else if (entry.name.endsWith('.js')) {
      for (const m of fs.readFileSync(full, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)) if (!m[1].startsWith('.')) found.add(packageOf(m[1]));
    }
  }
  return found;
}

const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const pkg = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8'));

// The two packages are released together from one source tree: same version, same pins.
if (pkg.version !== root.version) fail(`packages/client/package.json has version ${pkg.version}, the server package ${root.version}: make them equal`);
for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
  if (root.dependencies?.[name] !== range) fail(`packages/client/package.json pins ${name}@${range}, the server package ${root.dependencies?.[name] ?? 'does not depend on it'}`);
}

fs.rmSync(DIST, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(PKG, 'tsconfig.json')], { stdio: 'inherit' });
execFileSync(process.execPath, [path.join(__dirname, 'write-esm-entry.js'), DIST], { stdio: 'inherit' });

// What the built code loads at run time must be exactly what the package declares.
const required = [...requiredPackages(DIST)].sort();
const declared = Object.keys(pkg.dependencies ?? {}).sort();
if (required.join() !== declared.join()) fail(`the built code requires [${required.join(', ')}] but packages/client/package.json declares [${declared.join(', ')}]`);

const dest = destination();
fs.mkdirSync(dest, { recursive: true });
const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], { cwd: PKG, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const [packed] = JSON.parse(out);
console.log(`${packed.name}@${packed.version}: ${packed.entryCount} files, ${packed.size} bytes packed`);
console.log(path.join(dest, packed.filename));

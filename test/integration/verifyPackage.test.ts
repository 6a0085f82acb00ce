/**
 * `audit-ledger/verify` as a consumer sees it: installed by name in another project, loaded
 * with both `require` and `import`, and bundled for a browser with no Node built-ins; and the
 * server package's own entries: `audit-ledger` is its client, and every file its manifest names
 * is packed.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const example = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'c2sp-signed-note-example.json'), 'utf8')) as {
  note: string;
  verifierKey: string;
};

describe('the audit-ledger/verify package entry', () => {
  let consumer: string;
  beforeAll(async () => {
    consumer = await mkdtemp(path.join(os.tmpdir(), 'verify-consumer-'));
    await mkdir(path.join(consumer, 'node_modules'), { recursive: true });
    await symlink(ROOT, path.join(consumer, 'node_modules', 'audit-ledger'), 'dir');
    await writeFile(path.join(consumer, 'package.json'), '{"name":"consumer","private":true}');
  });
  afterAll(async () => rm(consumer, { recursive: true, force: true }));

  const program = (loader: string): string => `${loader}
const note = ${JSON.stringify(example.note)};
try { v.verifyNote(note, v.parseVerifierKey(${JSON.stringify(example.verifierKey)})); } catch (e) { console.error(e); process.exit(1); }
const empty = v.emptyRoot();
v.verifyConsistency({ fromSize: 0, toSize: 0, fromRoot: empty, toRoot: empty, proof: [] });
let refused = false;
try { v.verifyInclusion({ leafHash: v.leafHash(new Uint8Array()), leafIndex: 1, treeSize: 1, proof: [], rootHash: empty }); } catch (e) { refused = e instanceof v.VerificationError; }
console.log(refused ? 'ok' : 'not refused');`;

  it('loads with require() by name', async () => {
    const file = path.join(consumer, 'check.cjs');
    await writeFile(file, program("const v = require('audit-ledger/verify');"));
    const { stdout } = await run(process.execPath, [file], { cwd: consumer });
    expect(stdout.trim()).toBe('ok');
  });

  it('loads with import by name', async () => {
    const file = path.join(consumer, 'check.mjs');
    await writeFile(file, program("import * as v from 'audit-ledger/verify';"));
    const { stdout } = await run(process.execPath, [file], { cwd: consumer });
    expect(stdout.trim()).toBe('ok');
  });

  // The server package's main entry is its client (`audit-ledger` = `audit-ledger/client`).
  it('resolves the package itself to the client, with require() and import', async () => {
    await writeFile(path.join(consumer, 'main.cjs'), "console.log(require('audit-ledger') === require('audit-ledger/client'), typeof require('audit-ledger').LedgerClient);");
    await writeFile(path.join(consumer, 'main.mjs'), "import * as a from 'audit-ledger'; import * as c from 'audit-ledger/client'; console.log(a.LedgerClient === c.LedgerClient, typeof a.verifyReceipt);");
    expect((await run(process.execPath, [path.join(consumer, 'main.cjs')], { cwd: consumer })).stdout.trim()).toBe('true function');
    expect((await run(process.execPath, [path.join(consumer, 'main.mjs')], { cwd: consumer })).stdout.trim()).toBe('true function');
  });

  it("packs every file its main, types and exports name (npm pack --dry-run)", async () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string; types: string; exports: unknown };
    const targets = (node: unknown): string[] => (typeof node === 'string' ? [node] : Object.values(node as Record<string, unknown>).flatMap(targets));
    const named = [manifest.main, manifest.types, ...targets(manifest.exports)].map((t) => path.posix.normalize(t));
    const { stdout } = await run('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    const packed = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    expect(named.filter((t) => !packed.has(t))).toEqual([]);
  });

  it('bundles for the browser without Node built-ins', async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [path.join(ROOT, 'src', 'verify', 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const text = result.outputFiles[0]!.text;
    expect(text).not.toMatch(/require\(["']node:|from ["']node:|\bBuffer\.|process\.env/);
  });

  // Debian's Chromium, installed by .ci/run; where it is missing the test says so and skips.
  const chromium = '/usr/bin/chromium';
  (existsSync(chromium) ? it : it.skip)('verifies a note and refuses a bad proof in a real browser (headless Chromium)', async () => {
    const esbuild = await import('esbuild');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'verify-browser-'));
    try {
      await esbuild.build({
        entryPoints: [path.join(ROOT, 'src', 'verify', 'index.ts')],
        bundle: true,
        platform: 'browser',
        format: 'iife',
        globalName: 'auditLedgerVerify',
        outfile: path.join(dir, 'verify.js'),
        logLevel: 'silent',
      });
      writeFileSync(
        path.join(dir, 'index.html'),
        `<html><body><pre id="out">running</pre><script src="verify.js"></script><script>
const v = auditLedgerVerify; const out = [];
try {
  out.push('signatures ' + v.verifyNote(${JSON.stringify(example.note)}, v.parseVerifierKey(${JSON.stringify(example.verifierKey)})).verifiedSignatures.length);
  let refused = false;
  try { v.verifyInclusion({ leafHash: v.leafHash(new Uint8Array()), leafIndex: 1, treeSize: 1, proof: [], rootHash: v.emptyRoot() }); } catch (e) { refused = e instanceof v.VerificationError; }
  out.push('refused ' + refused);
} catch (e) { out.push('error ' + e); }
document.getElementById('out').textContent = out.join(' ');
</script></body></html>`,
      );
      const { stdout } = await run(
        chromium,
        [
          '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          `--user-data-dir=${path.join(dir, 'profile')}`, '--allow-file-access-from-files',
          '--dump-dom', `file://${path.join(dir, 'index.html')}`,
        ],
        { timeout: 60_000 },
      );
      expect(stdout).toContain('<pre id="out">signatures 1 refused true</pre>');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

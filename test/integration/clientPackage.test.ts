/**
 * `audit-ledger/client` and `audit-ledger/verify` as a consumer gets them: `npm pack`ed into
 * one tarball, installed from it in another project, loaded with `require` and with `import`,
 * a receipt verified with the packed client; and the client bundled for a browser with no
 * Node built-ins. (Needs `npm run build` first, as `npm test` does.)
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Receipt } from '../../src/client';
import { generateSignerKey, signCheckpoint } from '../../src/checkpoint/signer';
import { bytesToHex, leafHash } from '../../src/verify';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

/** A one-leaf log's receipt, signed by a fresh key. */
function oneLeafReceipt(): { receipt: Receipt; verifierKey: string } {
  const origin = 'package.example/log';
  const { signerKey, verifierKey } = generateSignerKey(origin);
  const leaf = '{"action":"invoice.paid","id":"e0"}';
  const hash = leafHash(new TextEncoder().encode(leaf));
  const note = signCheckpoint({ origin, treeSize: 1, rootHash: hash }, signerKey);
  const hex = bytesToHex(hash);
  return {
    verifierKey,
    receipt: { eventId: 'e0', leafIndex: 0, leafHash: hex, leaf, inclusionProof: { leafIndex: 0, treeSize: 1, leafHash: hex, hashes: [], checkpoint: { origin, treeSize: 1, rootHash: hex, note } } },
  };
}

describe('the packed audit-ledger/client and audit-ledger/verify', () => {
  let work: string;
  let consumer: string;
  let files: string[];

  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'dist', 'client', 'index.mjs'))) throw new Error('dist/client is not built: run `npm run build` first');
    work = await mkdtemp(path.join(os.tmpdir(), 'client-package-'));
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    const tarball = path.join(work, packed!.filename);
    files = (await run('tar', ['-tzf', tarball], { maxBuffer: 64 * 1024 * 1024 })).stdout.split('\n');
    consumer = path.join(work, 'consumer');
    const installed = path.join(consumer, 'node_modules', 'audit-ledger');
    await mkdir(installed, { recursive: true });
    await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    // What the two entries need at run time: the portable crypto libraries (no npm install offline).
    for (const scope of ['@noble', '@scure']) await symlink(path.join(ROOT, 'node_modules', scope), path.join(consumer, 'node_modules', scope), 'dir');
    await writeFile(path.join(consumer, 'package.json'), '{"name":"consumer","private":true}');
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('holds both entries, CommonJS, ESM and types', () => {
    for (const entry of ['client', 'verify']) {
      for (const file of ['index.js', 'index.mjs', 'index.d.ts']) expect(files).toContain(`package/dist/${entry}/${file}`);
    }
    expect(files).toContain('package/package.json');
    expect(files.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual([]);
  });

  const { receipt, verifierKey } = oneLeafReceipt();
  const program = (loadClient: string, loadVerify: string): string => `${loadClient}
${loadVerify}
const receipt = ${JSON.stringify(receipt)};
const fetch = async () => new Response(JSON.stringify({ data: { recordEvents: [receipt] } }), { status: 200 });
const ledger = new c.LedgerClient({ url: 'http://ledger.invalid', token: 't', fetch });
ledger.record({ action: 'invoice.paid', actor: { id: 'u', type: 'USER' } }).then((r) => {
  const leaf = c.verifyReceipt(r, ${JSON.stringify(verifierKey)});
  let refused = '';
  try { c.verifyReceipt({ ...r, leaf: r.leaf + ' ' }, ${JSON.stringify(verifierKey)}); } catch (e) { refused = e instanceof c.ReceiptVerificationError ? e.problem : String(e); }
  const size = v.verifyCheckpoint(r.inclusionProof.checkpoint.note, ${JSON.stringify(verifierKey)}).treeSize;
  console.log([leaf.id, refused, size].join(' '));
}, (e) => { console.error(e); process.exit(1); });`;

  it('loads both with require() by name and verifies a receipt', async () => {
    const file = path.join(consumer, 'check.cjs');
    await writeFile(file, program("const c = require('audit-ledger/client');", "const v = require('audit-ledger/verify');"));
    const { stdout } = await run(process.execPath, [file], { cwd: consumer });
    expect(stdout.trim()).toBe('e0 LEAF_HASH 1');
  });

  it('loads both with import by name and verifies a receipt', async () => {
    const file = path.join(consumer, 'check.mjs');
    await writeFile(file, program("import * as c from 'audit-ledger/client';", "import * as v from 'audit-ledger/verify';"));
    const { stdout } = await run(process.execPath, [file], { cwd: consumer });
    expect(stdout.trim()).toBe('e0 LEAF_HASH 1');
  });

  it('bundles the client for the browser without Node built-ins', async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [path.join(ROOT, 'src', 'client', 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles[0]!.text).not.toMatch(/require\(["']node:|from ["']node:|\bBuffer\.|process\.env/);
  });
});

/**
 * The standalone `@audit-ledger/client` package (packages/client) as a consumer gets it:
 * built and packed by `npm run pack:client`, installed from the tarball into another project
 * with npm and nothing else (no database driver, no server dependency), loaded with `require`
 * and with `import`, type-checked, bundled for a browser, and used against a real server: the
 * packed client records an event and verifies its receipt, the packed verifier its checkpoint,
 * and the packed client exports it as an evidence bundle and verifies that (and names the
 * edited entry of an altered copy).
 *
 * The install runs offline: after the repository's own `npm ci`, npm's cache holds the
 * @noble/@scure tarballs (by integrity) but not the registry's documents about them, so the
 * consumer gets a lockfile naming those tarballs, exactly as the server's lockfile pins them.
 * With a cold cache the install falls back to the registry, and says so.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describeEachAdapter } from '../support/adapters';
import { gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const NAME = '@audit-ledger/client';
/** The server's dependencies a client must never drag in. */
const SERVER_ONLY = ['better-sqlite3', 'mongodb', 'express', '@apollo/server', 'graphql', 'type-graphql', 'pino'];

interface LockEntry {
  version: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
}

/** Every package under a node_modules folder, scoped ones as `@scope/name`. */
function installedPackages(nodeModules: string): string[] {
  return readdirSync(nodeModules, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .flatMap((e) => (e.name.startsWith('@') ? readdirSync(path.join(nodeModules, e.name)).map((n) => `${e.name}/${n}`) : [e.name]))
    .sort();
}

/**
 * The consumer's lockfile: the tarball, and its dependencies (transitively) as the server's
 * lockfile pins them, with their registry URLs, so that npm takes them from its cache by
 * integrity. A dependency the server's lockfile does not know is left out: npm must resolve it
 * from the registry, which offline fails, and which the assertions below would then catch.
 */
function consumerLock(tarball: string, packed: { version: string; dependencies?: Record<string, string> }, integrity: string): unknown {
  const rootLock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const registry = (process.env.npm_config_registry ?? 'https://registry.npmjs.org/').replace(/\/?$/, '/');
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { [NAME]: spec } },
    [`node_modules/${NAME}`]: { version: packed.version, resolved: spec, integrity, dependencies: packed.dependencies ?? {} },
  };
  const pending = Object.keys(packed.dependencies ?? {});
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    const key = `node_modules/${name}`;
    const entry = rootLock.packages[key];
    if (!entry || key in packages) continue;
    const resolved = entry.resolved ?? `${registry}${name}/-/${name.split('/').at(-1)}-${entry.version}.tgz`;
    packages[key] = { version: entry.version, resolved, integrity: entry.integrity, dependencies: entry.dependencies };
    pending.push(...Object.keys(entry.dependencies ?? {}));
  }
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages };
}

describe('the standalone @audit-ledger/client package', () => {
  let work: string;
  let consumer: string;
  let files: string[];
  let packedManifest: { name: string; version: string; dependencies?: Record<string, string> };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'client-package-'));
    const packed = await run(process.execPath, [path.join(ROOT, 'scripts', 'pack-client.js'), '--pack-destination', work], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    const tarball = packed.stdout.trim().split('\n').at(-1)!;
    expect(path.dirname(tarball)).toBe(work);
    files = (await run('tar', ['-tzf', tarball], { maxBuffer: 64 * 1024 * 1024 })).stdout.split('\n').filter(Boolean);
    packedManifest = JSON.parse((await run('tar', ['-xzOf', tarball, 'package/package.json'])).stdout) as typeof packedManifest;

    consumer = path.join(work, 'consumer');
    await mkdir(consumer);
    await writeFile(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: { [NAME]: `file:${tarball}` } }));
    const integrity = `sha512-${createHash('sha512').update(await readFile(tarball)).digest('base64')}`;
    await writeFile(path.join(consumer, 'package-lock.json'), JSON.stringify(consumerLock(tarball, packedManifest, integrity), null, 2));
    const npmInstall = (mode: string) => run('npm', ['install', mode, '--no-audit', '--no-fund'], { cwd: consumer, maxBuffer: 64 * 1024 * 1024 });
    try {
      await npmInstall('--offline');
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? err);
      if (!stderr.includes('ENOTCACHED')) throw err;
      console.warn(`the offline install of ${NAME} missed npm's cache (run \`npm ci\` first to fill it); installing with --prefer-offline, from the registry:\n${stderr}`);
      await npmInstall('--prefer-offline');
    }
  }, 180_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('holds the client and the verifier: CommonJS, ESM and types, and no sources, tests or source maps', () => {
    for (const entry of ['client', 'verify']) {
      for (const file of ['index.js', 'index.mjs', 'index.d.ts']) expect(files).toContain(`package/dist/${entry}/${file}`);
    }
    expect(files).toEqual(expect.arrayContaining(['package/package.json', 'package/README.md']));
    expect(files.filter((f) => !/^package\/(dist\/(client|verify|export)\/\w+\.(js|mjs|d\.ts)|package\.json|README\.md)$/.test(f))).toEqual([]);
    // Nothing of the server: no storage, GraphQL, HTTP or CLI module.
    expect(files.filter((f) => /\/(storage|graphql|server|cli|ledger)\//.test(f))).toEqual([]);
  });

  it("has the server package's version and pins, and depends on the portable crypto libraries only", () => {
    const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
    expect(packedManifest).toMatchObject({ name: NAME, version: root.version });
    expect(Object.keys(packedManifest.dependencies ?? {}).sort()).toEqual(['@noble/curves', '@noble/hashes', '@scure/base']);
    for (const [name, version] of Object.entries(packedManifest.dependencies ?? {})) expect([name, version]).toEqual([name, root.dependencies[name]]);
  });

  it('installs from the tarball with nothing of the server', () => {
    const installed = installedPackages(path.join(consumer, 'node_modules'));
    expect(installed).toEqual([NAME, '@noble/curves', '@noble/hashes', '@scure/base'].sort());
    expect(installed.filter((p) => SERVER_ONLY.includes(p))).toEqual([]);
  });

  it('type-checks a consumer of both entries (CommonJS and ESM resolution)', async () => {
    await writeFile(
      path.join(consumer, 'check-types.mts'),
      `import { EvidenceBundleError, LedgerClient, verifyBundle, verifyBundleStream, verifyReceipt, type BundleSummary, type Receipt } from '${NAME}';
import { verifyCheckpoint, type VerifiedCheckpoint } from '${NAME}/verify';
export const check = (r: Receipt, key: string): [string, VerifiedCheckpoint, LedgerClient] =>
  [verifyReceipt(r, key).id, verifyCheckpoint(r.inclusionProof.checkpoint.note, key), new LedgerClient({ url: 'http://x', token: 't' })];
export const bundle = (text: string, key: string): number | undefined => {
  try { return verifyBundle(text, key).entries; } catch (e) { return e instanceof EvidenceBundleError ? e.problems[0]?.leafIndex : undefined; }
};
export const exported = (c: LedgerClient, key: string): Promise<BundleSummary> => verifyBundleStream(c.export({}, { format: 'bundle' }), key);
`,
    );
    await writeFile(
      path.join(consumer, 'check-types.cts'),
      `import { LedgerClient, verifyReceipt, type Receipt } from '${NAME}';
import { verifyCheckpoint } from '${NAME}/verify';
export const check = (r: Receipt, key: string): [string, number, LedgerClient] =>
  [verifyReceipt(r, key).id, verifyCheckpoint(r.inclusionProof.checkpoint.note, key).treeSize, new LedgerClient({ url: 'http://x', token: 't' })];
`,
    );
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    // No @types/node in the consumer, and the package's own declarations checked too (no skipLibCheck).
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom'];
    const problems = await run(process.execPath, [tsc, ...args, 'check-types.mts', 'check-types.cts'], { cwd: consumer }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout || String(err),
    );
    expect(problems).toBe('');
  });

  it('bundles from the installed package for the browser without Node built-ins', async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      stdin: { contents: `export * from '${NAME}'; export { verifyInclusion } from '${NAME}/verify';`, resolveDir: consumer, loader: 'js' },
      absWorkingDir: consumer,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles[0]!.text).not.toMatch(/require\(["']node:|from ["']node:|\bBuffer\.|process\.env/);
    const packages = new Set(Object.keys(result.metafile.inputs).map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));
    expect([...packages].sort()).toEqual([NAME, '@noble/curves', '@noble/hashes', '@scure/base'].sort());
  });

  // One adapter is enough: this is about the package; client.e2e.test.ts runs the same client on both.
  describeEachAdapter(
    'used against a real server',
    (adapter) => {
      let le: LedgerEnv;
      let server: ServerProcess;
      let keys: Keys;
      let vkey: string;

      beforeAll(async () => {
        le = await ledgerEnv('client-package', {}, adapter);
        server = await startLedger(le.env);
        keys = await bootstrapKeys(server.url, le.env);
        vkey = (await gqlOk<{ logInfo: { verifierKey: string } }>(server.url, '{ logInfo { verifierKey } }')).logInfo.verifierKey;
      });
      afterAll(async () => {
        await server?.stop();
        await le?.dispose();
      });

      /** A consumer program: records an event with the packed client, verifies it with both packed entries, prints what it found. */
      const program = (load: string, action: string): string => `${load}
const vkey = ${JSON.stringify(vkey)};
const ledger = new c.LedgerClient({ url: ${JSON.stringify(server.url)}, token: ${JSON.stringify(keys.appender)} });
const main = async () => {
  await ledger.recordMany([{ action: '${action}.padding', actor: { id: 'u-1', type: 'USER' } }, { action: '${action}.padding', actor: { id: 'u-1', type: 'USER' } }]);
  const r = await ledger.record({ action: '${action}', actor: { id: 'u-42', type: 'USER' }, target: { type: 'invoice', id: 'inv-7' } });
  const event = c.verifyReceipt(r, vkey);
  let refused = 'accepted';
  try { c.verifyReceipt({ ...r, leaf: r.leaf.replace('inv-7', 'inv-8') }, vkey); } catch (e) { refused = e instanceof c.ReceiptVerificationError ? e.problem : String(e); }
  const reader = new c.LedgerClient({ url: ${JSON.stringify(server.url)}, token: ${JSON.stringify(keys.auditor)} });
  const bundle = await c.verifyBundleStream(reader.export({ action: '${action}' }, { format: 'bundle' }), vkey);
  let text = '';
  for await (const line of reader.export({ action: '${action}' }, { format: 'bundle' })) text += line;
  let bundleRefused = 'accepted';
  try { c.verifyBundle(text.replace('inv-7', 'inv-8'), vkey); } catch (e) { bundleRefused = e instanceof c.EvidenceBundleError ? e.problems.map((p) => p.leafIndex === r.leafIndex).join() : String(e); }
  const checkpoint = v.verifyCheckpoint(r.inclusionProof.checkpoint.note, vkey);
  v.verifyInclusion({ leafHash: v.leafHash(new TextEncoder().encode(r.leaf)), leafIndex: r.leafIndex, treeSize: checkpoint.treeSize, proof: r.inclusionProof.hashes.map(v.hexToBytes), rootHash: checkpoint.rootHash });
  console.log(JSON.stringify({ eventId: event.id === r.eventId, action: event.action, target: event.target.id, refused, bundleEntries: bundle.entries, bundleRefused, proofLength: r.inclusionProof.hashes.length, version: pkg.version }));
};
main().catch((e) => { console.error(e); process.exit(1); });`;

      const expected = (action: string) => ({ eventId: true, action, target: 'inv-7', refused: 'LEAF_HASH', bundleEntries: 1, bundleRefused: 'true', proofLength: expect.any(Number), version: packedManifest.version });

      it('records through the packed client loaded with require(), and both entries verify the receipt; the client its exported evidence bundle', async () => {
        const file = path.join(consumer, 'record.cjs');
        await writeFile(file, program(`const c = require('${NAME}');\nconst v = require('${NAME}/verify');\nconst pkg = require('${NAME}/package.json');`, 'pkg.required'));
        const { stdout } = await run(process.execPath, [file], { cwd: consumer });
        const found = JSON.parse(stdout) as { proofLength: number };
        expect(found).toEqual(expected('pkg.required'));
        expect(found.proofLength).toBeGreaterThan(0);
      });

      it('records through the packed client loaded with import, and both entries verify the receipt; the client its exported evidence bundle', async () => {
        const file = path.join(consumer, 'record.mjs');
        await writeFile(
          file,
          program(`import * as c from '${NAME}';\nimport * as v from '${NAME}/verify';\nimport { createRequire } from 'node:module';\nconst pkg = createRequire(import.meta.url)('${NAME}/package.json');`, 'pkg.imported'),
        );
        const { stdout } = await run(process.execPath, [file], { cwd: consumer });
        expect(JSON.parse(stdout)).toEqual(expected('pkg.imported'));
      });
    },
    ['sqlite'],
  );
});

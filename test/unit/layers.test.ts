/**
 * The layering rules of docs/architecture.md, checked on the source: only the storage
 * adapters import a database driver; nothing outside `src/storage` reaches into an adapter
 * (but the chooser, `storage/open.ts`, and the FerretDB test-engine commands); and the core
 * never imports the shell (GraphQL, HTTP server, CLI).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sources(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every module specifier a file imports, resolved to a path under src/ when relative. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => (s.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(file), s)) : s));
}

const files = sources(SRC).map((f) => ({ rel: path.relative(SRC, f), imports: imports(f) }));
const DRIVERS: Record<string, string> = { mongodb: 'storage/mongodb/', bson: 'storage/mongodb/', 'better-sqlite3': 'storage/sqlite/' };
const CORE = ['merkle/', 'verify/', 'checkpoint/', 'event/', 'log/', 'ledger/', 'stream/', 'directory/', 'auth/', 'integrity/', 'audit/', 'client/', 'export/', 'storage/port.ts', 'storage/errors.ts', 'errors.ts'];
/** Shipped to browsers with the client library: nothing of Node, nothing of ours but `verify/`. */
const BROWSER_SAFE = ['export/exportedEvent.ts', 'export/evidenceBundle.ts'];
const SHELL = ['graphql/', 'server/', 'cli/'];

describe('the layers', () => {
  it('lets only the storage adapters import a database driver', () => {
    const offenders = files.flatMap((f) =>
      f.imports.filter((i) => i in DRIVERS && !f.rel.startsWith(DRIVERS[i]!)).map((i) => `${f.rel} imports ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it('keeps adapter internals inside src/storage (the chooser and the test-engine commands aside)', () => {
    const allowed = ['storage/', 'cli/localDb.ts', 'cli/main.ts'];
    const offenders = files.flatMap((f) =>
      allowed.some((a) => f.rel.startsWith(a))
        ? []
        : f.imports.filter((i) => i.startsWith('storage/sqlite') || i.startsWith('storage/mongodb')).map((i) => `${f.rel} imports ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it("lets only the shell's metrics module import prom-client (the core reports through an interface)", () => {
    const offenders = files.flatMap((f) => (f.rel !== 'server/metrics.ts' && f.imports.includes('prom-client') ? [`${f.rel} imports prom-client`] : []));
    expect(offenders).toEqual([]);
  });

  it('keeps the core free of the shell', () => {
    const offenders = files.flatMap((f) =>
      CORE.some((c) => f.rel.startsWith(c)) ? f.imports.filter((i) => SHELL.some((s) => i.startsWith(s))).map((i) => `${f.rel} imports ${i}`) : [],
    );
    expect(offenders).toEqual([]);
  });

  it('keeps audit-ledger/client browser-safe: its own modules, the verify library, the export formats and @noble only', () => {
    const client = files.filter((f) => f.rel.startsWith('client/'));
    expect(client.length).toBeGreaterThan(0);
    const allowed = (i: string) => i.startsWith('client/') || i === 'verify' || i === 'export/exportedEvent' || i === 'export/evidenceBundle' || /^@noble\/hashes\/\w+\.js$/.test(i);
    expect(client.flatMap((f) => f.imports.filter((i) => !allowed(i)).map((i) => `${f.rel} imports ${i}`))).toEqual([]);
    for (const f of client) {
      const source = readFileSync(path.join(SRC, f.rel), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect([f.rel, source.match(/\bBuffer\b|\bprocess\.|\bsetImmediate\b/g)]).toEqual([f.rel, null]);
    }
  });

  // The standalone @audit-ledger/client package (packages/client) ships these two and declares
  // @noble/curves, @noble/hashes and @scure/base as its only dependencies.
  it('keeps audit-ledger/verify to its own modules, @noble and @scure', () => {
    const verify = files.filter((f) => f.rel.startsWith('verify/'));
    expect(verify.length).toBeGreaterThan(0);
    const allowed = (i: string) => i.startsWith('verify/') || /^@(noble\/(hashes|curves)|scure\/base)(\/[\w.]+)?$/.test(i);
    expect(verify.flatMap((f) => f.imports.filter((i) => !allowed(i)).map((i) => `${f.rel} imports ${i}`))).toEqual([]);
  });

  it('keeps the exported-event and evidence-bundle modules browser-safe', () => {
    const offenders = files.flatMap((f) =>
      BROWSER_SAFE.includes(f.rel) ? f.imports.filter((i) => !i.startsWith('verify')).map((i) => `${f.rel} imports ${i}`) : [],
    );
    expect(offenders).toEqual([]);
    for (const rel of BROWSER_SAFE) {
      const source = readFileSync(path.join(SRC, rel), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect([rel, source.match(/\bBuffer\b|\bprocess\.|\brequire\(/g)]).toEqual([rel, null]);
    }
  });
});

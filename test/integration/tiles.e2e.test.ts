/**
 * The C2SP tlog-tiles read API over HTTP against a real server on both adapters, with
 * encryption at rest on and a redacted event in the log: hash tiles hold exactly the hashes
 * the proofs are made of, and only as far as the latest signed checkpoint reaches (full and
 * partial widths, every level); their headers; entry bundles under the event read rules (who
 * may read which bundle, the one read event per bundle, refusals recorded as denials, 410 for
 * a shredded leaf); and malformed paths refused with 400 while the server stays up.
 */
import http from 'node:http';
import { describeEachAdapter } from '../support/adapters';
import { gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, openEnvStorage, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';
import { decodeEntryBundle } from '../../src/log/entryBundle';
import { tileIndexPath } from '../../src/log/tilePath';
import { nodeCryptoRfc6962 as hasher } from '../../src/merkle/nodeHasher';

const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const chunks = (tile: Uint8Array): Uint8Array[] => Array.from({ length: tile.length / 32 }, (_, i) => tile.subarray(32 * i, 32 * i + 32));

/** RFC 6962 Merkle Tree Hash of leaf hashes. */
function mth(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 1) return hashes[0]!;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return hasher.nodeHash(mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}

/** A raw GET, so that paths reach the server exactly as written (fetch would normalise `..`). */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/`, { method: 'GET', path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describeEachAdapter('the tlog-tiles read API over HTTP', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  let groupA: string;
  let readerA: string;
  let redactedLeaf: number;
  /** A bundle whose every event is in group A. */
  let groupABundle: number;

  const get = async (path: string, token?: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(`${server.url}/${path}`, { headers: { ...headers, ...(token && { authorization: `Bearer ${token}` }) } });
    return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) };
  };
  const errorOf = (answer: Answer): { code: string; message: string; leafIndices?: number[] } =>
    (JSON.parse(Buffer.from(answer.body).toString('utf8')) as { error: { code: string; message: string; leafIndices?: number[] } }).error;
  const checkpoint = async (): Promise<{ treeSize: number; rootHash: string }> =>
    (await gqlOk<{ checkpoint: { treeSize: number; rootHash: string } }>(server.url, '{ checkpoint { treeSize rootHash } }')).checkpoint;
  const leafHashOf = async (leafIndex: number): Promise<string> =>
    (await gqlOk<{ inclusionProof: { leafHash: string } }>(server.url, 'query($l: SafeInt!) { inclusionProof(leafIndex: $l) { leafHash } }', { l: leafIndex })).inclusionProof.leafHash;
  const eventAt = async (leafIndex: number): Promise<{ action: string; metadata: Record<string, unknown> | null }> =>
    (await gqlOk<{ event: { action: string; metadata: Record<string, unknown> | null } }>(
      server.url,
      'query($l: SafeInt!) { event(leafIndex: $l) { action metadata } }',
      { l: leafIndex },
      keys.auditor,
    )).event;
  /** Every level-0 hash of the signed tree, from its tiles. */
  const leafHashes = async (size: number): Promise<Uint8Array[]> => {
    const out: Uint8Array[] = [];
    for (let n = 0; n * 256 < size; n++) {
      const width = Math.min(256, size - n * 256);
      const res = await get(`tile/0/${tileIndexPath(n)}${width < 256 ? `.p/${width}` : ''}`);
      expect(res.status).toBe(200);
      out.push(...chunks(res.body));
    }
    return out;
  };

  beforeAll(async () => {
    // Refusal windows longer than the suite: no aggregated summary is written while a test counts leaves.
    le = await ledgerEnv('tiles', { LEDGER_ENCRYPTION: 'on', LEDGER_RETENTION_INTERVAL_MS: '0', LEDGER_RECORD_READS: 'true', LEDGER_DENIAL_WINDOW_SECONDS: '3600' }, adapter);
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
    groupA = (await gqlOk<{ createGroup: { id: string } }>(server.url, 'mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }', { i: { name: 'Team A' } }, keys.admin)).createGroup.id;
    const key = async (name: string, roles: string[], groupIds: string[]): Promise<string> =>
      (await gqlOk<{ createApiKey: { token: string } }>(server.url, 'mutation($i: ApiKeyInput!) { createApiKey(input: $i) { token } }', { i: { name, roles, groupIds } }, keys.admin))
        .createApiKey.token;
    readerA = await key('reader-a', ['READER'], [groupA]);
    const appenderA = await key('appender-a', ['APPENDER'], [groupA]);
    // One call is one submission: its events take consecutive leaves, so bundle 1 is all group A.
    const inputs = Array.from({ length: 800 }, (_, i) => ({ action: 'doc.read', actor: { id: `u-${i % 7}`, type: 'USER' }, target: { type: 'doc', id: `d-${i}` }, groups: [groupA] }));
    const receipts = (await gqlOk<{ recordEvents: { leafIndex: number }[] }>(server.url, 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }', { i: inputs }, appenderA)).recordEvents;
    expect(receipts[0]!.leafIndex).toBeLessThan(256);
    groupABundle = 1;
    redactedLeaf = 2 * 256 + 10;
    await gqlOk(server.url, 'mutation($l: SafeInt!) { redactEvent(leafIndex: $l, reason: "erasure request 14") { redacted } }', { l: redactedLeaf }, keys.admin);
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  it('serves the hashes the proofs are made of, and they hash to the signed root', async () => {
    const { treeSize, rootHash } = await checkpoint();
    expect(treeSize % 256).not.toBe(0);
    const leaves = await leafHashes(treeSize);
    expect(leaves).toHaveLength(treeSize);
    expect(hex(mth(leaves))).toBe(rootHash);
    for (const leafIndex of [0, 255, 256, redactedLeaf, treeSize - 1]) expect(hex(leaves[leafIndex]!)).toBe(await leafHashOf(leafIndex));
    // Level 1 holds the roots of the full level-0 tiles.
    const fullTiles = Math.floor(treeSize / 256);
    const level1 = await get(`tile/1/000.p/${fullTiles}`);
    expect(level1.status).toBe(200);
    expect(chunks(level1.body).map(hex)).toEqual(Array.from({ length: fullTiles }, (_, n) => hex(mth(leaves.slice(n * 256, n * 256 + 256)))));
  });

  it('serves full tiles and any partial width the latest checkpoint covers, nothing beyond it', async () => {
    const { treeSize } = await checkpoint();
    const full = Math.floor(treeSize / 256);
    const rest = treeSize % 256;
    const cases: [string, number][] = [
      ['tile/0/000', 200],
      ['tile/0/000.p/1', 200],
      ['tile/0/000.p/255', 200],
      [`tile/0/${tileIndexPath(full - 1)}`, 200],
      [`tile/0/${tileIndexPath(full)}.p/${rest}`, 200],
      [`tile/0/${tileIndexPath(full)}.p/1`, 200],
      [`tile/0/${tileIndexPath(full)}.p/${rest + 1}`, 404],
      [`tile/0/${tileIndexPath(full)}`, 404],
      [`tile/0/${tileIndexPath(full + 1)}.p/1`, 404],
      [`tile/1/000.p/${full}`, 200],
      [`tile/1/000.p/${full + 1}`, 404],
      ['tile/1/000', 404],
      ['tile/1/001.p/1', 404],
      ['tile/2/000.p/1', 404],
      ['tile/63/000.p/1', 404],
      ['tile/0/x999/x999/x999/x999/x999/x999/999', 404],
    ];
    for (const [path, status] of cases) {
      const res = await get(path);
      expect([path, res.status]).toEqual([path, status]);
      if (status === 200) {
        const width = /\.p\/(\d+)$/.exec(path)?.[1];
        expect([path, res.body.length]).toEqual([path, 32 * (width ? Number(width) : 256)]);
        expect(res.headers.get('content-type')).toBe('application/octet-stream');
        expect(res.headers.get('cache-control')).toBe(IMMUTABLE);
      } else {
        expect(errorOf(res).code).toBe('NOT_FOUND');
        expect(res.headers.get('cache-control')).toBe('no-store');
      }
    }
    // A partial tile is a prefix of the wider one: what a URL names never changes.
    const prefix = await get('tile/0/000.p/17');
    expect(prefix.body).toEqual((await get('tile/0/000')).body.subarray(0, 17 * 32));
  });

  it('never hands out a stored hash the signed tree does not cover', async () => {
    const { treeSize } = await checkpoint();
    expect(treeSize).toBeLessThan(65_536);
    // A level-2 entry is stored (as a sequencer part-way through a batch might have written one), but unsigned.
    const storage = await openEnvStorage(le.env);
    try {
      await storage.tiles.write([{ level: 2, index: 0, hashes: new Uint8Array(32).fill(9) }]);
    } finally {
      await storage.close();
    }
    expect((await get('tile/2/000.p/1')).status).toBe(404);
  });

  it('serves entry bundles whose entries are the leaves the level-0 tile hashes', async () => {
    const res = await get(`tile/entries/${tileIndexPath(groupABundle)}`, keys.auditor, { 'accept-encoding': 'identity' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const entries = decodeEntryBundle(res.body);
    expect(entries).toHaveLength(256);
    const tile = chunks((await get(`tile/0/${tileIndexPath(groupABundle)}`)).body);
    expect(entries.map((e) => hex(hasher.leafHash(e)))).toEqual(tile.map(hex));
    const leaf = (await gqlOk<{ event: { leaf: string } }>(server.url, 'query($l: SafeInt!) { event(leafIndex: $l) { leaf } }', { l: 256 }, keys.auditor)).event.leaf;
    expect(Buffer.from(entries[0]!).toString('utf8')).toBe(leaf);
    // Compressed when asked (fetch undoes it), and the partial bundle of the signed tree's end.
    const gzipped = await get(`tile/entries/${tileIndexPath(groupABundle)}.p/3`, keys.auditor, { 'accept-encoding': 'gzip' });
    expect([gzipped.status, gzipped.headers.get('content-encoding')]).toEqual([200, 'gzip']);
    expect(decodeEntryBundle(gzipped.body)).toEqual(entries.slice(0, 3));
    // Each bundle read grows the log: the size is read again just before.
    const size = (await checkpoint()).treeSize;
    const last = Math.floor(size / 256);
    const tail = await get(`tile/entries/${tileIndexPath(last)}.p/${size % 256}`, keys.auditor);
    expect(tail.status).toBe(200);
    expect(decodeEntryBundle(tail.body)).toHaveLength(size % 256);
    const beyond = await get(`tile/entries/${tileIndexPath(last)}.p/${(size % 256) + 2}`, keys.auditor);
    expect([beyond.status, errorOf(beyond).code]).toEqual([404, 'NOT_FOUND']);
  });

  it('records each bundle served as one read, and reading hash tiles as nothing', async () => {
    const before = (await checkpoint()).treeSize;
    expect((await get('tile/0/000')).status).toBe(200);
    expect((await checkpoint()).treeSize).toBe(before);
    expect((await get(`tile/entries/${tileIndexPath(groupABundle)}.p/9`, readerA)).status).toBe(200);
    expect((await checkpoint()).treeSize).toBe(before + 1);
    expect(await eventAt(before)).toMatchObject({
      action: 'ledger.events.read',
      metadata: { operation: 'entryBundle', path: `tile/entries/${tileIndexPath(groupABundle)}.p/9`, firstLeafIndex: 256, leaves: 9, treeSize: before },
    });
  });

  it('lets a READER read a bundle only when every event in it is in its groups, and records refusals', async () => {
    const refusals: [string, string | undefined, number, string][] = [
      ['tile/entries/000', readerA, 403, 'FORBIDDEN'],
      [`tile/entries/${tileIndexPath(groupABundle)}`, keys.reader, 403, 'FORBIDDEN'],
      ['tile/entries/000', keys.appender, 403, 'FORBIDDEN'],
      ['tile/entries/000', keys.admin, 403, 'FORBIDDEN'],
      ['tile/entries/000', undefined, 401, 'UNAUTHENTICATED'],
      ['tile/entries/000', 'alk_not-a-key', 401, 'UNAUTHENTICATED'],
      ['tile/0/000', 'alk_not-a-key', 401, 'UNAUTHENTICATED'],
    ];
    for (const [path, token, status, code] of refusals) {
      const before = (await checkpoint()).treeSize;
      const res = await get(path, token);
      expect([path, token === undefined, res.status, errorOf(res).code]).toEqual([path, token === undefined, status, code]);
      expect(res.body.length).toBeLessThan(1000);
      // The first refusal of each caller is recorded at once (later ones in its window are counted into one event).
      expect((await checkpoint()).treeSize).toBe(before + 1);
      expect(await eventAt(before)).toMatchObject({ action: 'ledger.access.denied', metadata: { operation: path.startsWith('tile/entries') ? 'entryBundle' : 'tile', code } });
      if (status === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await get(`tile/entries/${tileIndexPath(groupABundle)}`, readerA)).status).toBe(200);
    expect((await get('tile/entries/000', keys.auditor)).status).toBe(200);
  });

  it('answers a bundle holding a crypto-shredded leaf 410, naming it, and records no read', async () => {
    const before = (await checkpoint()).treeSize;
    for (const path of ['tile/entries/002', 'tile/entries/002.p/11']) {
      const res = await get(path, keys.auditor);
      expect([path, res.status]).toEqual([path, 410]);
      expect(errorOf(res)).toMatchObject({ code: 'EVENT_REDACTED', leafIndices: [redactedLeaf] });
    }
    expect((await checkpoint()).treeSize).toBe(before);
    expect((await get('tile/entries/002.p/10', keys.auditor)).status).toBe(200);
    // The shredded leaf's hash stays in the tree.
    expect(hex(chunks((await get('tile/0/002')).body)[10]!)).toBe(await leafHashOf(redactedLeaf));
  });

  it('refuses malformed paths with 400 and a reason, writes nothing, and stays up', async () => {
    const before = (await checkpoint()).treeSize;
    const bad = [
      'tile/0/0',
      'tile/0/x000/001',
      'tile/00/000',
      'tile/64/000',
      'tile/0/000.p/0',
      'tile/0/000.p/256',
      'tile/0/000.p/07',
      'tile/8/0/000',
      'tile/entries/000.p/999',
      'tile/entries/x1/000',
      'tile/0/%30%30%30',
      `tile/0/${'x123/'.repeat(2000)}00`,
      'tile/data/000',
    ];
    for (const path of bad) {
      const res = await get(path, keys.auditor);
      expect([path.slice(0, 40), res.status, errorOf(res).code]).toEqual([path.slice(0, 40), 400, 'BAD_USER_INPUT']);
      expect(errorOf(res).message).toMatch(/tile/);
    }
    for (const path of ['/tile/0/000%00', '/tile/0/../0/000', '/tile//0/000', '/tile/0/000?x=1#y']) {
      const res = await rawGet(server.url, path);
      expect([path, res.status]).toEqual([path, path.endsWith('?x=1#y') ? 200 : 400]);
    }
    // Long but well formed: a tile no tree reaches.
    expect((await get(`tile/0/${'x123/'.repeat(2000)}000`)).status).toBe(404);
    expect((await get('tile')).status).toBe(404);
    expect((await checkpoint()).treeSize).toBe(before);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describeEachAdapter(
  'hash tiles with LEDGER_PUBLIC_PROOFS=false',
  (adapter) => {
    let le: LedgerEnv;
    let server: ServerProcess;
    let keys: Keys;

    beforeAll(async () => {
      le = await ledgerEnv('tiles-private', { LEDGER_PUBLIC_PROOFS: 'false' }, adapter);
      server = await startLedger(le.env);
      keys = await bootstrapKeys(server.url, le.env);
      await gqlOk(server.url, 'mutation($i: EventInput!) { recordEvent(input: $i) { leafIndex } }', { i: { action: 'doc.read', actor: { id: 'u-1', type: 'USER' } } }, keys.appender);
    }, 180_000);

    afterAll(async () => {
      await server?.stop();
      await le?.dispose();
    });

    it('needs a key of any role, as the proofs do', async () => {
      const anonymous = await fetch(`${server.url}/tile/0/000.p/1`);
      expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
      for (const token of [keys.appender, keys.reader, keys.admin]) {
        const res = await fetch(`${server.url}/tile/0/000.p/1`, { headers: { authorization: `Bearer ${token}` } });
        expect([res.status, (await res.arrayBuffer()).byteLength, res.headers.get('cache-control')]).toEqual([200, 32, 'private, max-age=31536000, immutable']);
      }
    });
  },
  ['sqlite'],
);

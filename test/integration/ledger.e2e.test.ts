import { CompactRange } from '../../src/merkle/compactRange';
import {
  bytesToHex,
  hexToBytes,
  leafHash,
  rfc6962,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '../../src/verify';
import { errorCode, gql, gqlOk, RECEIPT_FIELDS } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';
import { describeEachAdapter } from '../support/adapters';

interface Receipt {
  eventId: string;
  leafIndex: number;
  leafHash: string;
  inclusionProof: {
    leafIndex: number;
    treeSize: number;
    leafHash: string;
    hashes: string[];
    checkpoint: { origin: string; treeSize: number; rootHash: string; note: string };
  };
}

const utf8 = new TextEncoder();
const RECORD_ONE = `mutation($i: EventInput!) { recordEvent(input: $i) { ${RECEIPT_FIELDS} } }`;
const RECORD_MANY = `mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { ${RECEIPT_FIELDS} } }`;

function event(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { action: 'document.read', actor: { id: `user-${i % 7}`, type: 'USER' }, target: { type: 'document', id: `doc-${i}` }, ...extra };
}

function verifyReceipt(r: Receipt, vkey: string): void {
  const cp = verifyCheckpoint(r.inclusionProof.checkpoint.note, vkey);
  expect(cp.treeSize).toBe(r.inclusionProof.treeSize);
  expect(bytesToHex(cp.rootHash)).toBe(r.inclusionProof.checkpoint.rootHash);
  verifyInclusion({
    leafHash: hexToBytes(r.leafHash),
    leafIndex: r.leafIndex,
    treeSize: r.inclusionProof.treeSize,
    proof: r.inclusionProof.hashes.map(hexToBytes),
    rootHash: cp.rootHash,
  });
}

describeEachAdapter('the ledger over HTTP', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  let vkey: string;
  const receipts: Receipt[] = [];

  beforeAll(async () => {
    le = await ledgerEnv('e2e', {}, adapter);
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
    vkey = (await gqlOk<{ logInfo: { verifierKey: string } }>(server.url, '{ logInfo { origin verifierKey } }')).logInfo.verifierKey;
  });
  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  it('answers logInfo and the empty tree before any event', async () => {
    const { checkpoint } = await gqlOk<{ checkpoint: { treeSize: number; rootHash: string; note: string } }>(
      server.url,
      '{ checkpoint { treeSize rootHash note } }',
    );
    expect(checkpoint.treeSize).toBe(0);
    expect(checkpoint.rootHash).toBe(bytesToHex(rfc6962.emptyRoot()));
    expect(verifyCheckpoint(checkpoint.note, vkey).treeSize).toBe(0);
  });

  it('records single events and batches, each receipt proving inclusion under a signed checkpoint', async () => {
    const one = await gqlOk<{ recordEvent: Receipt }>(server.url, RECORD_ONE, { i: event(0, { metadata: { reason: 'é', n: 1.5 } }) }, keys.appender);
    receipts.push(one.recordEvent);
    const many = await gqlOk<{ recordEvents: Receipt[] }>(
      server.url,
      RECORD_MANY,
      { i: Array.from({ length: 1000 }, (_, i) => event(i + 1)) },
      keys.appender,
    );
    expect(many.recordEvents).toHaveLength(1000);
    receipts.push(...many.recordEvents);
    const concurrent = await Promise.all(
      Array.from({ length: 40 }, (_, i) => gqlOk<{ recordEvent: Receipt }>(server.url, RECORD_ONE, { i: event(2000 + i) }, keys.appender)),
    );
    receipts.push(...concurrent.map((c) => c.recordEvent));
    for (const r of receipts) verifyReceipt(r, vkey);
    const indices = receipts.map((r) => r.leafIndex).sort((a, b) => a - b);
    expect(indices).toEqual(Array.from({ length: receipts.length }, (_, i) => i));
  });

  it('returns the original receipt for a retried idempotency key, and never a second event', async () => {
    const input = event(5000, { idempotencyKey: 'order-42' });
    const first = (await gqlOk<{ recordEvent: Receipt }>(server.url, RECORD_ONE, { i: input }, keys.appender)).recordEvent;
    const again = (await gqlOk<{ recordEvent: Receipt }>(server.url, RECORD_ONE, { i: input }, keys.appender)).recordEvent;
    expect(again.eventId).toBe(first.eventId);
    expect(again.leafIndex).toBe(first.leafIndex);
    verifyReceipt(again, vkey);
    const both = (await gqlOk<{ recordEvents: Receipt[] }>(server.url, RECORD_MANY, { i: [event(1, { idempotencyKey: 'dup' }), event(1, { idempotencyKey: 'dup' })] }, keys.appender)).recordEvents;
    expect(both[0]!.eventId).toBe(both[1]!.eventId);
    receipts.push(first, both[0]!);
  });

  it('serves events with their leaf text, filtered and paginated, and the leaves recompute the signed root', async () => {
    const all: { leafIndex: number; leaf: string; leafHash: string }[] = [];
    let after: string | null = null;
    do {
      const page: { events: { edges: { node: { leafIndex: number; leaf: string; leafHash: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } =
        await gqlOk(server.url, 'query($a: String) { events(first: 500, after: $a) { edges { node { leafIndex leaf leafHash } } pageInfo { hasNextPage endCursor } } }', { a: after }, keys.auditor);
      all.push(...page.events.edges.map((e) => e.node));
      after = page.events.pageInfo.hasNextPage ? page.events.pageInfo.endCursor : null;
    } while (after);
    const { checkpoint } = await gqlOk<{ checkpoint: { treeSize: number; note: string } }>(server.url, '{ checkpoint { treeSize note } }');
    expect(all.map((e) => e.leafIndex)).toEqual(Array.from({ length: checkpoint.treeSize }, (_, i) => i));
    const range = CompactRange.empty();
    const hashes = all.map((e) => leafHash(utf8.encode(e.leaf)));
    all.forEach((e, i) => expect(bytesToHex(hashes[i]!)).toBe(e.leafHash));
    range.append(hashes, rfc6962);
    expect(bytesToHex(range.root(rfc6962))).toBe(bytesToHex(verifyCheckpoint(checkpoint.note, vkey).rootHash));

    const byActor = await gqlOk<{ events: { edges: { node: { actor: { id: string }; leafIndex: number } }[] } }>(
      server.url,
      '{ events(filter: { actorId: "user-3", action: "document.read" }, first: 5, order: NEWEST_FIRST) { edges { node { leafIndex actor { id } } } } }',
      {},
      keys.auditor,
    );
    const got = byActor.events.edges.map((e) => e.node);
    expect(got).toHaveLength(5);
    expect(got.every((n) => n.actor.id === 'user-3')).toBe(true);
    expect(got.map((n) => n.leafIndex)).toEqual([...got.map((n) => n.leafIndex)].sort((a, b) => b - a));

    const single = await gqlOk<{ event: { id: string; metadata: unknown; leaf: string } }>(
      server.url,
      'query($id: ID) { event(id: $id) { id metadata leaf } }',
      { id: receipts[0]!.eventId },
      keys.auditor,
    );
    expect(single.event.metadata).toEqual({ reason: 'é', n: 1.5 });
    expect(JSON.parse(single.event.leaf)).toMatchObject({ id: receipts[0]!.eventId, action: 'document.read', salt: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('proves consistency between any two checkpoints, and inclusion at any past size', async () => {
    const latest = (await gqlOk<{ checkpoint: { treeSize: number; note: string } }>(server.url, '{ checkpoint { treeSize note } }')).checkpoint;
    for (const from of [0, 1, 2, 3, 500, 1001, latest.treeSize]) {
      const { consistencyProof: p } = await gqlOk<{ consistencyProof: { hashes: string[]; checkpoint: { note: string } } }>(
        server.url,
        'query($f: SafeInt!, $t: SafeInt) { consistencyProof(fromSize: $f, toSize: $t) { hashes checkpoint { note } } }',
        { f: from, t: latest.treeSize },
      );
      const old = (await gqlOk<{ checkpoint: { note: string } }>(server.url, 'query($s: SafeInt) { checkpoint(treeSize: $s) { note } }', { s: from })).checkpoint;
      const oldCp = verifyCheckpoint(old.note, vkey);
      const newCp = verifyCheckpoint(p.checkpoint.note, vkey);
      verifyConsistency({ fromSize: from, toSize: latest.treeSize, fromRoot: oldCp.rootHash, toRoot: newCp.rootHash, proof: p.hashes.map(hexToBytes) });
    }
    const { inclusionProof: ip } = await gqlOk<{ inclusionProof: { leafHash: string; hashes: string[]; checkpoint: { note: string } } }>(
      server.url,
      '{ inclusionProof(leafIndex: 7, treeSize: 600) { leafHash hashes checkpoint { note } } }',
    );
    const cp = verifyCheckpoint(ip.checkpoint.note, vkey);
    expect(cp.treeSize).toBe(600);
    verifyInclusion({ leafHash: hexToBytes(ip.leafHash), leafIndex: 7, treeSize: 600, proof: ip.hashes.map(hexToBytes), rootHash: cp.rootHash });
  });

  it('serves the latest signed note at GET /checkpoint as text/plain', async () => {
    const res = await fetch(`${server.url}/checkpoint`);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const note = await res.text();
    const latest = (await gqlOk<{ checkpoint: { note: string } }>(server.url, '{ checkpoint { note } }')).checkpoint;
    expect(note).toBe(latest.note);
    verifyCheckpoint(note, vkey);
  });

  describe('refuses bad requests with a code, writing nothing but the denial itself', () => {
    const size = async (): Promise<number> =>
      (await gqlOk<{ checkpoint: { treeSize: number } }>(server.url, '{ checkpoint { treeSize } }')).checkpoint.treeSize;

    it.each([
      ['no key', undefined, 'UNAUTHENTICATED'],
      ['an unknown key', 'alk_notakey', 'UNAUTHENTICATED'],
      ['an ADMIN key', 'admin', 'FORBIDDEN'],
      ['an AUDITOR key', 'auditor', 'FORBIDDEN'],
      ['a READER key', 'reader', 'FORBIDDEN'],
    ])('recordEvent with %s', async (_name, who, code) => {
      const before = await size();
      const token = who && who in keys ? keys[who as keyof Keys] : who;
      expect(errorCode(await gql(server.url, RECORD_ONE, { i: event(1) }, token))).toBe(code);
      // The one leaf written is the ledger.access.denied event.
      expect(await size()).toBe(before + 1);
      const { events } = await gqlOk<{ events: { edges: { node: { action: string; outcome: string } }[] } }>(
        server.url,
        '{ events(first: 1, order: NEWEST_FIRST) { edges { node { action outcome } } } }',
        {},
        keys.auditor,
      );
      expect(events.edges[0]!.node).toEqual({ action: 'ledger.access.denied', outcome: 'DENIED' });
    });

    it.each([
      ['a bad action', { action: 'Not A Verb' }, 'input.action'],
      ['an empty actor id', { actor: { id: ' ', type: 'USER' } }, 'input.actor.id'],
      ['metadata over 16 KiB', { metadata: { blob: 'x'.repeat(17 * 1024) } }, 'input.metadata'],
      ['a too long reason', { reason: 'r'.repeat(5000) }, 'input.reason'],
    ])('recordEvent with %s', async (_name, patch, field) => {
      const before = await size();
      const res = await gql(server.url, RECORD_ONE, { i: { ...event(1), ...patch } }, keys.appender);
      expect(errorCode(res)).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe(field);
      expect(await size()).toBe(before);
    });

    it('a batch with one bad event records none of it', async () => {
      const before = await size();
      const res = await gql(server.url, RECORD_MANY, { i: [event(1), event(2), { ...event(3), action: '' }] }, keys.appender);
      expect(errorCode(res)).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toContain('inputs[2].action');
      expect(errorCode(await gql(server.url, RECORD_MANY, { i: [] }, keys.appender))).toBe('BAD_USER_INPUT');
      expect(await size()).toBe(before);
    });

    it('a GraphQL-invalid input (missing actor) is refused before any resolver runs', async () => {
      const res = await gql(server.url, RECORD_ONE, { i: { action: 'a.b' } }, keys.appender);
      expect(errorCode(res)).toBe('BAD_USER_INPUT');
    });

    it.each([
      ['inclusionProof(leafIndex: 999999)', '{ inclusionProof(leafIndex: 999999) { hashes } }'],
      ['inclusionProof(leafIndex: 5, treeSize: 5)', '{ inclusionProof(leafIndex: 5, treeSize: 5) { hashes } }'],
      ['inclusionProof(leafIndex: -1)', '{ inclusionProof(leafIndex: -1) { hashes } }'],
      ['consistencyProof(fromSize: 10, toSize: 5)', '{ consistencyProof(fromSize: 10, toSize: 5) { hashes } }'],
      ['consistencyProof(fromSize: 99999999)', '{ consistencyProof(fromSize: 99999999) { hashes } }'],
      ['checkpoint(treeSize: 99999999)', '{ checkpoint(treeSize: 99999999) { note } }'],
      ['events(first: 0)', '{ events(first: 0) { edges { cursor } } }'],
      ['events(after: "garbage")', '{ events(after: "garbage") { edges { cursor } } }'],
    ])('%s is BAD_USER_INPUT', async (_name, query) => {
      expect(errorCode(await gql(server.url, query, {}, keys.auditor))).toBe('BAD_USER_INPUT');
    });

    it('reading events needs an AUDITOR or READER key', async () => {
      expect(errorCode(await gql(server.url, '{ events { edges { cursor } } }'))).toBe('UNAUTHENTICATED');
      expect(errorCode(await gql(server.url, '{ events { edges { cursor } } }', {}, keys.appender))).toBe('FORBIDDEN');
      expect(errorCode(await gql(server.url, '{ event(leafIndex: 0) { id } }', {}, keys.admin))).toBe('FORBIDDEN');
    });

    it('key management needs ADMIN, refuses ADMIN with APPENDER, and revoked keys stop working', async () => {
      const createKey = 'mutation($i: ApiKeyInput!) { createApiKey(input: $i) { id token } }';
      expect(errorCode(await gql(server.url, createKey, { i: { name: 'x', roles: ['AUDITOR'] } }, keys.appender))).toBe('FORBIDDEN');
      expect(errorCode(await gql(server.url, createKey, { i: { name: 'x', roles: ['ADMIN', 'APPENDER'] } }, keys.admin))).toBe('BAD_USER_INPUT');
      expect(errorCode(await gql(server.url, createKey, { i: { name: ' ', roles: ['AUDITOR'] } }, keys.admin))).toBe('BAD_USER_INPUT');
      const made = await gqlOk<{ createApiKey: { id: string; token: string } }>(server.url, createKey, { i: { name: 'temp', roles: ['APPENDER'] } }, keys.admin);
      await gqlOk(server.url, RECORD_ONE, { i: event(9) }, made.createApiKey.token);
      await gqlOk(server.url, 'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: made.createApiKey.id }, keys.admin);
      expect(errorCode(await gql(server.url, RECORD_ONE, { i: event(9) }, made.createApiKey.token))).toBe('UNAUTHENTICATED');
      expect(errorCode(await gql(server.url, 'mutation { revokeApiKey(id: "nope") { id } }', {}, keys.admin))).toBe('BAD_USER_INPUT');
      expect(errorCode(await gql(server.url, 'mutation { revokeApiKey(id: "bootstrap-admin") { id } }', {}, keys.admin))).toBe('BAD_USER_INPUT');
    });

    it('the server is still up and healthy after all of that', async () => {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    });
  });

  it('keeps its history across a restart: consistency from the old checkpoint to the new one', async () => {
    const before = (await gqlOk<{ checkpoint: { treeSize: number; note: string } }>(server.url, '{ checkpoint { treeSize note } }')).checkpoint;
    expect(await server.stop('SIGTERM')).toBe(0);
    server = await startLedger(le.env);
    const after = (await gqlOk<{ recordEvent: Receipt }>(server.url, RECORD_ONE, { i: event(77) }, keys.appender)).recordEvent;
    verifyReceipt(after, vkey);
    const { consistencyProof: p } = await gqlOk<{ consistencyProof: { hashes: string[]; checkpoint: { note: string; treeSize: number } } }>(
      server.url,
      'query($f: SafeInt!) { consistencyProof(fromSize: $f) { hashes checkpoint { note treeSize } } }',
      { f: before.treeSize },
    );
    // Refusals counted before the stop were written as summaries while it shut down, so the
    // new event is the newest leaf but not necessarily the first after `before`.
    expect(after.leafIndex).toBeGreaterThanOrEqual(before.treeSize);
    expect(p.checkpoint.treeSize).toBe(after.leafIndex + 1);
    verifyConsistency({
      fromSize: before.treeSize,
      toSize: p.checkpoint.treeSize,
      fromRoot: verifyCheckpoint(before.note, vkey).rootHash,
      toRoot: verifyCheckpoint(p.checkpoint.note, vkey).rootHash,
      proof: p.hashes.map(hexToBytes),
    });
  });
});

/**
 * audit-ledger/client against a real server over HTTP, on both adapters, with encryption at
 * rest on: records (batched and not) whose receipts verify with the verifier key alone and
 * fail, naming the mismatch, once altered; idempotent retries and conflicts; reading back
 * through events(); and retries across a server restart (kill -9 after the events were
 * stored but before the answer arrived, and while the request was in flight) that leave each
 * event in the log exactly once.
 */
import {
  EventRedactedError,
  type FetchLike,
  IdempotencyConflictError,
  LedgerClient,
  type LedgerClientOptions,
  type LedgerEvent,
  type Receipt,
  ReceiptVerificationError,
  verifyReceipt,
} from '../../src/client';
import { describeEachAdapter } from '../support/adapters';
import { gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import { type ServerProcess, startServerProcess } from '../support/serverProcess';
import { stopProcess } from '../support/processState';

/** Generous: a retry budget that outlasts a server restart on a busy machine (tests never wait on timings). */
const PATIENT = { attempts: 200, baseDelayMs: 20, maxDelayMs: 300 };

const sdkEvent = (action: string, n: number, extra: Record<string, unknown> = {}) => ({
  action,
  actor: { id: `user-${n % 5}`, type: 'USER' as const, name: 'Ann' },
  target: { type: 'invoice', id: `inv-${n}` },
  metadata: { n },
  ...extra,
});

function problemOf(receipt: Receipt, vkey: string): string {
  try {
    verifyReceipt(receipt, vkey);
    return 'verified';
  } catch (err) {
    if (!(err instanceof ReceiptVerificationError)) throw err;
    return err.problem;
  }
}

const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);

describeEachAdapter('the client SDK against a real server', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  let vkey: string;
  let port: number;
  const url = () => `http://127.0.0.1:${port}`;

  beforeAll(async () => {
    le = await ledgerEnv('sdk', { LEDGER_ENCRYPTION: 'on', LEDGER_RETENTION_INTERVAL_MS: '0' }, adapter);
    server = await startLedger(le.env);
    port = Number(new URL(server.url).port);
    keys = await bootstrapKeys(server.url, le.env);
    vkey = (await gqlOk<{ logInfo: { verifierKey: string } }>(server.url, '{ logInfo { verifierKey } }')).logInfo.verifierKey;
  });
  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  const appender = (options: Partial<LedgerClientOptions> = {}) => new LedgerClient({ url: url(), token: keys.appender, retry: PATIENT, ...options });

  /** Every event of the log under an action prefix, read back as the auditor. */
  async function logged(actionPrefix: string): Promise<LedgerEvent[]> {
    const auditor = new LedgerClient({ url: url(), token: keys.auditor });
    const events: LedgerEvent[] = [];
    for await (const e of auditor.events({ actionPrefix }, { pageSize: 7 })) events.push(e);
    return events;
  }

  it('records single events (batched) and many at once; every receipt verifies and names what was recorded', async () => {
    const client = appender();
    const singles = await Promise.all(Array.from({ length: 20 }, (_, n) => client.record(sdkEvent('sdk.single', n))));
    const many = await client.recordMany(Array.from({ length: 5 }, (_, n) => sdkEvent('sdk.many', n)));
    for (const [i, r] of singles.entries()) {
      expect(client.verifyReceipt(r, vkey)).toMatchObject({ id: r.eventId, action: 'sdk.single', target: { id: `inv-${i}` }, metadata: { n: i } });
    }
    for (const [i, r] of many.entries()) expect(verifyReceipt(r, vkey)).toMatchObject({ action: 'sdk.many', metadata: { n: i } });
    // recordMany is one submission: consecutive leaves, in order.
    expect(many.map((r) => r.leafIndex)).toEqual(many.map((_, i) => many[0]!.leafIndex + i));
    expect(new Set([...singles, ...many].map((r) => r.leafIndex)).size).toBe(25);
    // What the auditor reads is what the receipts hold.
    const events = await logged('sdk.single');
    expect(events.map((e) => e.leaf).sort()).toEqual(singles.map((r) => r.leaf).sort());
  });

  it('refuses an altered receipt, naming what does not match', async () => {
    const client = appender();
    await client.recordMany(Array.from({ length: 3 }, (_, n) => sdkEvent('sdk.padding', n)));
    const receipt = await client.record(sdkEvent('sdk.tamper', 1));
    expect(receipt.inclusionProof.hashes.length).toBeGreaterThan(0);
    const proof = receipt.inclusionProof;
    expect(problemOf(receipt, vkey)).toBe('verified');
    expect(problemOf({ ...receipt, leaf: receipt.leaf.replace('inv-1', 'inv-2') }, vkey)).toBe('LEAF_HASH');
    expect(problemOf({ ...receipt, leafHash: flip(receipt.leafHash), inclusionProof: { ...proof, leafHash: flip(receipt.leafHash) } }, vkey)).toBe('LEAF_HASH');
    expect(problemOf({ ...receipt, inclusionProof: { ...proof, hashes: [flip(proof.hashes[0]!), ...proof.hashes.slice(1)] } }, vkey)).toBe('INCLUSION');
    const note = proof.checkpoint.note.replace(/\n(\d+)\n/, (_m, size: string) => `\n${Number(size) + 1}\n`);
    expect(problemOf({ ...receipt, inclusionProof: { ...proof, checkpoint: { ...proof.checkpoint, note } } }, vkey)).toBe('CHECKPOINT');
  });

  it('answers a retried key with the original receipt and its leaf, and surfaces a conflicting reuse', async () => {
    const client = appender();
    const first = await client.record(sdkEvent('sdk.keyed', 1, { idempotencyKey: 'order-1' }));
    const again = await client.record(sdkEvent('sdk.keyed', 1, { idempotencyKey: 'order-1' }));
    expect(again).toMatchObject({ eventId: first.eventId, leafIndex: first.leafIndex, leaf: first.leaf });
    expect(verifyReceipt(again, vkey).id).toBe(first.eventId);
    const conflict = client.record(sdkEvent('sdk.keyed', 2, { idempotencyKey: 'order-1' }));
    await expect(conflict).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(conflict).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', idempotencyKey: 'order-1', leafIndex: first.leafIndex, extensions: { code: 'IDEMPOTENCY_CONFLICT' } });
    // Batched beside it, another caller's event is recorded all the same.
    const [other, conflicting] = await Promise.allSettled([client.record(sdkEvent('sdk.keyed', 3)), client.record(sdkEvent('sdk.keyed', 4, { idempotencyKey: 'order-1' }))]);
    expect(other.status).toBe('fulfilled');
    expect(conflicting).toMatchObject({ status: 'rejected', reason: { code: 'IDEMPOTENCY_CONFLICT' } });
    expect((await logged('sdk.keyed')).map((e) => e.metadata)).toEqual([{ n: 1 }, { n: 3 }]);
  });

  it('refuses a retry of an event redacted since with EventRedactedError', async () => {
    const client = appender();
    const first = await client.record(sdkEvent('sdk.redacted', 1, { idempotencyKey: 'erase-me' }));
    await gqlOk(server.url, 'mutation($i: SafeInt!) { redactEvent(leafIndex: $i, reason: "erasure request") { redacted } }', { i: first.leafIndex }, keys.admin);
    const retry = client.record(sdkEvent('sdk.redacted', 1, { idempotencyKey: 'erase-me' }));
    await expect(retry).rejects.toBeInstanceOf(EventRedactedError);
    await expect(retry).rejects.toMatchObject({ code: 'EVENT_REDACTED', leafIndex: first.leafIndex, status: 410 });
  });

  /**
   * A fetch that lets the first recordEvents request reach the server and then kills the server
   * (kill -9): after the server answered (the answer is dropped: stored, but the client never
   * hears), or while the request is in flight (the server is stopped with SIGSTOP first, so it
   * cannot answer before it dies). The server is restarted on the same
   * port and data; the client's retries meet the restart.
   */
  function crashOnFirstRecord(when: 'after-storing' | 'in-flight'): FetchLike & { restarted: () => Promise<ServerProcess> } {
    let restarting: Promise<ServerProcess> | undefined;
    // Set before the first await: the client may send two recordEvents at once, and a second
    // crash would start a second server on the port, leaving the first one running, orphaned.
    let crashing = false;
    const crash = async () => {
      await server.stop('SIGKILL');
      restarting = startServerProcess(le.env, ['serve'], port);
    };
    const fn: FetchLike = async (target, init) => {
      if (crashing || typeof init.body !== 'string' || !init.body.includes('recordEvents')) return fetch(target, init);
      crashing = true;
      if (when === 'after-storing') {
        const res = await fetch(target, init);
        expect(res.status).toBe(200);
        await res.text();
        await crash();
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      }
      // Stopped first, the server cannot answer before it dies: the request is lost in flight
      // (accepted by the kernel, or refused), never answered, whatever the machine's load.
      await stopProcess(server.child.pid!);
      const sent = fetch(target, init);
      await crash();
      return sent;
    };
    return Object.assign(fn, { restarted: () => restarting! });
  }

  it.each(['after-storing', 'in-flight'] as const)('retries across a server restart (kill -9 %s) and the log holds each event exactly once', async (when) => {
    const fetch = crashOnFirstRecord(when);
    const retried: string[] = [];
    const client = appender({ fetch, onRetry: (notice) => retried.push(notice.error.code) });
    const action = `sdk.restart.${when}`;
    const answers = [
      ...Array.from({ length: 6 }, (_, n) => client.record(sdkEvent(action, n))),
      client.recordMany(Array.from({ length: 4 }, (_, n) => sdkEvent(action, 100 + n))),
    ];
    const settled = await Promise.all(answers);
    server = await fetch.restarted();
    expect(retried).toContain('NETWORK');
    const receipts = settled.flat();
    expect(receipts).toHaveLength(10);
    for (const r of receipts) verifyReceipt(r, vkey);
    const events = await logged(action);
    const ns = events.map((e) => (e.metadata as { n: number }).n).sort((a, b) => a - b);
    expect(ns).toEqual([0, 1, 2, 3, 4, 5, 100, 101, 102, 103]);
    expect(events.map((e) => e.leafIndex).sort((a, b) => a - b)).toEqual(receipts.map((r) => r.leafIndex).sort((a, b) => a - b));
  });
});

import { errorCode, gql, gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';
import { describeEachAdapter } from '../support/adapters';

interface Point {
  at: string;
  treeSize: number;
  signedAt: string;
}

const HISTORY = 'query($from: DateTimeISO, $to: DateTimeISO, $points: Int) { logHistory(from: $from, to: $to, points: $points) { at treeSize signedAt } }';
const RECORD_MANY = 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }';

const events = (n: number): Record<string, unknown>[] => Array.from({ length: n }, (_, i) => ({ action: 'doc.read', actor: { id: `u-${i}`, type: 'USER' } }));

/** Waits (bounded) until the clock has moved past `t`, so that later checkpoints are signed after it. */
async function clockPast(t: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() <= t + 1) {
    if (Date.now() > deadline) throw new Error('the clock did not move');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describeEachAdapter('logHistory over HTTP (LEDGER_PUBLIC_PROOFS=false)', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  /** Instants just after each batch was answered, and the size then. */
  const marks: { at: Date; treeSize: number }[] = [];

  beforeAll(async () => {
    le = await ledgerEnv('history', { LEDGER_PUBLIC_PROOFS: 'false' }, adapter);
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
    let size = 0;
    for (const n of [3, 5, 2]) {
      await clockPast(Date.now());
      await gqlOk(server.url, RECORD_MANY, { i: events(n) }, keys.appender);
      size += n;
      const at = new Date();
      marks.push({ at, treeSize: size });
      await clockPast(at.getTime());
    }
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  it('needs what reading a checkpoint needs: any key here, none refused', async () => {
    expect(errorCode(await gql(server.url, HISTORY, {}))).toBe('UNAUTHENTICATED');
    expect(errorCode(await gql(server.url, '{ checkpoint { treeSize } }', {}))).toBe('UNAUTHENTICATED');
    for (const token of [keys.reader, keys.appender, keys.auditor, keys.admin]) await gqlOk(server.url, HISTORY, {}, token);
  });

  it('samples the whole history by default: from the empty tree to the current size, never shrinking', async () => {
    // Refusals and reads are themselves recorded, so the log may grow while this runs.
    const size = async (): Promise<number> => (await gqlOk<{ checkpoint: { treeSize: number } }>(server.url, '{ checkpoint { treeSize } }', {}, keys.reader)).checkpoint.treeSize;
    const sizeBefore = await size();
    const { logHistory } = await gqlOk<{ logHistory: Point[] }>(server.url, HISTORY, {}, keys.reader);
    const sizeAfter = await size();
    expect(logHistory.length).toBeGreaterThan(1);
    expect(logHistory.length).toBeLessThanOrEqual(60);
    expect(logHistory[0]!.treeSize).toBe(0);
    expect(logHistory.at(-1)!.treeSize).toBeGreaterThanOrEqual(sizeBefore);
    expect(logHistory.at(-1)!.treeSize).toBeLessThanOrEqual(sizeAfter);
    for (const [i, p] of logHistory.entries()) {
      expect(Date.parse(p.signedAt)).toBeLessThanOrEqual(Date.parse(p.at));
      if (i > 0) expect(p.treeSize).toBeGreaterThanOrEqual(logHistory[i - 1]!.treeSize);
    }
  });

  it('answers each instant with the last checkpoint signed by then', async () => {
    for (const mark of marks) {
      const { logHistory } = await gqlOk<{ logHistory: Point[] }>(server.url, HISTORY, { to: mark.at.toISOString(), points: 1 }, keys.reader);
      expect(logHistory).toEqual([expect.objectContaining({ at: mark.at.toISOString(), treeSize: mark.treeSize })]);
    }
    const { logHistory } = await gqlOk<{ logHistory: Point[] }>(
      server.url,
      HISTORY,
      { from: marks[0]!.at.toISOString(), to: marks[2]!.at.toISOString(), points: 500 },
      keys.reader,
    );
    expect(logHistory).toHaveLength(500);
    expect([logHistory[0]!.treeSize, logHistory.at(-1)!.treeSize]).toEqual([3, 10]);
    expect(new Set(logHistory.map((p) => p.treeSize))).toEqual(new Set([3, 8, 10]));
  });

  it('leaves out instants before the log existed', async () => {
    const before = { from: '2000-01-01T00:00:00.000Z', to: '2000-01-02T00:00:00.000Z' };
    expect(await gqlOk(server.url, HISTORY, before, keys.reader)).toEqual({ logHistory: [] });
    expect(await gqlOk(server.url, HISTORY, { to: before.to }, keys.reader)).toEqual({ logHistory: [] });
  });

  it.each([
    ['no points', { points: 0 }],
    ['too many points', { points: 501 }],
    ['negative points', { points: -1 }],
    ['from after to', { from: '2026-01-02T00:00:00.000Z', to: '2026-01-01T00:00:00.000Z' }],
    ['not an instant', { from: 'yesterday' }],
  ])('%s is BAD_USER_INPUT, and the server keeps answering', async (_name, variables) => {
    expect(errorCode(await gql(server.url, HISTORY, variables, keys.reader))).toBe('BAD_USER_INPUT');
    await gqlOk(server.url, '{ checkpoint { treeSize } }', {}, keys.reader);
  });
});

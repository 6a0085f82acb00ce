import { verifyCheckpoint } from '../../src/verify';
import { gqlOk, RECEIPT_FIELDS } from '../support/graphqlClient';
import { bootstrapKeys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import { appendLoad, auditWholeLog } from '../support/logAudit';
import type { ServerProcess } from '../support/serverProcess';
import { describeEachAdapter } from '../support/adapters';

// Only MongoDB serves several server processes; the SQLite adapter refuses a second one (server.test.ts).
describeEachAdapter(
  'two server processes on one database',
  (adapter) => {
  let le: LedgerEnv;
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    // A failed assertion must not leave server processes behind.
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    await le?.dispose();
  });

  it('never fork or duplicate an index, and the survivor carries on when one is killed', async () => {
    le = await ledgerEnv('twoproc', {}, adapter);
    const a = await startLedger(le.env);
    const b = await startLedger(le.env);
    servers.push(a, b);
    const keys = await bootstrapKeys(a.url, le.env);
    const vkey = (await gqlOk<{ logInfo: { verifierKey: string } }>(a.url, '{ logInfo { verifierKey } }')).logInfo.verifierKey;
    expect((await gqlOk<{ logInfo: { verifierKey: string } }>(b.url, '{ logInfo { verifierKey } }')).logInfo.verifierKey).toBe(vkey);

    const load = appendLoad([a.url, b.url], keys.appender, 12, RECEIPT_FIELDS);
    await load.untilReceipts(400);
    await load.stop();
    expect(load.failures()).toBe(0);
    const receipts = [...load.receipts];
    const indices = receipts.map((r) => r.leafIndex);
    expect(new Set(indices).size).toBe(indices.length);
    // Any two checkpoints of one size, from either process, are the same signed note.
    const bySize = new Map<number, string>();
    for (const r of receipts) {
      const note = r.inclusionProof.checkpoint.note;
      const size = verifyCheckpoint(note, vkey).treeSize;
      expect(bySize.get(size) ?? note).toBe(note);
      bySize.set(size, note);
    }
    await auditWholeLog(a.url, keys.auditor, vkey, receipts);
    await auditWholeLog(b.url, keys.auditor, vkey, receipts);

    // Kill A in the middle of more load on both; B must take over the sequencer.
    const load2 = appendLoad([a.url, b.url], keys.appender, 8, RECEIPT_FIELDS);
    await load2.untilReceipts(20);
    await a.stop('SIGKILL');
    // B carries on: more receipts arrive after A is gone (through B, the only one left answering).
    const atKill = load2.receipts.length;
    await load2.untilReceipts(atKill + 20);
    await load2.stop();
    const after = await gqlOk<{ recordEvent: { leafIndex: number } }>(
      b.url,
      `mutation { recordEvent(input: { action: "after.kill", actor: { id: "x", type: SYSTEM } }) { ${RECEIPT_FIELDS} } }`,
      {},
      keys.appender,
    );
    receipts.push(...load2.receipts, after.recordEvent as never);
    await auditWholeLog(b.url, keys.auditor, vkey, receipts);
    await b.stop();
  }, 120_000);
  },
  ['mongodb'],
);

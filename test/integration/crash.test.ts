import { gqlOk, RECEIPT_FIELDS } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import { appendLoad, auditWholeLog, type SeenReceipt } from '../support/logAudit';
import type { ServerProcess } from '../support/serverProcess';
import { describeEachAdapter } from '../support/adapters';

describeEachAdapter('kill -9 in the middle of appends', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await le?.dispose();
  });

  it('loses no acknowledged event and never signs inconsistent checkpoints', async () => {
    le = await ledgerEnv('crash', {}, adapter);
    server = await startLedger(le.env);
    const keys: Keys = await bootstrapKeys(server.url, le.env);
    const vkey = (await gqlOk<{ logInfo: { verifierKey: string } }>(server.url, '{ logInfo { verifierKey } }')).logInfo.verifierKey;
    const acknowledged: SeenReceipt[] = [];
    // Kill once this many receipts of the round's load have arrived: the kill then lands while the
    // other clients' appends are in flight, however fast or slow the machine is.
    for (const receiptsBeforeKill of [5, 40, 150]) {
      // The first append after a crash waits for the dead process's lease to expire.
      const warm = await gqlOk<{ recordEvent: SeenReceipt }>(
        server.url,
        `mutation { recordEvent(input: { action: "warm.up", actor: { id: "t", type: SYSTEM } }) { ${RECEIPT_FIELDS} } }`,
        {},
        keys.appender,
      );
      acknowledged.push(warm.recordEvent);
      const load = appendLoad([server.url], keys.appender, 16, RECEIPT_FIELDS);
      await load.untilReceipts(receiptsBeforeKill);
      expect(await server.stop('SIGKILL')).toBeNull();
      await load.stop();
      // The kill landed while appends were being acknowledged, and some failed mid-flight.
      expect(load.receipts.length).toBeGreaterThan(0);
      expect(load.failures()).toBeGreaterThan(0);
      acknowledged.push(...load.receipts);
      server = await startLedger(le.env);
      const { size } = await auditWholeLog(server.url, keys.auditor, vkey, acknowledged);
      expect(size).toBeGreaterThanOrEqual(acknowledged.length);
    }
  });
});

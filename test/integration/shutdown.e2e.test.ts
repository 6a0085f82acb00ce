import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { engineCacheDir } from '../../src/config';
import { type EmbeddedEngine, startEmbeddedEngine } from '../../src/storage/mongodb/engine/embeddedEngine';
import { describeEachAdapter } from '../support/adapters';
import { gql, gqlOk, RECEIPT_FIELDS } from '../support/graphqlClient';
import { bootstrapKeys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import { appendLoad, auditWholeLog, type SeenReceipt } from '../support/logAudit';
import type { ServerProcess } from '../support/serverProcess';

/**
 * SIGTERM to a server whose database engine was killed: it used to wait for the database for
 * ever (the sequencer retried its lease round trip until the engine came back). Only the
 * mongodb adapter has an engine that can vanish beneath a running server: SQLite is inside it.
 */
describeEachAdapter(
  'SIGTERM after the database engine died',
  (adapter) => {
    const ANONYMOUS_APPEND = 'mutation { recordEvent(input: { action: "x.y", actor: { id: "t", type: SYSTEM } }) { eventId } }';
    let engineDir: string | undefined;
    let engine: EmbeddedEngine | undefined;
    let le: LedgerEnv | undefined;
    let server: ServerProcess | undefined;
    afterEach(async () => {
      await server?.stop('SIGKILL');
      await engine?.stop();
      await le?.dispose();
      if (engineDir) await rm(engineDir, { recursive: true, force: true });
      server = engine = le = engineDir = undefined;
    });

    it.each([
      ['the default deadline', {}],
      ['a deadline shorter than the database wait', { LEDGER_SHUTDOWN_TIMEOUT_MS: '1000' }],
    ])('exits non-zero with %s, naming the work it could not finish, and loses no acknowledged event', async (_, overrides) => {
      engineDir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-shutdown-engine-'));
      engine = await startEmbeddedEngine({ dataDir: engineDir, cacheDir: engineCacheDir() });
      le = await ledgerEnv('shutdown', { MONGODB_URI: engine.uri, ...overrides }, adapter);
      server = await startLedger(le.env);
      const keys = await bootstrapKeys(server.url, le.env);
      const vkey = (await gqlOk<{ logInfo: { verifierKey: string } }>(server.url, '{ logInfo { verifierKey } }')).logInfo.verifierKey;
      const first = await gqlOk<{ recordEvent: SeenReceipt }>(
        server.url,
        `mutation { recordEvent(input: { action: "before.kill", actor: { id: "t", type: SYSTEM } }) { ${RECEIPT_FIELDS} } }`,
        {},
        keys.appender,
      );
      // Two refusals of one caller: the first is recorded at once, the second only counted,
      // its summary owed to the log at shutdown, when the database can no longer take it.
      for (let i = 0; i < 2; i++) expect((await gql(server.url, ANONYMOUS_APPEND)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      // Appends in flight when the engine dies: what used to hold shutdown for ever.
      const load = appendLoad([server.url], keys.appender, 16, RECEIPT_FIELDS);
      await load.untilReceipts(20);
      process.kill(engine.pid, 'SIGKILL');
      server.child.kill('SIGTERM');
      const code = await server.exited;
      await load.stop();
      expect(code).toBe(1);
      const lines = server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; pending?: string[]; undone?: string[] });
      // Either shutdown finished and says what it gave up, or the deadline passed and it says
      // what it was still waiting on: which one depends on how long the driver waited.
      const verdict = lines.find((l) => (l.undone?.length ?? 0) > 0 || (l.pending?.length ?? 0) > 0);
      expect(verdict).toBeDefined();
      const named = [...(verdict?.pending ?? []), ...(verdict?.undone ?? [])].join('; ');
      expect(named).toMatch(/refusal summar|events|requests/);
      if (verdict?.pending === undefined) expect(named).toMatch(/refusal summaries not recorded/);

      // The same data, a new engine: every acknowledged event is there and the log is consistent.
      engine = await startEmbeddedEngine({ dataDir: engineDir, cacheDir: engineCacheDir() });
      server = await startLedger({ ...le.env, MONGODB_URI: engine.uri });
      const acknowledged = [first.recordEvent, ...load.receipts];
      const { size } = await auditWholeLog(server.url, keys.auditor, vkey, acknowledged);
      expect(size).toBeGreaterThanOrEqual(acknowledged.length);
    }, 180_000);
  },
  ['mongodb'],
);

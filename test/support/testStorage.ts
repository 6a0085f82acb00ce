/** A fresh, empty ledger database on either adapter, opened in the test process. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openMongoStorage } from '../../src/storage/mongodb/mongoStorage';
import type { LedgerStorage } from '../../src/storage/port';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';
import type { AdapterName } from './adapters';
import { openTestDatabase } from './testDatabase';

export async function openTestStorage(adapter: AdapterName, prefix: string): Promise<{ storage: LedgerStorage; dispose(): Promise<void> }> {
  if (adapter === 'sqlite') {
    const dir = await mkdtemp(path.join(os.tmpdir(), `audit-ledger-${prefix}-`));
    const storage = await openSqliteStorage({ file: path.join(dir, 'ledger.db'), create: true });
    return {
      storage,
      async dispose() {
        await storage.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const t = await openTestDatabase(prefix);
  const storage = await openMongoStorage({ uri: t.uri, dbName: t.name, create: true });
  return {
    storage,
    async dispose() {
      await storage.close();
      await t.dispose();
    },
  };
}

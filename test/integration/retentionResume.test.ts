/**
 * A retention run that crashes between batches resumes from its saved cursor and finishes,
 * on both adapters; every shredded event's leaf hash is still the one in the tree.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Ledger } from '../../src/ledger/ledger';
import { lifecycleOf } from '../../src/ledger/lifecycle';
import { localKek, newKey } from '../../src/lifecycle/envelope';
import { describeEachAdapter } from '../support/adapters';
import { openTestStorage } from '../support/testStorage';

describeEachAdapter('retention after a crash', (adapter) => {
  it('resumes and finishes', async () => {
    const { storage, dispose } = await openTestStorage(adapter, 'retention');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-retention-'));
    const kek = localKek(newKey());
    const open = (): Promise<Ledger> => Ledger.open({ storage, logger: pino({ level: 'silent' }), signingKeyFile: path.join(dir, 'signing.key'), origin: undefined, kek });
    let ledger = await open();
    try {
      const recorder = { keyId: 'k', userId: 'u', groupIds: [] };
      const receipts = await ledger.record(
        Array.from({ length: 12 }, (_, i) => ({ content: { action: 'session.login', actor: { id: `p-${i}`, type: 'USER' as const }, outcome: 'SUCCESS' as const, groups: [] } })),
        recorder,
      );
      await lifecycleOf(ledger).setRetentionPolicy({ groupIds: [], actionPrefix: 'session.', keepDays: 0 }, { id: 'admin', type: 'USER' });
      let batches = 0;
      lifecycleOf(ledger).beforeRetentionShred = () => {
        if (++batches === 2) throw new Error('injected crash');
      };
      await expect(lifecycleOf(ledger).applyRetention(new Date(Date.now() + 1000), 5)).rejects.toThrow('injected crash');
      const shreddedBefore = (await Promise.all(receipts.map((r) => ledger.eventByLeafIndex(r.leafIndex)))).filter((e) => e?.redaction).length;
      expect(shreddedBefore).toBe(5);
      // "Restart": a new ledger on the same database resumes from the saved cursor.
      await ledger.close();
      ledger = await open();
      const run = await lifecycleOf(ledger).applyRetention(new Date(Date.now() + 1000), 5);
      expect(run.shredded).toBe(7);
      for (const r of receipts) {
        const e = await ledger.eventByLeafIndex(r.leafIndex);
        expect(e?.redaction?.leafIndex).toBeGreaterThan(r.leafIndex);
        const proof = await ledger.inclusionProof(r.leafIndex);
        expect(Buffer.from(proof.leafHash)).toEqual(Buffer.from(r.leafHash));
      }
    } finally {
      await ledger.close();
      await dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

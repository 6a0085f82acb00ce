/**
 * Every receipt carries the recorded event's plaintext canonical leaf, whose RFC 6962 leaf
 * hash is the receipt's leaf hash: for a fresh event, and for an idempotent retry answered
 * from the idempotency record (read back through the ledger, which opens sealed events), on
 * both adapters with encryption at rest off and on. A retry of an event redacted since is
 * refused with EVENT_REDACTED: its leaf no longer exists.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { EventRedactedError, Ledger, type RecordedEvent } from '../../src/ledger/ledger';
import { lifecycleOf } from '../../src/ledger/lifecycle';
import { localKek, newKey } from '../../src/lifecycle/envelope';
import type { LedgerStorage } from '../../src/storage/port';
import { bytesToHex, leafHash, verifyCheckpoint, verifyInclusion } from '../../src/verify';
import { describeEachAdapter } from '../support/adapters';
import { openTestStorage } from '../support/testStorage';

const utf8 = new TextEncoder();
const recorder = { keyId: 'k-svc', userId: 'u-svc', groupIds: [] as string[] };
const request = (n: number, key?: string) => ({
  content: { action: 'invoice.paid', actor: { id: `customer-${n}`, type: 'USER' as const }, outcome: 'SUCCESS' as const, metadata: { n } },
  ...(key !== undefined && { idempotencyKey: key }),
});

describeEachAdapter('receipts carry the leaf text', (adapter) => {
  for (const encryption of [false, true]) {
    describe(`with encryption at rest ${encryption ? 'on' : 'off'}`, () => {
      let storage: LedgerStorage;
      let dispose: () => Promise<void>;
      let dir: string;
      let ledger: Ledger;

      beforeAll(async () => {
        ({ storage, dispose } = await openTestStorage(adapter, `receipt-leaf-${encryption ? 'sealed' : 'clear'}`));
        dir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-receipt-leaf-'));
        ledger = await Ledger.open({
          storage,
          logger: pino({ level: 'silent' }),
          signingKeyFile: path.join(dir, 'signing.key'),
          origin: 'receipts.example/log',
          ...(encryption && { kek: localKek(newKey()) }),
        });
      });
      afterAll(async () => {
        await ledger?.close();
        await dispose?.();
        await rm(dir, { recursive: true, force: true });
      });

      /** The receipt's leaf is the event's canonical leaf, hashing to the leaf hash proven in the signed tree. */
      async function expectSelfContained(r: RecordedEvent): Promise<void> {
        expect(bytesToHex(leafHash(utf8.encode(r.leaf)))).toBe(bytesToHex(r.leafHash));
        expect(JSON.parse(r.leaf)).toMatchObject({ id: r.eventId, action: 'invoice.paid' });
        const stored = await ledger.eventByLeafIndex(r.leafIndex);
        expect(stored?.leaf).toBe(r.leaf);
        const cp = verifyCheckpoint(r.checkpoint.note, ledger.verifierKey);
        verifyInclusion({ leafHash: r.leafHash, leafIndex: r.leafIndex, treeSize: cp.treeSize, proof: r.proof, rootHash: cp.rootHash });
      }

      it('on a fresh event', async () => {
        const [fresh] = await ledger.record([request(1)], recorder);
        expect(fresh!.replayed).toBe(false);
        await expectSelfContained(fresh!);
        // What the database holds is sealed with encryption on, and the receipt is plaintext all the same.
        const raw = await storage.events.byLeafIndex(fresh!.leafIndex);
        expect(raw!.leaf.startsWith('sealed1:')).toBe(encryption);
      });

      it('on a retry answered from the idempotency record', async () => {
        const [first] = await ledger.record([request(2, 'pay-2')], recorder);
        const [retry] = await ledger.record([request(2, 'pay-2')], recorder);
        expect(retry).toMatchObject({ replayed: true, leafIndex: first!.leafIndex, eventId: first!.eventId, leaf: first!.leaf });
        await expectSelfContained(retry!);
        // A retried batch, and an earlier event beside it: each receipt with its own leaf.
        const batch = await ledger.record([request(20, 'pay-20'), request(21, 'pay-21'), request(22, 'pay-22')], recorder);
        const retried = await ledger.record([request(21, 'pay-21'), request(2, 'pay-2'), request(20, 'pay-20'), request(22, 'pay-22')], recorder);
        expect(retried.map((r) => r.leaf)).toEqual([batch[1]!.leaf, first!.leaf, batch[0]!.leaf, batch[2]!.leaf]);
        for (const r of retried) await expectSelfContained(r);
      });

      it('on a retry sequenced beside new events, and on a key repeated within one call', async () => {
        const [first] = await ledger.record([request(3, 'pay-3')], recorder);
        const mixed = await ledger.record([request(3, 'pay-3'), request(4, 'pay-4'), request(4, 'pay-4')], recorder);
        expect(mixed.map((r) => r.replayed)).toEqual([true, false, false]);
        expect(mixed[0]).toMatchObject({ leafIndex: first!.leafIndex, leaf: first!.leaf });
        expect(mixed[2]).toMatchObject({ leafIndex: mixed[1]!.leafIndex, leaf: mixed[1]!.leaf });
        for (const r of mixed) await expectSelfContained(r);
      });

      if (encryption) {
        it('refuses a retry of an event redacted since, naming its leaf', async () => {
          const [first] = await ledger.record([request(5, 'pay-5')], recorder);
          await lifecycleOf(ledger).redactEvent(first!.leafIndex, 'erasure request', { id: 'admin', type: 'USER' });
          const retry = ledger.record([request(5, 'pay-5')], recorder);
          await expect(retry).rejects.toBeInstanceOf(EventRedactedError);
          await expect(retry).rejects.toMatchObject({ code: 'EVENT_REDACTED', leafIndex: first!.leafIndex });
        });
      }
    });
  }
});

/**
 * verify-db's view of sealed events (see sealedEvents.ts). For each raw stored event whose
 * leaf is sealed, it decides the text to hash, or that the event is redacted:
 * - its skeleton MAC must match the stored skeleton (an edit to a redacted event's leaf hash,
 *   position, id, action, groups, time, outcome or actor is caught even though no leaf text
 *   covers it any more): the MAC in its leaf text if it has one, else the one its redaction
 *   record took from the opened leaf;
 * - with its data key: the leaf opens (GCM: an edited blob fails), and the skeleton's fields
 *   equal the leaf's (blind indexes recomputed), so the ordinary event check then applies;
 * - without it: a redaction record with a valid MAC must exist, and the stored leaf hash goes
 *   into the tree (the tiles and signed checkpoints then vouch for it).
 */
import { createHmac } from 'node:crypto';
import { fieldsOfLeaf } from '../event/storedEvent';
import type { LifecycleStore, RawStoredEvent } from '../storage/port';
import { isSealedLeaf, KeyError, openLeaf } from './envelope';
import type { Keyring } from './keyring';
import { leafKey, type RedactionDoc, type StoredDataKeyDoc } from './records';
import { dataKeyOf, SEALED_SALT, skeletonMac, splitSealed } from './sealedEvents';

export type SealedVerdict =
  | { readonly kind: 'opened'; readonly fields: Record<string, unknown> }
  | { readonly kind: 'redacted'; readonly by: number }
  | { readonly kind: 'problem'; readonly problem: string };

export function isSealedRaw(doc: RawStoredEvent): boolean {
  return typeof doc.fields.leaf === 'string' && isSealedLeaf(doc.fields.leaf);
}

function redactionMac(searchKey: Uint8Array, leafIndex: number, by: number, reason: string): string {
  return createHmac('sha256', searchKey).update(`redaction\0${JSON.stringify([leafIndex, by, reason])}`).digest('hex');
}

export async function judgeSealed(batch: readonly RawStoredEvent[], store: LifecycleStore, keyring: Keyring | undefined): Promise<Map<RawStoredEvent, SealedVerdict>> {
  const out = new Map<RawStoredEvent, SealedVerdict>();
  const sealed = batch.filter(isSealedRaw);
  if (sealed.length === 0) return out;
  if (!keyring) {
    for (const doc of sealed) out.set(doc, { kind: 'problem', problem: 'its content is sealed and no key-encryption key was given (LEDGER_KEK_FILE / LEDGER_KEK)' });
    return out;
  }
  const keys = await store.get('dataKey', sealed.map((d) => String(d.fields.id)));
  const redactions = await store.get('redaction', sealed.filter((d) => typeof d.position === 'number').map((d) => leafKey(d.position as number)));
  for (const doc of sealed) {
    const f = doc.fields;
    const parts = splitSealed(f.leaf as string);
    const mac = skeletonMac(keyring.searchKey, { ...f, leafIndex: doc.position } as never);
    const edited = 'its stored skeleton (position, id, action, actor, target, outcome, groups, time or leaf hash) was edited: its MAC does not match';
    // A MAC in the leaf text (events stored before redaction records held it) is checked now;
    // else a live event's leaf vouches for its skeleton below, a redacted one's record here.
    if (!parts || (parts.mac !== undefined && parts.mac !== mac) || f.salt !== SEALED_SALT) {
      out.set(doc, { kind: 'problem', problem: edited });
      continue;
    }
    const leafIndex = doc.position as number;
    const raw = keys.get(String(f.id));
    if (raw === undefined) {
      const red = redactions.get(leafKey(leafIndex));
      const r = red === undefined ? undefined : (JSON.parse(red) as RedactionDoc);
      if (!r || r.mac !== redactionMac(keyring.searchKey, leafIndex, r.by, r.reason)) {
        out.set(doc, { kind: 'problem', problem: r ? 'its redaction record was edited' : 'its data key is missing and no redaction is recorded' });
      } else if (parts.mac === undefined && r.skeleton !== mac) {
        out.set(doc, { kind: 'problem', problem: r.skeleton === undefined ? 'its redaction record holds no skeleton MAC' : edited });
      } else out.set(doc, { kind: 'redacted', by: r.by });
      continue;
    }
    try {
      const leaf = openLeaf(dataKeyOf(keyring, String(f.id), JSON.parse(raw) as StoredDataKeyDoc), leafIndex, String(f.id), parts.blob);
      const fields = fieldsOfLeaf(leaf);
      const actor = f.actor as { id?: unknown; type?: unknown };
      const target = f.target as { id?: unknown; type?: unknown } | undefined;
      const agrees =
        actor.id === keyring.blind('actor.id', fields.actor.id) &&
        actor.type === fields.actor.type &&
        (fields.target
          ? target?.type === keyring.blind('target.type', fields.target.type) && target.id === keyring.blind('target.id', fields.target.id)
          : target === undefined || target === null);
      if (!agrees) {
        out.set(doc, { kind: 'problem', problem: 'its blind indexes do not match its sealed leaf' });
        continue;
      }
      // The ordinary event check then compares id, action, groups, time, outcome and the leaf hash.
      out.set(doc, { kind: 'opened', fields: { ...fields, id: f.id, action: f.action, outcome: f.outcome, groups: f.groups, recordedAt: f.recordedAt, leaf, leafHash: f.leafHash } });
    } catch (err) {
      if (!(err instanceof KeyError) && !(err instanceof SyntaxError)) throw err;
      out.set(doc, { kind: 'problem', problem: `its sealed content does not open: ${err.message}` });
    }
  }
  return out;
}

/**
 * KEK rotation: re-wraps every wrapped data key, the search key and the derivation key under a
 * new key-encryption key, without touching events (sealed leaves, blind indexes and redaction
 * MACs depend only on the data keys and the search key, which do not change). Data-key records
 * that hold a seed (keyrings with a derivation key) are not under the KEK and stay as they are.
 *
 * Resumable: the keyring first records `rotatingTo` (from then on nobody opens the ledger
 * until the rotation is done), every data-key record names the KEK it is wrapped under, so a
 * rerun after a crash skips the keys already re-wrapped, and the keyring is switched to the
 * new KEK last, in one write. Run it with every server stopped: a server holds the old KEK in
 * memory and would keep wrapping new data keys under it (the CLI takes the SQLite data
 * folder's server lock; on MongoDB the operator stops the servers, and a key a server wrapped
 * under the old KEK after all is re-wrapped by running the rotation again).
 */
import type { LifecycleRecord, LifecycleStore } from '../storage/port';
import { type Kek, KeyError } from './envelope';
import { Keyring, type KeyringDoc } from './keyring';
import { type DataKeyDoc, isDerivedDataKey, type StoredDataKeyDoc } from './records';

/** Why a rotation cannot run; `exitCode` 2 for a usage mistake (the same key twice), 1 otherwise. */
export class RotationError extends Error {
  override readonly name = 'RotationError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export interface RotationProgress {
  /** Data keys re-wrapped by this run. */
  readonly rewrapped: number;
  /** Data keys found already under the new KEK (re-wrapped by an interrupted run). */
  readonly already: number;
  /** Data keys derived from a seed: nothing to re-wrap (the derivation key is, with the keyring). */
  readonly derived: number;
}

export interface RotationResult extends RotationProgress {
  readonly from: string;
  readonly to: string;
  /** Whether an interrupted rotation was resumed (or a finished one checked again). */
  readonly resumed: boolean;
}

export interface RotationOptions {
  readonly batch?: number;
  readonly onProgress?: (p: RotationProgress) => void;
  /** Test hook: called before each batch of re-wrapped keys is stored (a crash injected there must resume). */
  readonly beforeBatch?: (done: RotationProgress) => void;
}

export async function rotateKek(store: LifecycleStore, oldKek: Kek, newKek: Kek, options: RotationOptions = {}): Promise<RotationResult> {
  if (oldKek.id === newKek.id) {
    throw new RotationError(`the new key is the key-encryption key the ledger already uses (KEK ${oldKek.id}): give a new key`, 2);
  }
  const doc = await Keyring.readDoc(store);
  if (!doc) throw new RotationError('this ledger holds no encrypted data (it has no keyring): there is nothing to rotate');
  const finished = doc.kekId === newKek.id && doc.rotatingTo === undefined;
  if (!finished && doc.kekId !== oldKek.id) {
    throw new RotationError(
      `wrong key-encryption key: this ledger's keys are wrapped under KEK ${doc.kekId}, the current key given (LEDGER_KEK_FILE / LEDGER_KEK) is ${oldKek.id}`,
    );
  }
  if (doc.rotatingTo !== undefined && doc.rotatingTo !== newKek.id) {
    throw new RotationError(
      `an unfinished rotation to KEK ${doc.rotatingTo} is under way; finish it with that key as the new key (the key given is ${newKek.id})`,
    );
  }
  const searchKey = unwrapOrFail(finished ? newKek : oldKek, doc.wrappedSearchKey, 'search');
  const derivationKey = doc.wrappedDerivationKey === undefined ? undefined : unwrapOrFail(finished ? newKek : oldKek, doc.wrappedDerivationKey, 'derive');
  const resumed = doc.rotatingTo !== undefined || finished;
  if (!finished && doc.rotatingTo === undefined) await Keyring.writeDoc(store, { ...doc, rotatingTo: newKek.id });

  const batch = options.batch ?? 500;
  let rewrapped = 0;
  let already = 0;
  let derived = 0;
  let after: string | undefined;
  for (;;) {
    const page = await store.list('dataKey', { limit: batch, ...(after !== undefined && { after }) });
    const next: LifecycleRecord[] = [];
    for (const record of page) {
      const stored = JSON.parse(record.value) as StoredDataKeyDoc;
      if (isDerivedDataKey(stored)) {
        derived++;
        continue;
      }
      const key: DataKeyDoc = stored;
      if (key.kekId === newKek.id) {
        already++;
        continue;
      }
      if (key.kekId !== oldKek.id) {
        throw new RotationError(`the data key of event ${key.leafIndex} is wrapped under KEK ${key.kekId}, neither the current key ${oldKek.id} nor the new ${newKek.id}`);
      }
      const dek = unwrapOrFail(oldKek, key.wrapped, `dek:${record.id}`);
      const moved: DataKeyDoc = { ...key, kekId: newKek.id, wrapped: newKek.wrap(dek, `dek:${record.id}`) };
      next.push({ id: record.id, value: JSON.stringify(moved) });
    }
    if (next.length > 0) {
      options.beforeBatch?.({ rewrapped, already, derived });
      await store.put('dataKey', next);
      rewrapped += next.length;
    }
    options.onProgress?.({ rewrapped, already, derived });
    if (page.length < batch) break;
    after = page.at(-1)!.id;
  }
  if (!finished) {
    const switched: KeyringDoc = {
      kekId: newKek.id,
      wrappedSearchKey: newKek.wrap(searchKey, 'search'),
      ...(derivationKey !== undefined && { wrappedDerivationKey: newKek.wrap(derivationKey, 'derive') }),
      sealedFrom: doc.sealedFrom,
      createdAt: doc.createdAt,
      ...(doc.blindVersion !== undefined && { blindVersion: doc.blindVersion }),
      rotatedAt: new Date().toISOString(),
    };
    await Keyring.writeDoc(store, switched);
  }
  return { from: oldKek.id, to: newKek.id, rewrapped, already, derived, resumed };
}

function unwrapOrFail(kek: Kek, wrapped: string, purpose: string): Uint8Array {
  try {
    return kek.unwrap(wrapped, purpose);
  } catch (err) {
    if (err instanceof KeyError) throw new RotationError(`${err.message}: the stored key does not open under the KEK whose id it names (an edited keyring or data-key record?)`);
    throw err;
  }
}

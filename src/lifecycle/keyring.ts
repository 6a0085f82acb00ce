/**
 * The keyring of a sealed ledger: the KEK in memory, the search key (stored wrapped under the
 * KEK in the `keyring` lifecycle record, which doubles as the key-check value), the derivation
 * key of new events' data keys (wrapped beside it; absent on keyrings from before), and the leaf
 * index from which events are sealed (events below it were recorded in plaintext before
 * encryption was turned on, and keep working).
 */
import { LedgerError } from '../errors';
import type { LifecycleStore } from '../storage/port';
import { RecentBlinds } from './recentBlinds';
import { BLIND_VERSIONS, blindIndex, type BlindVersion, CURRENT_BLIND_VERSION, DataKeyDeriver, type Kek, KeyError, newKey, openSecret, sealSecret, secretKey } from './envelope';

export const KEYRING_ID = 'main';

export interface KeyringDoc {
  readonly kekId: string;
  readonly wrappedSearchKey: string;
  readonly sealedFrom: number;
  readonly createdAt: string;
  /**
   * The key data keys are derived from (envelope.ts: deriveDataKeys), wrapped under the KEK with
   * purpose `derive`. Absent on keyrings from before: their events' data keys are random and
   * each wrapped under the KEK (DataKeyDoc), and new events keep being stored so.
   */
  readonly wrappedDerivationKey?: string;
  /** The format of this ledger's blind indexes (envelope.ts); absent on keyrings from before format 2: 1. */
  readonly blindVersion?: BlindVersion;
  /** Set while `rotate-kek` re-wraps the data keys to this KEK: nobody opens the ledger until it is done. */
  readonly rotatingTo?: string;
  readonly rotatedAt?: string;
}

/** A start-up refusal about keys: the server stops with this message before writing anything. */
export class KeyConfigurationError extends LedgerError {
  override name = 'KeyConfigurationError';
  constructor(message: string) {
    super('KEY_CONFIGURATION', message);
  }
}

export class Keyring {
  private constructor(
    readonly kek: Kek,
    readonly searchKey: Uint8Array,
    /** Events at leaf indices ≥ this were stored sealed. */
    readonly sealedFrom: number,
    readonly blindVersion: BlindVersion,
    /** Derives new events' data keys; undefined on keyrings from before (data keys wrapped one by one). */
    readonly derivationKey: Uint8Array | undefined,
  ) {}

  /** Whether the database holds a keyring (and so sealed data that needs the KEK). */
  static async exists(store: LifecycleStore): Promise<boolean> {
    return (await store.get('keyring', [KEYRING_ID])).has(KEYRING_ID);
  }

  /**
   * Opens the database's keyring with `kek`, or creates it (when `create` gives the first
   * sealed leaf index). Throws KeyConfigurationError for a missing or wrong KEK.
   */
  static async open(store: LifecycleStore, kek: Kek | undefined, create?: () => Promise<number>): Promise<Keyring | undefined> {
    let raw = (await store.get('keyring', [KEYRING_ID])).get(KEYRING_ID);
    if (raw === undefined) {
      if (!kek || !create) return undefined;
      const doc: KeyringDoc = {
        kekId: kek.id,
        wrappedSearchKey: kek.wrap(newKey(), 'search'),
        wrappedDerivationKey: kek.wrap(newKey(), 'derive'),
        sealedFrom: await create(),
        createdAt: new Date().toISOString(),
        blindVersion: CURRENT_BLIND_VERSION,
      };
      await store.insertNew('keyring', [{ id: KEYRING_ID, value: JSON.stringify(doc) }]);
      // Another process may have created it first: read back whichever is stored.
      raw = (await store.get('keyring', [KEYRING_ID])).get(KEYRING_ID)!;
    }
    const doc = JSON.parse(raw) as KeyringDoc;
    const blindVersion = doc.blindVersion ?? 1;
    if (!BLIND_VERSIONS.includes(blindVersion)) {
      throw new KeyConfigurationError(`this ledger's keyring uses blind index format ${String(blindVersion)}, which this server does not know: run a newer audit-ledger`);
    }
    if (doc.rotatingTo !== undefined) {
      throw new KeyConfigurationError(
        `a key-encryption key rotation from KEK ${doc.kekId} to ${doc.rotatingTo} is unfinished: run \`audit-ledger rotate-kek\` again with the same keys (it resumes where it stopped); the ledger does not open until it is done`,
      );
    }
    if (!kek) {
      throw new KeyConfigurationError(
        `this ledger stores events encrypted (key-encryption key ${doc.kekId}), but no key-encryption key was given: set LEDGER_KEK_FILE (or LEDGER_KEK) to the key`,
      );
    }
    if (kek.id !== doc.kekId) {
      throw new KeyConfigurationError(
        `wrong key-encryption key: this ledger's keys are wrapped under KEK ${doc.kekId}, the key given is ${kek.id} (check LEDGER_KEK_FILE / LEDGER_KEK; after a rotation use the new key)`,
      );
    }
    let searchKey: Uint8Array;
    let derivationKey: Uint8Array | undefined;
    try {
      searchKey = kek.unwrap(doc.wrappedSearchKey, 'search');
      derivationKey = doc.wrappedDerivationKey === undefined ? undefined : kek.unwrap(doc.wrappedDerivationKey, 'derive');
    } catch (err) {
      throw new KeyConfigurationError(`the key-encryption key ${kek.id} does not open this ledger's keyring: ${(err as KeyError).message}`);
    }
    return new Keyring(kek, searchKey, doc.sealedFrom, blindVersion, derivationKey);
  }

  /** The stored keyring record as it is (rotation reads and rewrites it). */
  static async readDoc(store: LifecycleStore): Promise<KeyringDoc | undefined> {
    const raw = (await store.get('keyring', [KEYRING_ID])).get(KEYRING_ID);
    return raw === undefined ? undefined : (JSON.parse(raw) as KeyringDoc);
  }

  static async writeDoc(store: LifecycleStore, doc: KeyringDoc): Promise<void> {
    await store.put('keyring', [{ id: KEYRING_ID, value: JSON.stringify(doc) }]);
  }

  /** Blind indexes of actor ids and target types seen lately (target ids mostly do not recur, and are not kept). */
  private readonly recentActorIds = new RecentBlinds();
  private readonly recentTargetTypes = new RecentBlinds();

  private secretKeyBytes: Uint8Array | undefined;
  private deriver: DataKeyDeriver | undefined;

  /** The data keys of these seeds (envelope.ts: deriveDataKeys); undefined on a keyring without a derivation key. */
  deriveDataKeys(seeds: Uint8Array): Buffer | undefined {
    if (!this.derivationKey) return undefined;
    return (this.deriver ??= new DataKeyDeriver(this.derivationKey)).derive(seeds);
  }

  /** Seals a secret the server reads back later (see envelope.ts: secret key). */
  sealSecret(purpose: string, secret: string): string {
    return sealSecret(this.secretKey(), purpose, secret);
  }

  /** Opens what sealSecret sealed for the same purpose; throws KeyError otherwise. */
  openSecret(purpose: string, sealed: string): string {
    return openSecret(this.secretKey(), purpose, sealed);
  }

  private secretKey(): Uint8Array {
    return (this.secretKeyBytes ??= secretKey(this.searchKey));
  }

  blind(field: 'actor.id' | 'target.type' | 'target.id', value: string): string {
    const compute = (v: string): string => blindIndex(this.searchKey, field, v, this.blindVersion);
    if (field === 'actor.id') return this.recentActorIds.get(value, compute);
    if (field === 'target.type') return this.recentTargetTypes.get(value, compute);
    return compute(value);
  }
}

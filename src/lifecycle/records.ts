/** The JSON shapes of the lifecycle records (stored opaquely by the adapters). */

/** kind `dataKey`, id = event id: a data key wrapped under the KEK (keyrings without a derivation key). */
export interface DataKeyDoc {
  readonly kekId: string;
  /** The event's data key wrapped under the KEK, purpose `dek:<event id>`. */
  readonly wrapped: string;
  readonly leafIndex: number;
  /** The actor's blind index: an erasure request finds the actor's keys by it. */
  readonly actor: string;
}

/**
 * kind `dataKey`, id = event id: the seed the event's data key is derived from (keyrings with
 * a derivation key; envelope.ts: deriveDataKeys). Not under the KEK, so a rotation leaves it.
 */
export interface DerivedDataKeyDoc {
  /** 32 random bytes, base64. */
  readonly seed: string;
  readonly leafIndex: number;
  /** The actor's blind index: an erasure request finds the actor's keys by it. */
  readonly actor: string;
}

/** A stored `dataKey` record of either form. */
export type StoredDataKeyDoc = DataKeyDoc | DerivedDataKeyDoc;

export function isDerivedDataKey(doc: StoredDataKeyDoc): doc is DerivedDataKeyDoc {
  return typeof (doc as { seed?: unknown }).seed === 'string';
}

/** kind `redaction`, id = leafKey(leaf index of the redacted event). */
export interface RedactionDoc {
  /** Leaf index of the ledger event that recorded the redaction. */
  readonly by: number;
  readonly reason: string;
  /** HMAC under the search key over (leaf index, by, reason): an edited record is detected. */
  readonly mac: string;
  /**
   * The event's skeleton MAC (sealedEvents.ts: skeletonMac), taken from its opened leaf when it
   * was redacted: verify-db checks the stored skeleton against it. Absent on records from
   * before, whose events carry the MAC in their leaf text.
   */
  readonly skeleton?: string;
}

/** kind `hold`, id = hold id. */
export interface HoldDoc {
  readonly id: string;
  readonly reason: string;
  readonly groupIds?: readonly string[];
  /** Blind indexes of the held actors (the clear ids are in the sealed ledger event). */
  readonly actors?: readonly string[];
  /** ISO times: recordedAt in [from, to). */
  readonly from?: string;
  readonly to?: string;
  readonly placedAt: string;
  /** Leaf index of `ledger.hold.placed`. */
  readonly placedBy: number;
  readonly releasedAt?: string;
  readonly releasedBy?: number;
}

/** kind `retention`, id = policy id. */
export interface RetentionDoc {
  readonly id: string;
  /** Events carrying any of these groups (empty: any group). */
  readonly groupIds: readonly string[];
  /** Action prefix (empty: any action). */
  readonly actionPrefix: string;
  readonly keepDays: number;
  readonly updatedAt: string;
}

/** Lifecycle ids sort as text: leaf indices are zero-padded to 16 digits. */
export function leafKey(leafIndex: number): string {
  return String(leafIndex).padStart(16, '0');
}

export function parseRedaction(raw: string | undefined): { leafIndex: number | undefined; reason: string } | undefined {
  if (raw === undefined) return undefined;
  const doc = JSON.parse(raw) as RedactionDoc;
  return { leafIndex: doc.by, reason: doc.reason };
}

/**
 * One event as `GET /export?format=ndjson` writes it: one JSON object per line, in log order.
 * The fields are the GraphQL `Event` type's, with absent optional fields left out (never
 * null), times as ISO-8601 UTC strings and hashes as lowercase hex. Shared by the server that
 * writes the lines and the clients that read them (`audit-ledger/client`, `audit`), so it
 * imports nothing: it runs in browsers.
 */

export type ExportedActorType = 'USER' | 'SERVICE' | 'SYSTEM';
export type ExportedOutcome = 'SUCCESS' | 'FAILURE' | 'DENIED';

export interface ExportedEvent {
  /** First on every line, so a reader can follow progress without parsing the rest. */
  readonly leafIndex: number;
  readonly id: string;
  /** RFC 6962 leaf hash of `leaf`, lowercase hex. */
  readonly leafHash: string;
  /** Whether the content was destroyed (crypto-shredded): only the skeleton and leaf hash remain. */
  readonly redacted: boolean;
  /** The ledger event that recorded the redaction (leafIndex null: no record found), when redacted. */
  readonly redaction?: { readonly leafIndex: number | null; readonly reason: string };
  readonly action: string;
  /** `id` is `[redacted]` on a redacted event. */
  readonly actor: { readonly id: string; readonly type: ExportedActorType; readonly name?: string };
  readonly target?: { readonly type: string; readonly id: string; readonly name?: string };
  readonly outcome: ExportedOutcome;
  readonly reason?: string;
  readonly occurredAt?: string;
  readonly recordedAt: string;
  readonly source?: { readonly ip?: string; readonly userAgent?: string; readonly requestId?: string };
  readonly metadata?: { readonly [key: string]: unknown };
  /** The actor's group ids when the event was recorded (GraphQL `Event.groups`). */
  readonly groups: readonly string[];
  /** 128 random bits, lowercase hex; absent once redacted. */
  readonly salt?: string;
  readonly submitter?: { readonly keyId: string; readonly userId: string };
  /** The RFC 8785 canonical JSON text the tree commits to; absent once redacted. */
  readonly leaf?: string;
  /**
   * Only with `proofs=true`: the inclusion proof of the leaf in the tree of `treeSize` leaves
   * (the export's tree size), with the leaf hash as the tree stores it (which a verifier
   * compares with `leafHash`).
   */
  readonly inclusionProof?: { readonly treeSize: number; readonly leafHash: string; readonly hashes: readonly string[] };
}

/** The `format` values of `GET /export`. */
export const EXPORT_FORMATS = ['ndjson', 'csv', 'bundle'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Response header naming the signed tree size an export covers (only leaves below it are exported). */
export const EXPORT_TREE_SIZE_HEADER = 'x-export-tree-size';

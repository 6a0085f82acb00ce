/**
 * One line of an NDJSON export (`GET /export?format=ndjson`): an event's scalar fields as the
 * GraphQL `Event` type serves them, absent optional fields omitted. Browser-safe (types only):
 * the export endpoint writes it and `audit-ledger/client` reads it.
 */

export interface ExportedEvent {
  readonly leafIndex: number;
  readonly id: string;
  /** RFC 6962 leaf hash of `leaf`, lowercase hex. */
  readonly leafHash: string;
  /** The canonical leaf text; absent when the event is redacted. */
  readonly leaf?: string;
  readonly redacted: boolean;
  readonly redaction?: { readonly leafIndex?: number; readonly reason: string };
  readonly action: string;
  readonly actor: { readonly id: string; readonly type: 'USER' | 'SERVICE' | 'SYSTEM'; readonly name?: string };
  readonly target?: { readonly type: string; readonly id: string; readonly name?: string };
  readonly outcome: 'SUCCESS' | 'FAILURE' | 'DENIED';
  readonly reason?: string;
  readonly occurredAt?: string;
  readonly recordedAt: string;
  readonly source?: { readonly ip?: string; readonly userAgent?: string; readonly requestId?: string };
  readonly metadata?: Record<string, unknown>;
  readonly groupIds: readonly string[];
  readonly salt?: string;
  readonly submitter?: { readonly keyId: string; readonly userId: string };
}

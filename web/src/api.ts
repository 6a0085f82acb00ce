/** The dashboard's one way to the server: GraphQL over the client SDK's transport, with the signed-in key. */
import { LedgerClientError } from '../../src/client/errors';
import { LedgerTransport } from '../../src/client/transport';

export class Api {
  private readonly transport: LedgerTransport;

  constructor(token: string | undefined) {
    // Two tries only: a person is waiting, and the page shows the error to retry by hand.
    this.transport = new LedgerTransport({ url: window.location.origin, ...(token !== undefined && { token }), retry: { attempts: 2, baseDelayMs: 300, maxDelayMs: 2000 }, timeoutMs: 20_000 });
  }

  query<T>(document: string, variables: Record<string, unknown> = {}): Promise<T> {
    return this.transport.graphql<T>(document, variables);
  }
}

/** The code of an API failure (UNAUTHENTICATED, FORBIDDEN, …), if it is one. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof LedgerClientError ? err.code : undefined;
}

export function errorText(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code ? `${message} (${code})` : message;
}

export type Role = 'ADMIN' | 'APPENDER' | 'AUDITOR' | 'READER';
export type Outcome = 'SUCCESS' | 'FAILURE' | 'DENIED';

export interface Viewer {
  readonly keyId: string;
  readonly name: string;
  readonly roles: Role[];
  readonly userId: string;
  readonly userName: string;
  readonly groups: { readonly id: string; readonly name: string }[];
}

export const VIEWER_QUERY = '{ viewer { keyId name roles userId userName groups { id name } } }';

export interface EventRow {
  readonly id: string;
  readonly leafIndex: number;
  readonly leafHash: string;
  readonly action: string;
  readonly actor: { readonly id: string; readonly type: string; readonly name: string | null };
  readonly target: { readonly type: string; readonly id: string; readonly name: string | null } | null;
  readonly outcome: Outcome;
  readonly recordedAt: string;
  readonly groups: string[];
  readonly redacted: boolean;
}

export const EVENT_ROW_FIELDS = 'id leafIndex leafHash action actor { id type name } target { type id name } outcome recordedAt groups redacted';

export interface EventDetail extends EventRow {
  readonly leaf: string | null;
  readonly reason: string | null;
  readonly occurredAt: string | null;
  readonly source: { readonly ip: string | null; readonly userAgent: string | null; readonly requestId: string | null } | null;
  readonly metadata: Record<string, unknown> | null;
  readonly salt: string | null;
  readonly submitter: { readonly keyId: string; readonly userId: string } | null;
  readonly redaction: { readonly leafIndex: number | null; readonly reason: string } | null;
}

export const EVENT_DETAIL_FIELDS = `${EVENT_ROW_FIELDS} leaf reason occurredAt source { ip userAgent requestId } metadata salt submitter { keyId userId } redaction { leafIndex reason }`;

export interface CheckpointView {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly note: string;
}

export interface InclusionProofView {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: string;
  readonly hashes: string[];
  readonly checkpoint: CheckpointView;
}

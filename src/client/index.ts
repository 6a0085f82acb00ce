/**
 * audit-ledger/client: the typed client a service records audit events through, and a
 * reader reads them through. Isomorphic (Node >= 20 and browsers): the global `fetch`, no
 * Node built-ins; hashing and signatures through audit-ledger/verify.
 *
 *   const ledger = new LedgerClient({ url, token });
 *   const receipt = await ledger.record({ action: 'invoice.refund', actor: { id: 'u-42', type: 'USER' } });
 *   verifyReceipt(receipt, verifierKey); // anyone, later, without the server
 *   verifyBundle(await (await fetch(bundleUrl)).text(), verifierKey); // an exported evidence bundle
 */
export { LedgerClient, MAX_EVENTS_PER_CALL, type EventOrder, type EventsOptions, type ExportFilter, type ExportFormat, type LedgerClientOptions } from './ledgerClient';
export { verifyReceipt, RECEIPT_FIELDS, type Receipt, type ReceiptVerificationOptions } from './receipt';
export { EVENT_FIELDS, type ActorType, type EventFilter, type EventInput, type JsonValue, type LedgerEvent, type Outcome, type RecordedLeaf } from './event';
export {
  EventRedactedError,
  IdempotencyConflictError,
  LedgerApiError,
  LedgerClientError,
  LedgerNetworkError,
  LedgerResponseError,
  ReceiptVerificationError,
  type ReceiptProblem,
} from './errors';
export { DEFAULT_RETRY, type RetryPolicy } from './retryPolicy';
export { DEFAULT_BATCH, type BatchOptions } from './recordBatcher';
export type { Scheduler } from './scheduler';
export type { FetchLike, RetryNotice } from './transport';
export type { ExportedEvent } from '../export/exportedEvent';
export { describeBundleProblem, EvidenceBundleError, verifyBundle, verifyBundleStream } from './evidenceBundle';
export { MAX_LISTED_PROBLEMS, type BundleCheckOptions, type BundleProblem, type BundleSummary } from '../export/evidenceBundle';

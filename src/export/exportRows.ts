/**
 * Stored events as the lines of an export: NDJSON objects shaped as `ExportedEvent`, CSV
 * records (RFC 4180), and evidence-bundle entries. Built as strings directly (the metadata's
 * stored canonical JSON is spliced in, never parsed and re-serialised): an export writes
 * hundreds of thousands of rows a second. Server side only.
 */
import type { ProvenEvent } from '../ledger/ledger';
import { type BundleEntry, bundleEntryLine } from './evidenceBundle';

export type HexEncoder = (bytes: Uint8Array) => string;

const plainHex: HexEncoder = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const json = JSON.stringify;

/**
 * Hex for the rows of one page: the proofs of a page share most of their nodes, as the same
 * Uint8Array objects (see inclusionProofsWithLeaves), so each is encoded once.
 */
export function pageHexEncoder(): HexEncoder {
  const known = new Map<Uint8Array, string>();
  return (bytes) => {
    let text = known.get(bytes);
    if (text === undefined) {
      text = plainHex(bytes);
      known.set(bytes, text);
    }
    return text;
  };
}

/** One NDJSON line (with its newline) for an event, with its proof in the tree of `treeSize` leaves when it has one. */
export function exportedEventLine({ event: e, proof }: ProvenEvent, treeSize: number, hex: HexEncoder = plainHex): string {
  let line = `{"leafIndex":${e.leafIndex},"id":${json(e.id)},"leafHash":"${plainHex(e.leafHash)}"`;
  if (e.redaction) {
    // As the GraphQL Event shows a redacted event: its skeleton only.
    line +=
      `,"redacted":true,"redaction":${json({ leafIndex: e.redaction.leafIndex ?? null, reason: e.redaction.reason })}` +
      `,"action":${json(e.action)},"actor":${json({ id: '[redacted]', type: e.actor.type })},"outcome":"${e.outcome}"` +
      `,"recordedAt":"${e.recordedAt.toISOString()}","groups":${json(e.groups)}`;
  } else {
    line += `,"redacted":false,"action":${json(e.action)},"actor":${json({ id: e.actor.id, type: e.actor.type, name: e.actor.name })}`;
    if (e.target) line += `,"target":${json({ type: e.target.type, id: e.target.id, name: e.target.name })}`;
    line += `,"outcome":"${e.outcome}"`;
    if (e.reason !== undefined) line += `,"reason":${json(e.reason)}`;
    if (e.occurredAt) line += `,"occurredAt":"${e.occurredAt.toISOString()}"`;
    line += `,"recordedAt":"${e.recordedAt.toISOString()}"`;
    if (e.source) line += `,"source":${json({ ip: e.source.ip, userAgent: e.source.userAgent, requestId: e.source.requestId })}`;
    if (e.metadata !== undefined) line += `,"metadata":${e.metadata}`;
    line += `,"groups":${json(e.groups)},"salt":${json(e.salt)}`;
    if (e.submitter) line += `,"submitter":${json({ keyId: e.submitter.keyId, userId: e.submitter.userId })}`;
    line += `,"leaf":${json(e.leaf)}`;
  }
  if (proof) line += `,"inclusionProof":{"treeSize":${treeSize},"leafHash":"${hex(proof.leafHash)}","hashes":[${proof.hashes.map((h) => `"${hex(h)}"`).join(',')}]}`;
  return `${line}}\n`;
}

/** The evidence-bundle line of a proven event (see evidenceBundle.ts). */
export function bundleLine({ event, proof }: ProvenEvent, hex: HexEncoder = plainHex): string {
  if (!proof) throw new Error('an evidence-bundle entry needs its inclusion proof');
  const base = { leafIndex: event.leafIndex, leafHash: plainHex(event.leafHash), proof: proof.hashes.map(hex) };
  const entry: BundleEntry = event.redaction ? { ...base, redacted: true } : { ...base, leaf: event.leaf };
  return bundleEntryLine(entry);
}

/**
 * The CSV columns, in order (README "Exports"). Absent values are empty; `groups` are
 * space-separated ids; `metadata` is its canonical JSON; `redacted` is true or false; a
 * redacted event has its skeleton only (actorId `[redacted]`, no salt, no leaf).
 */
export const CSV_COLUMNS = [
  'leafIndex',
  'id',
  'recordedAt',
  'occurredAt',
  'action',
  'outcome',
  'actorType',
  'actorId',
  'actorName',
  'targetType',
  'targetId',
  'targetName',
  'reason',
  'groups',
  'sourceIp',
  'sourceUserAgent',
  'sourceRequestId',
  'metadata',
  'submitterKeyId',
  'submitterUserId',
  'redacted',
  'leafHash',
  'salt',
  'leaf',
] as const;

const CRLF = '\r\n';
const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180: a field holding a quote, comma, CR or LF is quoted, its quotes doubled. */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvHeaderLine(): string {
  return CSV_COLUMNS.join(',') + CRLF;
}

export function csvLine({ event: e }: ProvenEvent): string {
  const redacted = e.redaction !== undefined;
  const row: Record<(typeof CSV_COLUMNS)[number], string> = {
    leafIndex: String(e.leafIndex),
    id: e.id,
    recordedAt: e.recordedAt.toISOString(),
    occurredAt: redacted ? '' : (e.occurredAt?.toISOString() ?? ''),
    action: e.action,
    outcome: e.outcome,
    actorType: e.actor.type,
    actorId: redacted ? '[redacted]' : e.actor.id,
    actorName: redacted ? '' : (e.actor.name ?? ''),
    targetType: redacted ? '' : (e.target?.type ?? ''),
    targetId: redacted ? '' : (e.target?.id ?? ''),
    targetName: redacted ? '' : (e.target?.name ?? ''),
    reason: redacted ? '' : (e.reason ?? ''),
    groups: e.groups.join(' '),
    sourceIp: redacted ? '' : (e.source?.ip ?? ''),
    sourceUserAgent: redacted ? '' : (e.source?.userAgent ?? ''),
    sourceRequestId: redacted ? '' : (e.source?.requestId ?? ''),
    metadata: redacted ? '' : (e.metadata ?? ''),
    submitterKeyId: redacted ? '' : (e.submitter?.keyId ?? ''),
    submitterUserId: redacted ? '' : (e.submitter?.userId ?? ''),
    redacted: String(redacted),
    leafHash: plainHex(e.leafHash),
    salt: redacted ? '' : e.salt,
    leaf: redacted ? '' : e.leaf,
  };
  return CSV_COLUMNS.map((c) => csvField(row[c])).join(',') + CRLF;
}

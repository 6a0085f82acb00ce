/**
 * Stored events as the lines of an export: NDJSON objects shaped as `ExportedEvent`, CSV
 * records (RFC 4180), and evidence-bundle entries. Built as strings directly from flat
 * events (the metadata's canonical JSON and the groups' JSON text are spliced in, never
 * parsed and re-serialised): an export writes tens of thousands of rows a second per core.
 * Server side only.
 */
import { instantEncoder, type InstantEncoder } from '../event/instantText';
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

const plainIso: InstantEncoder = (time) => new Date(time).toISOString();

export { instantEncoder };

/** The memos one page of rows shares (see pageHexEncoder, and instantEncoder in event/instantText.ts). */
export interface RowEncoders {
  readonly hex: HexEncoder;
  readonly iso: InstantEncoder;
}

const PLAIN: RowEncoders = { hex: plainHex, iso: plainIso };

/** Fresh memos for one page; `iso` is kept across pages (a batch may straddle two). */
export function pageEncoders(iso: InstantEncoder = instantEncoder()): RowEncoders {
  return { hex: pageHexEncoder(), iso };
}

// The objects below are written key by key rather than through JSON.stringify of a fresh
// object: the same text (keys in this order, absent fields left out), without building an
// object per field per row.

function optionalField(name: string, value: string | undefined, first: boolean): string {
  return value === undefined ? '' : `${first ? '' : ','}"${name}":${json(value)}`;
}

function actorJson(id: string, type: string, name: string | null): string {
  return `{"id":${json(id)},"type":${json(type)}${name === null ? '' : `,"name":${json(name)}`}}`;
}

function sourceJson(s: { readonly ip?: string; readonly userAgent?: string; readonly requestId?: string }): string {
  const ip = optionalField('ip', s.ip, true);
  return `{${ip}${optionalField('userAgent', s.userAgent, ip === '')}${optionalField('requestId', s.requestId, ip === '' && s.userAgent === undefined)}}`;
}

/** One NDJSON line (with its newline) for an event, with its proof in the tree of `treeSize` leaves when it has one. */
export function exportedEventLine({ event: e, proof }: ProvenEvent, treeSize: number, encoders: RowEncoders = PLAIN): string {
  const { hex, iso } = encoders;
  let line = `{"leafIndex":${e.leafIndex},"id":${json(e.id)},"leafHash":"${plainHex(e.leafHash)}"`;
  if (e.redaction) {
    // As the GraphQL Event shows a redacted event: its skeleton only.
    line +=
      `,"redacted":true,"redaction":${json({ leafIndex: e.redaction.leafIndex ?? null, reason: e.redaction.reason })}` +
      `,"action":${json(e.action)},"actor":${actorJson('[redacted]', e.actorType, null)},"outcome":"${e.outcome}"` +
      `,"recordedAt":"${iso(e.recordedAt)}","groups":${e.groups}`;
  } else {
    line += `,"redacted":false,"action":${json(e.action)},"actor":${actorJson(e.actorId, e.actorType, e.actorName)}`;
    if (e.targetType !== null && e.targetId !== null) {
      line += `,"target":{"type":${json(e.targetType)},"id":${json(e.targetId)}${e.targetName === null ? '' : `,"name":${json(e.targetName)}`}}`;
    }
    line += `,"outcome":"${e.outcome}"`;
    if (e.reason !== null) line += `,"reason":${json(e.reason)}`;
    if (e.occurredAt !== null) line += `,"occurredAt":"${iso(e.occurredAt)}"`;
    line += `,"recordedAt":"${iso(e.recordedAt)}"`;
    if (e.source !== null) line += `,"source":${sourceJson(e.source)}`;
    if (e.metadata !== null) line += `,"metadata":${e.metadata}`;
    line += `,"groups":${e.groups},"salt":${json(e.salt)}`;
    if (e.submitterKeyId !== null && e.submitterUserId !== null) line += `,"submitter":{"keyId":${json(e.submitterKeyId)},"userId":${json(e.submitterUserId)}}`;
    line += `,"leaf":${json(e.leaf)}`;
  }
  if (proof) line += `,"inclusionProof":{"treeSize":${treeSize},"leafHash":"${hex(proof.leafHash)}","hashes":[${proof.hashes.map((h) => `"${hex(h)}"`).join(',')}]}`;
  return `${line}}\n`;
}

/** The evidence-bundle line of a proven event (see evidenceBundle.ts). */
export function bundleLine({ event, proof }: ProvenEvent, { hex }: RowEncoders = PLAIN): string {
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

/** One CSV record (with its CRLF), the columns in CSV_COLUMNS order. */
export function csvLine({ event: e }: ProvenEvent, { iso }: RowEncoders = PLAIN): string {
  // An array literal joined: one flat string per record, without a record object per row.
  // (A template literal of the 24 fields measured three times slower: a rope of ~50 pieces
  // per record that the collector must then trace until the page is written.)
  const recordedAt = iso(e.recordedAt);
  const groups = csvField((JSON.parse(e.groups) as string[]).join(' '));
  const leafHash = plainHex(e.leafHash);
  // A target, and a submitter, has both its values or none (FlatEvent).
  const target = e.targetType !== null && e.targetId !== null;
  const submitter = e.submitterKeyId !== null && e.submitterUserId !== null;
  const fields =
    e.redaction !== null
      ? // A redacted event has its skeleton only.
        [e.leafIndex, csvField(e.id), recordedAt, '', csvField(e.action), csvField(e.outcome), csvField(e.actorType), '[redacted]', '', '', '', '', '', groups, '', '', '', '', '', '', 'true', leafHash, '', '']
      : [
          e.leafIndex,
          csvField(e.id),
          recordedAt,
          e.occurredAt !== null ? iso(e.occurredAt) : '',
          csvField(e.action),
          csvField(e.outcome),
          csvField(e.actorType),
          csvField(e.actorId),
          optionalCsv(e.actorName),
          target ? csvField(e.targetType) : '',
          target ? csvField(e.targetId) : '',
          target ? optionalCsv(e.targetName) : '',
          optionalCsv(e.reason),
          groups,
          optionalCsv(e.source?.ip),
          optionalCsv(e.source?.userAgent),
          optionalCsv(e.source?.requestId),
          optionalCsv(e.metadata),
          submitter ? csvField(e.submitterKeyId) : '',
          submitter ? csvField(e.submitterUserId) : '',
          'false',
          leafHash,
          csvField(e.salt),
          csvField(e.leaf),
        ];
  return fields.join(',') + CRLF;
}

function optionalCsv(value: string | null | undefined): string {
  return csvField(value ?? '');
}

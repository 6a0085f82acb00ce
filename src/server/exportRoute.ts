/**
 * `GET /export`: the events matching a filter, streamed as NDJSON, CSV or an evidence bundle,
 * for the callers that may read them (the rules of the GraphQL `events` query: AUDITOR every
 * event, READER its groups' events; other keys 403, no or a bad key 401; a bad parameter 400).
 *
 * The whole export is one read, recorded in the ledger before the first event is sent. It
 * covers one signed tree size (the latest, or `treeSize`), read page by page through the
 * storage port's keyset pages, and a page is read only once the client has taken the last
 * one (`res.write` back-pressure): memory stays one page whatever the export's size. A failure
 * after the first byte cuts the response off (no terminating chunk), so a client can never
 * mistake a partial export for a whole one.
 */
import { GraphQLError } from 'graphql';
import type { Request, RequestHandler, Response } from 'express';
import { bundleEndLine, bundleHeaderLine } from '../export/evidenceBundle';
import { EXPORT_TREE_SIZE_HEADER, type ExportFormat } from '../export/exportedEvent';
import { type ExportRequest, parseExportRequest } from '../export/exportRequest';
import { bundleLine, csvHeaderLine, csvLine, exportedEventLine, instantEncoder, pageEncoders, type RowEncoders } from '../export/exportRows';
import { Utf8Chunk } from '../export/utf8Chunk';
import { actorOf, authorizeKey, guard, type LedgerContext } from '../graphql/context';
import { filterMetadata, scopedQuery } from '../graphql/eventScope';
import type { ProvenEvent } from '../ledger/ledger';
import { exportReadEvent } from '../ledger/selfEvent';
import type { Logger } from '../logger';
import type { EventQuery, SignedCheckpoint } from '../storage/port';
import { HttpError, type HttpErrorCode } from './jsonErrors';

/**
 * Events per storage read: large enough that per-page costs vanish, small enough to stream
 * smoothly. Measured on 10^5 events: 250 to 1000 cost the same CPU per row, 4000 a fifth
 * more (a page's rows and strings outlive young-generation collections and get copied).
 */
export const EXPORT_PAGE_SIZE = 500;

export interface ExportRouteOptions {
  /** The request's context, as GraphQL resolvers get it (admission has run). */
  readonly context: (req: Request) => LedgerContext;
  readonly logger: Logger;
  readonly pageSize?: number;
}

interface Plan {
  readonly request: ExportRequest;
  readonly query: EventQuery;
  readonly checkpoint: SignedCheckpoint;
}

const CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  bundle: 'application/x-ndjson; charset=utf-8',
};
const EXTENSIONS: Record<ExportFormat, string> = { ndjson: 'ndjson', csv: 'csv', bundle: 'bundle.jsonl' };

const STATUS: Record<string, { status: number; code: HttpErrorCode }> = {
  UNAUTHENTICATED: { status: 401, code: 'UNAUTHENTICATED' },
  FORBIDDEN: { status: 403, code: 'FORBIDDEN' },
  BAD_USER_INPUT: { status: 400, code: 'BAD_USER_INPUT' },
  UNAVAILABLE: { status: 503, code: 'UNAVAILABLE' },
};

export function exportHandler(options: ExportRouteOptions): RequestHandler {
  const pageSize = options.pageSize ?? EXPORT_PAGE_SIZE;
  return async (req, res, next) => {
    const ctx = options.context(req);
    let plan: Plan;
    try {
      plan = await guard(ctx, 'export', () => prepare(ctx, req));
    } catch (err) {
      next(err instanceof GraphQLError ? httpErrorOf(err) : err);
      return;
    }
    await stream(ctx, res, plan, pageSize, options.logger, next);
  };
}

/** Authorize, validate, fix the snapshot, record the read: everything before the first byte. */
async function prepare(ctx: LedgerContext, req: Request): Promise<Plan> {
  const principal = authorizeKey(ctx, 'readEvents');
  const request = parseExportRequest(new URL(req.originalUrl, 'http://export.invalid').searchParams);
  const query = scopedQuery(principal, request.filter);
  const checkpoint = request.treeSize !== undefined ? await ctx.ledger.checkpoint(request.treeSize) : await ctx.ledger.latestCheckpoint();
  if (ctx.recordReads) {
    const details = {
      format: request.format,
      filter: filterMetadata(request.filter),
      treeSize: checkpoint.treeSize,
      ...(request.limit !== undefined && { limit: request.limit }),
      ...(request.proofs && { proofs: true }),
    };
    await ctx.ledger.recordSelf([exportReadEvent(actorOf(principal), details, ctx.source)]);
  }
  return { request, query, checkpoint };
}

function httpErrorOf(err: GraphQLError): HttpError {
  const code = typeof err.extensions.code === 'string' ? err.extensions.code : 'INTERNAL_SERVER_ERROR';
  const mapped = STATUS[code];
  if (!mapped) return new HttpError(500, 'INTERNAL_SERVER_ERROR', 'internal server error');
  const headers: Record<string, string> = mapped.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : mapped.status === 503 ? { 'Retry-After': '5' } : {};
  return new HttpError(mapped.status, mapped.code, err.message, headers);
}

async function stream(ctx: LedgerContext, res: Response, plan: Plan, pageSize: number, logger: Logger, next: (err: unknown) => void): Promise<void> {
  const { request, query, checkpoint } = plan;
  const { format } = request;
  const treeSize = checkpoint.treeSize;
  const row: (e: ProvenEvent, encoders: RowEncoders) => string =
    format === 'csv' ? csvLine : format === 'bundle' ? bundleLine : (e, encoders) => exportedEventLine(e, treeSize, encoders);
  const iso = instantEncoder();
  let closed = false;
  res.once('close', () => (closed = true));
  const write = async (chunk: string): Promise<void> => {
    if (chunk !== '' && !res.write(chunk)) await drained(res);
  };
  res.status(200).set({
    'Content-Type': CONTENT_TYPES[format],
    'Cache-Control': 'no-store',
    'Content-Disposition': `attachment; filename="audit-ledger-export-${treeSize}.${EXTENSIONS[format]}"`,
    [EXPORT_TREE_SIZE_HEADER]: String(treeSize),
  });
  let rows = 0;
  try {
    if (format === 'csv') await write(csvHeaderLine());
    if (format === 'bundle') await write(bundleHeaderLine(checkpoint));
    const pages = ctx.ledger.exportPages(query, {
      treeSize,
      pageSize,
      ...(request.limit !== undefined && { limit: request.limit }),
      proofs: format === 'bundle' || request.proofs,
    });
    // The next page is read while the client takes this one, never further ahead: at most one
    // page waits in memory beside what the socket holds.
    let next = pages.next();
    let pageBytes = 0;
    for (;;) {
      const page = await next;
      if (page.done || closed) break;
      const encoders = pageEncoders(iso);
      const chunk = new Utf8Chunk(pageBytes);
      for (const event of page.value) chunk.add(row(event, encoders));
      rows += page.value.length;
      pageBytes = chunk.byteLength;
      const flushed = res.write(chunk.bytes());
      next = pages.next();
      // Awaited on the next turn; until then a failed read must not count as unhandled (the process would stop).
      next.catch(() => undefined);
      if (!flushed) await drained(res);
    }
    if (closed) {
      await pages.return(undefined);
      return;
    }
    if (format === 'bundle') await write(bundleEndLine(rows));
    res.end();
  } catch (err) {
    if (!res.headersSent) {
      next(err);
      return;
    }
    logger.error({ err, format, rows }, 'an export failed after it began; its response is cut off');
    res.destroy();
  }
}

/** Resolves when the client has taken what was written, or is gone. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

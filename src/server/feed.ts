/**
 * GET /feed: the signed log, in leaf order, for collectors (SIEM forwarders, scripts). Same
 * permissions as GraphQL `events` (AUDITOR, or READER within its groups), same filter fields
 * as query parameters. NDJSON by default (`application/x-ndjson`: the events after `after` up
 * to the signed end, then the response ends; `follow=true` keeps it open), or server-sent
 * events with `Accept: text/event-stream` (always live; `id:` is the leaf index, so a
 * reconnecting EventSource resumes with `Last-Event-ID`). New events are pushed when they are
 * checkpointed (LogWatcher), never by polling the events. One `ledger.events.read` event is
 * recorded per connection, before the first event is sent.
 */
import { once } from 'node:events';
import type { Request, RequestHandler, Response } from 'express';
import type { Ledger } from '../ledger/ledger';
import { feedReadEvent } from '../ledger/selfEvent';
import type { Logger } from '../logger';
import { AccessDenied, actorOf, authorizeKey, type LedgerContext, recordDenial } from '../graphql/context';
import { eventPayload, toCloudEvent } from '../stream/eventPayload';
import { FILTER_FIELDS, FilterInputError, FilterScopeError, filterJson, parseFilter, scopedFilter } from '../stream/eventFilter';
import { readLog } from '../stream/logReader';
import type { LogWatcher } from '../stream/logWatcher';
import { HttpError } from './jsonErrors';

const PAGE = 500;
const HEARTBEAT_MS = 15_000;
const PARAMETERS = new Set<string>([...FILTER_FIELDS, 'after', 'follow', 'format']);

export interface FeedOptions {
  readonly context: (req: Request) => LedgerContext;
  readonly watcher: () => LogWatcher;
  readonly logger: Logger;
}

/** The route, and a way to end every open feed at shutdown (they would otherwise hold it up). */
export class Feed {
  private readonly open = new Set<AbortController>();

  constructor(private readonly options: FeedOptions) {}

  readonly handler: RequestHandler = async (req, res) => {
    const ctx = this.options.context(req);
    let principal;
    try {
      principal = authorizeKey(ctx, 'readEvents');
    } catch (err) {
      if (!(err instanceof AccessDenied)) throw err;
      await recordRefusal(ctx, err);
      throw new HttpError(err.code === 'UNAUTHENTICATED' ? 401 : 403, err.code, err.reason);
    }
    const request = parseRequest(req);
    let query;
    try {
      query = scopedFilter(principal, request.query);
    } catch (err) {
      if (!(err instanceof FilterScopeError)) throw err;
      const denied = new AccessDenied('FORBIDDEN', err.reason);
      await recordRefusal(ctx, denied);
      throw new HttpError(403, 'FORBIDDEN', err.reason);
    }
    const ledger = ctx.ledger;
    if (ctx.recordReads && (principal.roles.includes('READER') || principal.roles.includes('AUDITOR'))) {
      try {
        await ledger.recordSelf([feedReadEvent(actorOf(principal), filterJson(request.query), request.from, request.mode, ctx.source)]);
      } catch {
        throw new HttpError(503, 'UNAVAILABLE', 'the ledger cannot record this read now; try again later', { 'Retry-After': '5' });
      }
    }
    await this.stream(req, res, ledger, query, request);
  };

  /** Ends every open feed (the server is stopping). */
  stop(): void {
    for (const c of this.open) c.abort();
    this.open.clear();
  }

  private async stream(req: Request, res: Response, ledger: Ledger, query: ReturnType<typeof parseFilter>, request: FeedRequest): Promise<void> {
    const abort = new AbortController();
    this.open.add(abort);
    const onClose = (): void => abort.abort();
    res.on('close', onClose);
    const sse = request.mode === 'sse';
    res.status(200).set({
      'Content-Type': sse ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    let heartbeat: NodeJS.Timeout | undefined;
    if (sse) {
      res.write('retry: 2000\n\n');
      heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
    }
    const format = (e: Parameters<typeof eventPayload>[0]): string => {
      const payload = eventPayload(e);
      return JSON.stringify(request.format === 'cloudevents' ? toCloudEvent(payload, ledger.origin) : payload);
    };
    try {
      const pages = readLog(
        { signedSize: async () => (await ledger.latestCheckpoint()).treeSize, page: (q) => ledger.storage.events.page(q) },
        { query, from: request.from, pageSize: PAGE, follow: sse || request.follow, watcher: this.options.watcher(), signal: abort.signal },
      );
      for await (const page of pages) {
        const chunk = page.map((e) => (sse ? `id: ${e.leafIndex}\nevent: ledger.event\ndata: ${format(e)}\n\n` : `${format(e)}\n`)).join('');
        if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(abort.signal, 'abort')]);
        if (abort.signal.aborted) break;
      }
    } catch (err) {
      // Headers are sent: all that can be done is to end the stream (the collector resumes from its last id).
      this.options.logger.error({ err }, 'feed stopped by an error');
    } finally {
      clearInterval(heartbeat);
      res.off('close', onClose);
      this.open.delete(abort);
      res.end();
    }
  }
}

async function recordRefusal(ctx: LedgerContext, err: AccessDenied): Promise<void> {
  try {
    await recordDenial(ctx, 'feed', err);
  } catch {
    throw new HttpError(503, 'UNAVAILABLE', 'the ledger cannot record this refusal now; try again later', { 'Retry-After': '5' });
  }
}

interface FeedRequest {
  readonly query: ReturnType<typeof parseFilter>;
  /** The first leaf index to send. */
  readonly from: number;
  readonly mode: 'ndjson' | 'sse';
  readonly follow: boolean;
  readonly format: 'ledger' | 'cloudevents';
}

function parseRequest(req: Request): FeedRequest {
  const params = new URL(req.originalUrl, 'http://feed').searchParams;
  const raw: Record<string, string> = {};
  for (const [name, value] of params) {
    if (!PARAMETERS.has(name)) throw new HttpError(400, 'BAD_USER_INPUT', `unknown parameter ${name}: use ${[...PARAMETERS].join(', ')}`);
    if (name in raw) throw new HttpError(400, 'BAD_USER_INPUT', `parameter ${name} is given twice`);
    raw[name] = value;
  }
  let query;
  try {
    query = parseFilter(raw);
  } catch (err) {
    if (err instanceof FilterInputError) throw new HttpError(400, 'BAD_USER_INPUT', err.message);
    throw err;
  }
  const accept = req.headers.accept ?? '';
  const mode = /\btext\/event-stream\b/.test(accept) ? 'sse' : 'ndjson';
  // A reconnecting EventSource repeats the URL it was opened with and adds Last-Event-ID: that wins.
  const lastEventId = req.headers['last-event-id'];
  const after = typeof lastEventId === 'string' && lastEventId !== '' ? { name: 'Last-Event-ID', value: lastEventId } : raw.after !== undefined ? { name: 'after', value: raw.after } : undefined;
  let from = 0;
  if (after) {
    if (!/^\d{1,16}$/.test(after.value) || !Number.isSafeInteger(Number(after.value))) {
      throw new HttpError(400, 'BAD_USER_INPUT', `${after.name} must be a leaf index (a non-negative integer): the feed sends the leaves after it`);
    }
    from = Number(after.value) + 1;
  }
  const follow = raw.follow === undefined ? false : raw.follow === 'true' ? true : raw.follow === 'false' ? false : undefined;
  if (follow === undefined) throw new HttpError(400, 'BAD_USER_INPUT', 'follow must be true or false');
  const format = raw.format ?? 'ledger';
  if (format !== 'ledger' && format !== 'cloudevents') throw new HttpError(400, 'BAD_USER_INPUT', 'format must be ledger or cloudevents');
  return { query, from, mode, follow, format };
}

/**
 * LedgerClient.export() over real HTTP against a stub of `GET /export` that follows the
 * export contract (bearer key, the filter's query parameters, NDJSON / CSV / bundle, JSON
 * errors with a code): lines split across chunks are put back together, the filter becomes the
 * contract's parameters, refusals surface as typed errors, a refused-for-now request is
 * retried, a stream that breaks off or ends mid-line is an error, and stopping early closes
 * the connection.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LedgerApiError, LedgerClient, LedgerNetworkError, LedgerResponseError } from '../../src/client';

const READER = 'reader-token';
const APPENDER = 'appender-token';

const row = (leafIndex: number) => ({
  leafIndex,
  id: `e-${leafIndex}`,
  leafHash: leafIndex.toString(16).padStart(64, '0'),
  leaf: `{"id":"e-${leafIndex}","note":"café ☕"}`,
  redacted: false,
  action: 'invoice.paid',
  actor: { id: 'u-1', type: 'USER' },
  outcome: 'SUCCESS',
  recordedAt: '2026-01-01T00:00:00.000Z',
  groupIds: ['g-1'],
});

describe('LedgerClient.export against a stub of the export endpoint', () => {
  let server: http.Server;
  let url: string;
  const queries: URLSearchParams[] = [];
  let flakyAnswered = false;
  let closedEarly: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://stub');
      const fail = (status: number, code: string, message: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
      if (u.pathname !== '/export') return fail(404, 'NOT_FOUND', 'no such path');
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token !== READER && token !== APPENDER) return fail(401, 'UNAUTHENTICATED', 'a valid API key is required');
      if (token === APPENDER) return fail(403, 'FORBIDDEN', 'export needs READER or AUDITOR');
      queries.push(u.searchParams);
      const outcome = u.searchParams.get('outcome');
      if (outcome !== null && !['SUCCESS', 'FAILURE', 'DENIED'].includes(outcome)) return fail(400, 'BAD_USER_INPUT', 'outcome must be SUCCESS, FAILURE or DENIED');
      const scenario = u.searchParams.get('actorId');
      if (scenario === 'flaky' && !flakyAnswered) {
        flakyAnswered = true;
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }).end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'starting' } }));
        return;
      }
      const format = u.searchParams.get('format') ?? 'ndjson';
      if (format === 'csv') {
        res.writeHead(200, { 'content-type': 'text/csv' }).end('leafIndex,id,action\r\n0,e-0,invoice.paid\r\n1,e-1,invoice.paid\r\n');
        return;
      }
      if (format === 'bundle') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end('{"format":"f"}\n{"leafIndex":0}\n{"entries":1}\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      if (scenario === 'endless') {
        closedEarly = new Promise((resolve) => res.on('close', resolve));
        let n = 0;
        const more = () => {
          while (res.write(`${JSON.stringify(row(n++))}\n`));
          res.once('drain', more);
        };
        more();
        return;
      }
      if (scenario === 'broken') {
        res.write(`${JSON.stringify(row(0))}\n${JSON.stringify(row(1))}\n{"leafIn`);
        setImmediate(() => res.socket?.destroy());
        return;
      }
      if (scenario === 'truncated') {
        res.end(`${JSON.stringify(row(0))}\n{"leafIndex":1`);
        return;
      }
      // Three rows in chunks that cut lines, and a multi-byte character, in two.
      const bytes = Buffer.from([0, 1, 2].map((i) => `${JSON.stringify(row(i))}\n`).join(''), 'utf8');
      const cuts = [5, bytes.indexOf('☕') + 1, bytes.indexOf('\n') + 3, bytes.length - 4, bytes.length];
      let from = 0;
      const next = () => {
        const to = cuts.shift();
        if (to === undefined) return void res.end();
        res.write(bytes.subarray(from, to), () => setImmediate(next));
        from = to;
      };
      next();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const client = (token = READER) => new LedgerClient({ url, token, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });

  async function all<T>(stream: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const item of stream) out.push(item);
    return out;
  }

  it('yields each NDJSON line as an object, in order, whatever the chunks', async () => {
    const rows = await all(client().export());
    expect(rows).toEqual([row(0), row(1), row(2)]);
    expect(queries.at(-1)!.get('format')).toBe('ndjson');
  });

  it("sends the filter as the contract's query parameters", async () => {
    await all(
      client().export({
        groupIds: ['g-1', 'g-2'],
        actorId: 'u-1',
        actionPrefix: 'user.role.',
        targetId: 'doc-1',
        outcome: 'DENIED',
        from: new Date('2026-01-01T00:00:00Z'),
        to: '2026-02-01T00:00:00.000Z',
        limit: 10,
      }),
    );
    expect([...queries.at(-1)!.entries()]).toEqual([
      ['groupId', 'g-1'],
      ['groupId', 'g-2'],
      ['actorId', 'u-1'],
      ['action', 'user.role.*'],
      ['targetId', 'doc-1'],
      ['outcome', 'DENIED'],
      ['since', '2026-01-01T00:00:00.000Z'],
      ['until', '2026-02-01T00:00:00.000Z'],
      ['limit', '10'],
      ['format', 'ndjson'],
    ]);
    expect(() => client().export({ action: 'a', actionPrefix: 'b' })).toThrow(TypeError);
  });

  it('yields CSV lines, and a bundle (JSON Lines) as its lines with their newlines, its text when joined', async () => {
    expect(await all(client().export({}, { format: 'csv' }))).toEqual(['leafIndex,id,action', '0,e-0,invoice.paid', '1,e-1,invoice.paid']);
    expect(await all(client().export({}, { format: 'bundle' }))).toEqual(['{"format":"f"}\n', '{"leafIndex":0}\n', '{"entries":1}\n']);
  });

  it.each([
    ['no valid key', () => new LedgerClient({ url, token: 'nope' }).export(), 401, 'UNAUTHENTICATED'],
    ['an APPENDER key', () => client(APPENDER).export(), 403, 'FORBIDDEN'],
    ['a bad parameter', () => client().export({ outcome: 'MAYBE' as 'SUCCESS' }), 400, 'BAD_USER_INPUT'],
  ])('surfaces the refusal of %s as LedgerApiError with its code', async (_what, start, status, code) => {
    const failed = all(start());
    await expect(failed).rejects.toBeInstanceOf(LedgerApiError);
    await expect(failed).rejects.toMatchObject({ status, code });
  });

  it('retries a request refused for now (503 with Retry-After)', async () => {
    expect(await all(client().export({ actorId: 'flaky' }))).toHaveLength(3);
    expect(flakyAnswered).toBe(true);
  });

  it('throws LedgerNetworkError when the stream breaks off, after the rows that arrived whole', async () => {
    const seen: unknown[] = [];
    const failed = (async () => {
      for await (const r of client().export({ actorId: 'broken' })) seen.push(r);
    })();
    await expect(failed).rejects.toBeInstanceOf(LedgerNetworkError);
    expect(seen).toEqual([row(0), row(1)]);
  });

  it('throws LedgerResponseError when the export ends in the middle of a line', async () => {
    await expect(all(client().export({ actorId: 'truncated' }))).rejects.toBeInstanceOf(LedgerResponseError);
  });

  it('closes the connection when the caller stops reading', async () => {
    let n = 0;
    for await (const r of client().export({ actorId: 'endless' })) {
      expect(r).toEqual(row(n));
      if (++n === 3) break;
    }
    await closedEarly;
  });
});

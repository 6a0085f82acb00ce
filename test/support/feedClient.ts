/** Clients of GET /feed for end-to-end tests: one NDJSON read, and a live SSE connection. */
import http from 'node:http';

export interface FeedAnswer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
  /** Parsed lines (NDJSON) when the status is 200. */
  readonly lines: Record<string, unknown>[];
}

export function feedGet(url: string, token: string | undefined, params: string, headers: Record<string, string> = {}): Promise<FeedAnswer> {
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/feed${params}`, { agent: false, headers: { ...(token && { authorization: `Bearer ${token}` }), ...headers } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => {
          const lines = res.statusCode === 200 ? body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) : [];
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body, lines });
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

export interface SseMessage {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: Record<string, unknown>;
}

/** A live server-sent-events connection that collects messages; `waitFor` resolves on arrival, never on a timer. */
export class SseConnection {
  readonly messages: SseMessage[] = [];
  status = 0;
  private buffer = '';
  private readonly waiters: { n: number; resolve(): void }[] = [];
  private req!: http.ClientRequest;
  readonly opened: Promise<void>;

  constructor(url: string, token: string, params: string, lastEventId?: string) {
    this.opened = new Promise((resolve, reject) => {
      this.req = http.get(
        `${url}/feed${params}`,
        { agent: false, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...(lastEventId !== undefined && { 'last-event-id': lastEventId }) } },
        (res) => {
          this.status = res.statusCode ?? 0;
          res.setEncoding('utf8').on('data', (c: string) => this.take(c));
          res.on('error', () => undefined);
          resolve();
        },
      );
      this.req.on('error', reject);
    });
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        if (line.startsWith(':') || line === '') continue;
        const colon = line.indexOf(':');
        fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ''));
      }
      const data = fields.get('data');
      if (data !== undefined) this.messages.push({ id: fields.get('id'), event: fields.get('event'), data: JSON.parse(data) as Record<string, unknown> });
    }
    for (const w of [...this.waiters]) {
      if (this.messages.length >= w.n) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves once `n` messages have arrived in all. */
  waitFor(n: number): Promise<SseMessage[]> {
    if (this.messages.length >= n) return Promise.resolve(this.messages.slice(0, n));
    return new Promise((resolve) => this.waiters.push({ n, resolve: () => resolve(this.messages.slice(0, n)) }));
  }

  close(): void {
    this.req.destroy();
  }
}

/**
 * A webhook receiver for end-to-end tests: an HTTP server in the test process that records
 * every request, answers with the status `answer(n)` chooses for the n-th request (0-based),
 * and lets a test wait until a condition on what arrived holds, checked on each arrival.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly status: number;
  readonly batch: { subscriptionId: string; events: { leafIndex: number; leaf: string | null; leafHash: string; action: string }[] };
}

export class WebhookReceiver {
  readonly received: Received[] = [];
  answer: (n: number) => number = () => 200;
  private readonly server: http.Server;
  private readonly waiters: { check: () => boolean; resolve(): void }[] = [];
  url = '';

  constructor() {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        const status = this.answer(this.received.length);
        this.received.push({ body, headers: req.headers, status, batch: JSON.parse(body) as Received['batch'] });
        res.writeHead(status).end();
        for (const w of [...this.waiters]) {
          if (w.check()) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /** Resolves once `check` holds (checked now and on every request). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }

  /** Leaf indices acknowledged with a 2xx, in arrival order (with any redeliveries). */
  acknowledged(): number[] {
    return this.received.filter((r) => r.status >= 200 && r.status < 300).flatMap((r) => r.batch.events.map((e) => e.leafIndex));
  }

  /** Distinct acknowledged leaf indices. */
  delivered(): Set<number> {
    return new Set(this.acknowledged());
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Whether the acknowledged batches are the expected leaves in order with no gap, allowing
 * only what at-least-once allows: a batch may start again at or before the next expected
 * leaf (a redelivery), never after it. Answers the problem, or undefined.
 */
export function orderProblem(batches: readonly (readonly number[])[], expected: readonly number[]): string | undefined {
  let next = 0;
  for (const batch of batches) {
    if (batch.length === 0) return 'an empty batch';
    const start = expected.indexOf(batch[0]!);
    if (start < 0) return `leaf ${batch[0]} was not expected`;
    if (start > next) return `gap: leaf ${expected[next]} skipped, batch starts at ${batch[0]}`;
    for (let i = 0; i < batch.length; i++) {
      if (expected[start + i] !== batch[i]) return `batch starting at ${batch[0]} is not contiguous at ${batch[i]}`;
    }
    next = Math.max(next, start + batch.length);
  }
  return next === expected.length ? undefined : `only ${next} of ${expected.length} delivered`;
}

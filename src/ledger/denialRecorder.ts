/**
 * The shell around DenialAggregator: writes the denials it says to write, flushes closed
 * windows on a timer and everything at shutdown. A denial that must be recorded now and
 * cannot be (database down, or no answer within `recordTimeoutMs`) fails with
 * DenialNotRecordedError, which the API answers as UNAVAILABLE: a refusal is never answered
 * unrecorded.
 */
import type { Logger } from '../logger';
import { DenialAggregator } from './denialAggregator';
import type { SelfEvent } from './selfEvent';

export class DenialNotRecordedError extends Error {
  override readonly name = 'DenialNotRecordedError';
}

/** What the GraphQL layer needs: record one refusal (aggregated), or throw DenialNotRecordedError. */
export interface DenialSink {
  /** `capped`: the caller has no valid API key (see DenialAggregator). */
  record(key: string, event: SelfEvent, capped: boolean): Promise<void>;
}

export interface DenialRecorderOptions {
  readonly write: (events: readonly SelfEvent[]) => Promise<void>;
  readonly logger: Logger;
  readonly windowMs: number;
  readonly maxKeysPerWindow: number;
  readonly recordTimeoutMs?: number;
  /**
   * Resolves when the database answers. Counted refusals are written only when their window
   * closes, so they are answered only while this succeeds (asked at most once a second).
   */
  readonly probe?: () => Promise<void>;
}

const PROBE_EVERY_MS = 1_000;

export class DenialRecorder implements DenialSink {
  private readonly aggregator: DenialAggregator;
  private readonly timer: NodeJS.Timeout;
  private readonly unwritten: SelfEvent[] = [];
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private health: { at: number; ok: boolean } = { at: -Infinity, ok: true };
  private probing: Promise<boolean> | undefined;

  constructor(private readonly options: DenialRecorderOptions) {
    this.aggregator = new DenialAggregator({ windowMs: options.windowMs, maxKeysPerWindow: options.maxKeysPerWindow });
    // A summary is written at most this late after its window closes.
    this.timer = setInterval(() => void this.flush(), Math.min(5_000, Math.max(100, options.windowMs / 4)));
    this.timer.unref();
  }

  async record(key: string, event: SelfEvent, capped: boolean): Promise<void> {
    if (!(await this.databaseAnswers())) throw new DenialNotRecordedError('the database does not answer');
    if (this.aggregator.admit(key, event, capped) === 'counted') return;
    try {
      await this.writeWithin([event], this.options.recordTimeoutMs ?? 5_000);
      this.aggregator.recorded(key, true);
      this.health = { at: Date.now(), ok: true };
    } catch (err) {
      this.aggregator.recorded(key, false);
      this.health = { at: Date.now(), ok: false };
      this.options.logger.error({ err, action: event.action }, 'a refusal could not be recorded; answering UNAVAILABLE');
      throw new DenialNotRecordedError('the refusal could not be recorded');
    }
  }

  /** Writes the summaries of closed windows (and any a failed flush left). */
  flush(): Promise<void> {
    this.flushing ??= this.writeSummaries(this.aggregator.due()).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** Stops the timer and writes every pending summary; call before the ledger closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.flushing;
    await this.writeSummaries(this.aggregator.drain());
    if (this.unwritten.length > 0) {
      this.options.logger.error({ events: this.unwritten.length }, 'refusal summaries could not be recorded before shutdown');
    }
  }

  /** Refusal summaries still owed to the log (a failed write keeps them for the next try). */
  get unwrittenSummaries(): number {
    return this.unwritten.length;
  }

  /** Another part of the server saw the database fail (e.g. /healthz): stop answering counted refusals now. */
  databaseFailed(): void {
    this.health = { at: Date.now(), ok: false };
  }

  /** Whether the database answered lately (cached for a second, so floods cost one ping a second). */
  private async databaseAnswers(): Promise<boolean> {
    const probe = this.options.probe;
    if (!probe || Date.now() - this.health.at < PROBE_EVERY_MS) return this.health.ok;
    this.probing ??= this.writeWithin([], PROBE_EVERY_MS, probe)
      .then(
        () => true,
        () => false,
      )
      .then((ok) => {
        this.health = { at: Date.now(), ok };
        this.probing = undefined;
        return ok;
      });
    return this.probing;
  }

  private async writeSummaries(summaries: readonly SelfEvent[]): Promise<void> {
    // Bounded: at most one summary per open window plus one overflow summary per window.
    const batch = [...this.unwritten.splice(0), ...summaries];
    if (batch.length === 0) return;
    try {
      await this.writeWithin(batch, 30_000);
      this.health = { at: Date.now(), ok: true };
    } catch (err) {
      this.health = { at: Date.now(), ok: false };
      this.options.logger.warn({ err, events: batch.length }, 'refusal summaries not recorded yet; will retry');
      this.unwritten.push(...batch);
      // While the database stays down, keep the newest summaries only (the log of this process says how many were lost).
      const cap = 10 * (this.options.maxKeysPerWindow + 1);
      if (this.unwritten.length > cap) {
        const lost = this.unwritten.splice(0, this.unwritten.length - cap);
        this.options.logger.error({ events: lost.length }, 'refusal summaries dropped: the database has been unavailable too long');
      }
    }
  }

  private async writeWithin(events: readonly SelfEvent[], ms: number, work: () => Promise<void> = () => this.options.write(events)): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    try {
      await Promise.race([work(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

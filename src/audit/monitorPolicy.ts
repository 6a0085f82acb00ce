/**
 * What the monitor makes of each poll, pure: the line it prints, and whether the log has
 * gone stale (no new checkpoint size for longer than allowed). A log that stops growing may
 * be idle, or may be hiding entries from this monitor; which one is for a person to judge,
 * so staleness is an alert only when the operator asked for it.
 *
 * With witnesses the two can be told apart: a log republishes its checkpoint when idle, so
 * fresh witness cosignatures on an unchanged size mean "quiet" (the witnesses still see the
 * same tree), while a newest cosignature older than the allowed age means "frozen": the
 * log stopped publishing, or serves this monitor a view that no witness keeps cosigning.
 */
export interface PollRecord {
  readonly at: number;
  readonly treeSize: number;
  readonly rootHex: string;
  /** With a witness policy: the newest valid cosignature time (ms) of a checkpoint that met it. */
  readonly newestCosignatureAt?: number;
}

export class MonitorPolicy {
  private lastSize: number | undefined;
  private lastAdvanceAt: number;
  private lastCosignatureAt: number | undefined;

  constructor(
    private readonly startedAt: number,
    private readonly staleAfterMs: number | undefined,
    /** With a witness policy: the oldest a checkpoint's newest cosignature may be. */
    private readonly maxCosignatureAgeMs?: number,
  ) {
    this.lastAdvanceAt = startedAt;
  }

  /** Records a verified poll and returns its one-line report. */
  observe(poll: PollRecord): string {
    const growth = this.lastSize === undefined ? undefined : poll.treeSize - this.lastSize;
    if (this.lastSize === undefined || poll.treeSize > this.lastSize) this.lastAdvanceAt = poll.at;
    this.lastSize = poll.treeSize;
    if (poll.newestCosignatureAt !== undefined) this.lastCosignatureAt = Math.max(poll.newestCosignatureAt, this.lastCosignatureAt ?? -Infinity);
    const grew = growth === undefined ? 'first poll' : `+${growth}`;
    let witnessed = '';
    if (poll.newestCosignatureAt !== undefined) {
      const age = Math.max(0, Math.round((poll.at - poll.newestCosignatureAt) / 1000));
      const quiet = growth === 0 && !this.isFrozen(poll.at) ? ' quiet,' : '';
      witnessed = `${quiet} cosigned ${age} s ago`;
    }
    return `${new Date(poll.at).toISOString()} size=${poll.treeSize} root=${poll.rootHex.slice(0, 16)} ${grew}${witnessed}`;
  }

  /** Why the log counts as stale at `now`, or undefined. */
  staleness(now: number): string | undefined {
    if (this.staleAfterMs === undefined) return undefined;
    const idle = now - this.lastAdvanceAt;
    if (idle <= this.staleAfterMs) return undefined;
    const size = this.lastSize === undefined ? 'no checkpoint could be fetched' : `the checkpoint stayed at size ${this.lastSize}`;
    return `${size} for ${Math.round(idle / 1000)} s, longer than the allowed ${Math.round(this.staleAfterMs / 1000)} s`;
  }

  /** Why the log counts as frozen at `now` (its witnessed checkpoints are too old), or undefined. */
  frozen(now: number): string | undefined {
    if (!this.isFrozen(now)) return undefined;
    const max = Math.round((this.maxCosignatureAgeMs as number) / 1000);
    if (this.lastCosignatureAt === undefined) {
      return `no checkpoint met the witness policy in ${Math.round((now - this.startedAt) / 1000)} s, longer than the allowed cosignature age of ${max} s`;
    }
    return (
      `the newest witness cosignature is ${Math.round((now - this.lastCosignatureAt) / 1000)} s old ` +
      `(${new Date(this.lastCosignatureAt).toISOString()}), older than the allowed ${max} s: the log is frozen, or shows this monitor a view no witness keeps cosigning`
    );
  }

  private isFrozen(now: number): boolean {
    if (this.maxCosignatureAgeMs === undefined) return false;
    return now - (this.lastCosignatureAt ?? this.startedAt) > this.maxCosignatureAgeMs;
  }
}

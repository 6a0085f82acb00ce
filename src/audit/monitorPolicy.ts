/**
 * What the monitor makes of each poll, pure: the line it prints, and whether the log has
 * gone stale (no new checkpoint size for longer than allowed). A log that stops growing may
 * be idle, or may be hiding entries from this monitor; which one is for a person to judge,
 * so staleness is an alert only when the operator asked for it.
 */
export interface PollRecord {
  readonly at: number;
  readonly treeSize: number;
  readonly rootHex: string;
}

export class MonitorPolicy {
  private lastSize: number | undefined;
  private lastAdvanceAt: number;

  constructor(
    startedAt: number,
    private readonly staleAfterMs: number | undefined,
  ) {
    this.lastAdvanceAt = startedAt;
  }

  /** Records a verified poll and returns its one-line report. */
  observe(poll: PollRecord): string {
    const growth = this.lastSize === undefined ? undefined : poll.treeSize - this.lastSize;
    if (this.lastSize === undefined || poll.treeSize > this.lastSize) this.lastAdvanceAt = poll.at;
    this.lastSize = poll.treeSize;
    const grew = growth === undefined ? 'first poll' : `+${growth}`;
    return `${new Date(poll.at).toISOString()} size=${poll.treeSize} root=${poll.rootHex.slice(0, 16)} ${grew}`;
  }

  /** Why the log counts as stale at `now`, or undefined. */
  staleness(now: number): string | undefined {
    if (this.staleAfterMs === undefined) return undefined;
    const idle = now - this.lastAdvanceAt;
    if (idle <= this.staleAfterMs) return undefined;
    const size = this.lastSize === undefined ? 'no checkpoint could be fetched' : `the checkpoint stayed at size ${this.lastSize}`;
    return `${size} for ${Math.round(idle / 1000)} s, longer than the allowed ${Math.round(this.staleAfterMs / 1000)} s`;
  }
}

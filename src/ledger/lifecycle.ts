/**
 * Redaction by crypto-shredding, erasure requests, legal holds and retention, over a sealed
 * ledger (see src/lifecycle/). Shredding an event = recording why (a ledger event), storing a
 * redaction record that names that event, and deleting the event's wrapped data key. The
 * event's skeleton, leaf hash and tiles are untouched, so every proof stays valid.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { LedgerError } from '../errors';
import type { Actor, JsonObject } from '../event/eventRecord';
import type { Keyring } from '../lifecycle/keyring';
import { type HoldDoc, leafKey, type RedactionDoc, type RetentionDoc } from '../lifecycle/records';
import { openedSkeletonMac } from '../lifecycle/sealedEvents';
import type { StoredEvent } from '../storage/port';
import { type Ledger, LedgerInputError } from './ledger';
import type { SelfAction } from './selfEvent';

export interface HoldScope {
  readonly groupIds?: readonly string[];
  readonly actorIds?: readonly string[];
  readonly from?: Date;
  readonly to?: Date;
}

export interface ShredResult {
  /** Leaf index of the ledger event that recorded it (undefined when nothing was shredded). */
  readonly recordedAt: number | undefined;
  readonly redacted: readonly number[];
  readonly held: readonly number[];
}

export interface RetentionRunResult {
  readonly scanned: number;
  readonly shredded: number;
  readonly held: number;
  /** Leaf index from which the next run starts. */
  readonly cursor: number;
}

const PAGE = 500;
const JOB_ID = 'retention';

export function redactionMac(searchKey: Uint8Array, leafIndex: number, by: number, reason: string): string {
  return createHmac('sha256', searchKey).update(`redaction\0${JSON.stringify([leafIndex, by, reason])}`).digest('hex');
}

export class Lifecycle {
  /** Test hook: called before each retention batch is shredded (a crash injected there must resume). */
  beforeRetentionShred: ((leafIndices: readonly number[]) => void) | undefined;

  constructor(private readonly ledger: Ledger) {}

  private get keyring(): Keyring {
    const keyring = this.ledger.keyring;
    if (!keyring) throw new LedgerInputError('encryption at rest is off on this ledger: content can only be shredded when it is sealed (set LEDGER_ENCRYPTION=on)');
    return keyring;
  }

  async redactEvent(leafIndex: number, reason: string, actor: Actor): Promise<ShredResult> {
    requireReason(reason);
    const keyring = this.keyring;
    const event = await this.ledger.eventByLeafIndex(leafIndex);
    if (!event) throw new LedgerInputError(`no event at leaf index ${leafIndex}`);
    if (event.redaction) throw new LedgerInputError(`event ${leafIndex} is already redacted (by leaf ${String(event.redaction.leafIndex)})`);
    if (leafIndex < keyring.sealedFrom) throw new LedgerInputError(`event ${leafIndex} was recorded in plaintext before encryption at rest was enabled (from leaf ${keyring.sealedFrom}); it cannot be crypto-shredded`);
    const holds = await this.activeHolds();
    const hold = holds.find((h) => this.holds(h, event));
    if (hold) throw new LedgerError('LEGAL_HOLD', `event ${leafIndex} is under legal hold ${hold.id} (${hold.reason}); release the hold first`);
    const by = await this.recordOne('ledger.event.redacted', actor, { type: 'event', id: String(leafIndex) }, reason, { scope: 'event', leafIndices: [leafIndex] });
    await this.shred([event], by, reason);
    return { recordedAt: by, redacted: [leafIndex], held: [] };
  }

  /** An erasure request: shreds every sealed event of the actor that no hold covers. */
  async eraseActor(actorId: string, reason: string, actor: Actor): Promise<ShredResult> {
    requireReason(reason);
    const keyring = this.keyring;
    const holds = await this.activeHolds();
    const toShred: StoredEvent[] = [];
    const held: number[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await this.ledger.queryEvents({ actorId, limit: PAGE, ...(after !== undefined && { afterLeafIndex: after }) });
      for (const e of page.events) {
        if (e.redaction || e.leafIndex < keyring.sealedFrom) continue;
        if (holds.some((h) => this.holds(h, e))) held.push(e.leafIndex);
        else toShred.push(e);
      }
      if (!page.hasMore) break;
      after = page.events.at(-1)!.leafIndex;
    }
    const blind = keyring.blind('actor.id', actorId);
    // The erased actor is named by its blind index only: the request must not re-record the id.
    const by = await this.recordOne('ledger.actor.erased', actor, { type: 'actor', id: blind }, reason, {
      scope: 'actor',
      erased: toShred.length,
      leafRanges: ranges(toShred.map((e) => e.leafIndex)),
      held,
    });
    await this.shred(toShred, by, reason);
    return { recordedAt: by, redacted: toShred.map((e) => e.leafIndex), held };
  }

  async placeHold(scope: HoldScope, reason: string, actor: Actor): Promise<HoldDoc> {
    requireReason(reason);
    const keyring = this.keyring;
    if (!scope.groupIds?.length && !scope.actorIds?.length && !scope.from && !scope.to) throw new LedgerInputError('a hold needs a scope: groupIds, actorIds, from or to');
    if (scope.from && scope.to && scope.from >= scope.to) throw new LedgerInputError('from must be before to');
    const id = randomUUID();
    const actors = scope.actorIds?.map((a) => keyring.blind('actor.id', a));
    const described: JsonObject = {
      holdId: id,
      ...(scope.groupIds?.length && { groupIds: [...scope.groupIds] }),
      ...(actors?.length && { actors }),
      ...(scope.from && { from: scope.from.toISOString() }),
      ...(scope.to && { to: scope.to.toISOString() }),
    };
    const by = await this.recordOne('ledger.hold.placed', actor, { type: 'hold', id }, reason, described);
    const doc: HoldDoc = {
      id,
      reason,
      ...(scope.groupIds?.length && { groupIds: [...scope.groupIds] }),
      ...(actors?.length && { actors }),
      ...(scope.from && { from: scope.from.toISOString() }),
      ...(scope.to && { to: scope.to.toISOString() }),
      placedAt: new Date().toISOString(),
      placedBy: by,
    };
    await this.ledger.storage.lifecycle.put('hold', [{ id, value: JSON.stringify(doc) }]);
    return doc;
  }

  async releaseHold(id: string, reason: string, actor: Actor): Promise<HoldDoc> {
    requireReason(reason);
    const raw = (await this.ledger.storage.lifecycle.get('hold', [id])).get(id);
    if (!raw) throw new LedgerInputError(`no legal hold ${id}`);
    const doc = JSON.parse(raw) as HoldDoc;
    if (doc.releasedAt) throw new LedgerInputError(`legal hold ${id} was already released`);
    const by = await this.recordOne('ledger.hold.released', actor, { type: 'hold', id }, reason, { holdId: id });
    const released: HoldDoc = { ...doc, releasedAt: new Date().toISOString(), releasedBy: by };
    await this.ledger.storage.lifecycle.put('hold', [{ id, value: JSON.stringify(released) }]);
    // Events the hold kept may now be due: the next retention run looks at the whole log again.
    await this.saveCursor(0);
    return released;
  }

  async holdList(): Promise<HoldDoc[]> {
    return (await listAll(this.ledger, 'hold')).map((r) => JSON.parse(r) as HoldDoc);
  }

  async activeHolds(): Promise<HoldDoc[]> {
    return (await this.holdList()).filter((h) => !h.releasedAt);
  }

  async retentionPolicies(): Promise<RetentionDoc[]> {
    return (await listAll(this.ledger, 'retention')).map((r) => JSON.parse(r) as RetentionDoc);
  }

  async setRetentionPolicy(policy: { id?: string; groupIds: readonly string[]; actionPrefix: string; keepDays: number }, actor: Actor): Promise<RetentionDoc> {
    void this.keyring;
    if (!Number.isInteger(policy.keepDays) || policy.keepDays < 0 || policy.keepDays > 36_500) throw new LedgerInputError('keepDays must be an integer 0-36500');
    const doc: RetentionDoc = { id: policy.id ?? randomUUID(), groupIds: [...policy.groupIds], actionPrefix: policy.actionPrefix, keepDays: policy.keepDays, updatedAt: new Date().toISOString() };
    await this.recordOne('ledger.retention.policy.set', actor, { type: 'retentionPolicy', id: doc.id }, undefined, { groupIds: [...doc.groupIds], actionPrefix: doc.actionPrefix, keepDays: doc.keepDays });
    await this.ledger.storage.lifecycle.put('retention', [{ id: doc.id, value: JSON.stringify(doc) }]);
    await this.saveCursor(0);
    return doc;
  }

  /**
   * One retention run: walks the log from the saved cursor in batches, shreds the content of
   * events whose policy's time is up (unless held), recording each batch as
   * `ledger.retention.applied` before shredding it, and saves the cursor after each batch: a
   * run that crashes resumes from the last saved batch (redoing at most one batch, which is
   * harmless: shredding is idempotent). The cursor never passes an event still due later.
   */
  async applyRetention(now = new Date(), batch = PAGE): Promise<RetentionRunResult> {
    const keyring = this.ledger.keyring;
    const policies = await this.retentionPolicies();
    let cursor = await this.loadCursor();
    if (!keyring || policies.length === 0) return { scanned: 0, shredded: 0, held: 0, cursor };
    const holds = await this.activeHolds();
    const minKeep = Math.min(...policies.map((p) => p.keepDays));
    const cutoff = now.getTime() - minKeep * 86_400_000;
    const size = (await this.ledger.latestCheckpoint()).treeSize;
    let scanned = 0;
    let shredded = 0;
    let heldCount = 0;
    let firstUnsettled: number | undefined;
    let at = Math.max(cursor, keyring.sealedFrom);
    while (at < size) {
      const events = await this.ledger.storage.events.range(at, Math.min(size, at + batch));
      const due: StoredEvent[] = [];
      let reachedCutoff = false;
      for (const e of events) {
        if (e.recordedAt.getTime() >= cutoff) {
          reachedCutoff = true;
          break;
        }
        scanned++;
        if (e.redaction) continue;
        const policy = policies.find((p) => matches(p, e));
        if (!policy) continue;
        if (e.recordedAt.getTime() >= now.getTime() - policy.keepDays * 86_400_000) {
          firstUnsettled ??= e.leafIndex;
          continue;
        }
        if (holds.some((h) => this.holds(h, e))) {
          heldCount++;
          continue;
        }
        due.push(e);
      }
      if (due.length > 0) {
        this.beforeRetentionShred?.(due.map((e) => e.leafIndex));
        const by = await this.recordOne('ledger.retention.applied', { id: 'retention', type: 'SYSTEM' }, undefined, undefined, {
          shredded: due.length,
          leafRanges: ranges(due.map((e) => e.leafIndex)),
          policies: [...new Set(due.map((e) => policies.find((p) => matches(p, e))!.id))],
        });
        await this.shred(due, by, 'retention policy');
        shredded += due.length;
      }
      const end = reachedCutoff ? events.find((e) => e.recordedAt.getTime() >= cutoff)!.leafIndex : at + events.length;
      cursor = firstUnsettled ?? end;
      await this.saveCursor(cursor);
      if (reachedCutoff || events.length === 0) break;
      at += events.length;
    }
    return { scanned, shredded, held: heldCount, cursor };
  }

  private holds(hold: HoldDoc, e: StoredEvent): boolean {
    if (hold.groupIds?.length && !e.groups.some((g) => hold.groupIds!.includes(g))) return false;
    if (hold.actors?.length && !hold.actors.includes(this.keyring.blind('actor.id', e.actor.id))) return false;
    if (hold.from && e.recordedAt.getTime() < Date.parse(hold.from)) return false;
    if (hold.to && e.recordedAt.getTime() >= Date.parse(hold.to)) return false;
    return true;
  }

  private async shred(events: readonly StoredEvent[], by: number, reason: string): Promise<void> {
    if (events.length === 0) return;
    const keyring = this.keyring;
    const store = this.ledger.storage.lifecycle;
    const records = events.map((e) => {
      const doc: RedactionDoc = { by, reason, mac: redactionMac(keyring.searchKey, e.leafIndex, by, reason), skeleton: openedSkeletonMac(keyring, e) };
      return { id: leafKey(e.leafIndex), value: JSON.stringify(doc) };
    });
    // The record first: a key gone without its record would read as tampering.
    await store.put('redaction', records);
    await store.delete('dataKey', events.map((e) => e.id));
  }

  private async recordOne(action: SelfAction, actor: Actor, target: { type: string; id: string } | undefined, reason: string | undefined, metadata: JsonObject): Promise<number> {
    const [receipt] = await this.ledger.recordSelfReceipts([{ action, actor, ...(target && { target }), outcome: 'SUCCESS', ...(reason !== undefined && { reason }), metadata }]);
    return receipt!.leafIndex;
  }

  private async loadCursor(): Promise<number> {
    const raw = (await this.ledger.storage.lifecycle.get('job', [JOB_ID])).get(JOB_ID);
    return raw ? (JSON.parse(raw) as { cursor: number }).cursor : 0;
  }

  private async saveCursor(cursor: number): Promise<void> {
    await this.ledger.storage.lifecycle.put('job', [{ id: JOB_ID, value: JSON.stringify({ cursor, at: new Date().toISOString() }) }]);
  }
}

function matches(p: RetentionDoc, e: StoredEvent): boolean {
  return (p.groupIds.length === 0 || e.groups.some((g) => p.groupIds.includes(g))) && e.action.startsWith(p.actionPrefix);
}

function requireReason(reason: string): void {
  if (reason.trim().length === 0 || reason.length > 1000) throw new LedgerInputError('reason must be 1-1000 characters');
}

async function listAll(ledger: Ledger, kind: 'hold' | 'retention'): Promise<string[]> {
  const out: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await ledger.storage.lifecycle.list(kind, { limit: 500, ...(after !== undefined && { after }) });
    out.push(...page.map((r) => r.value));
    if (page.length < 500) return out;
    after = page.at(-1)!.id;
  }
}

/** Leaf indices as [from, to) ranges, e.g. [[3, 6], [9, 10]]. */
function ranges(indices: readonly number[]): number[][] {
  const sorted = [...indices].sort((a, b) => a - b);
  const out: number[][] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    if (last && last[1] === i) last[1] = i + 1;
    else out.push([i, i + 1]);
  }
  return out;
}

const byLedger = new WeakMap<Ledger, Lifecycle>();

/** The one lifecycle service of a ledger (the resolvers and the background job share it). */
export function lifecycleOf(ledger: Ledger): Lifecycle {
  let found = byLedger.get(ledger);
  if (!found) byLedger.set(ledger, (found = new Lifecycle(ledger)));
  return found;
}

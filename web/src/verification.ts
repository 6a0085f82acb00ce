/**
 * What the Verify button and the Log page check, in the browser, with audit-ledger/verify:
 * pure functions from what the server answered (and the reader's pinned key) to a list of
 * named steps, each passed or failed with what did not match. Nothing here trusts the server:
 * the leaf hash is recomputed from the leaf text, the root comes from a checkpoint whose
 * signature was checked against the pinned key.
 */
import {
  VerificationError,
  decodeCosignature,
  parseNote,
  parseWitnessKey,
  verifyCosignatures,
  bytesToHex,
  hexToBytes,
  leafHash,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
  type VerifiedCheckpoint,
} from '../../src/verify';

export interface Step {
  readonly label: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly detail: string;
}

export interface Outcome {
  readonly ok: boolean;
  readonly steps: Step[];
  /** What did not match, for the headline (the first failed step). */
  readonly failure?: string;
}

export interface EventToVerify {
  readonly id: string;
  readonly leafIndex: number;
  readonly leafHash: string;
  readonly leaf: string | null;
  readonly action: string;
  readonly actor: { readonly id: string };
  readonly target: { readonly type: string; readonly id: string } | null;
  readonly outcome: string;
  readonly recordedAt: string;
  readonly groups: readonly string[];
}

export interface ProofToVerify {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: string;
  readonly hashes: readonly string[];
  readonly checkpoint: { readonly note: string };
}

const encoder = new TextEncoder();

function describe(err: unknown): string {
  if (err instanceof VerificationError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

function outcomeOf(steps: Step[]): Outcome {
  const failed = steps.find((s) => s.status === 'failed');
  return failed ? { ok: false, steps, failure: `${failed.label}: ${failed.detail}` } : { ok: true, steps };
}

/** Checks a signed checkpoint note against the pinned key (and its origin). */
export function checkSignature(note: string, verifierKey: string, origin: string | undefined): { step: Step; checkpoint?: VerifiedCheckpoint } {
  const label = 'The checkpoint is signed by the pinned key';
  try {
    const checkpoint = verifyCheckpoint(note, verifierKey, origin === undefined ? {} : { origin });
    return { step: { label, status: 'passed', detail: `${checkpoint.origin}, tree size ${checkpoint.treeSize}, root ${bytesToHex(checkpoint.rootHash)}` }, checkpoint };
  } catch (err) {
    return { step: { label, status: 'failed', detail: `signature or note does not match: ${describe(err)}` } };
  }
}

/** The fields the table and the detail show, compared with the signed leaf they claim to come from. */
function shownFieldMismatches(event: EventToVerify, leaf: Record<string, unknown>): string[] {
  const actor = (leaf.actor ?? {}) as { id?: unknown };
  const target = leaf.target as { type?: unknown; id?: unknown } | undefined;
  const checks: [string, unknown, unknown][] = [
    ['id', event.id, leaf.id],
    ['action', event.action, leaf.action],
    ['actor.id', event.actor.id, actor.id],
    ['outcome', event.outcome, leaf.outcome],
    ['recordedAt', Date.parse(event.recordedAt), typeof leaf.recordedAt === 'string' ? Date.parse(leaf.recordedAt) : leaf.recordedAt],
    ['target', event.target ? `${event.target.type}:${event.target.id}` : null, target ? `${String(target.type)}:${String(target.id)}` : null],
    ['groups', JSON.stringify([...event.groups].sort()), JSON.stringify([...((leaf.groups as string[] | undefined) ?? [])].sort())],
  ];
  return checks.filter(([, shown, signed]) => shown !== signed).map(([name, shown, signed]) => `${name} shown as ${JSON.stringify(shown)} but the leaf says ${JSON.stringify(signed)}`);
}

/** Everything the Verify button checks for one event. */
export function verifyEventProof(event: EventToVerify, proof: ProofToVerify, pinned: { verifierKey: string; origin?: string }): Outcome {
  const steps: Step[] = [];
  let computedLeafHash: string = event.leafHash;

  if (event.leaf === null) {
    steps.push({ label: 'The leaf text hashes to the leaf hash', status: 'skipped', detail: 'the event is redacted: only its leaf hash remains, and that is what is proven' });
  } else {
    computedLeafHash = bytesToHex(leafHash(encoder.encode(event.leaf)));
    steps.push(
      computedLeafHash === event.leafHash
        ? { label: 'The leaf text hashes to the leaf hash', status: 'passed', detail: `SHA-256(0x00 ‖ leaf) = ${computedLeafHash}` }
        : { label: 'The leaf text hashes to the leaf hash', status: 'failed', detail: `leaf hash mismatch: the leaf text hashes to ${computedLeafHash}, the server says ${event.leafHash}` },
    );
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = JSON.parse(event.leaf) as Record<string, unknown>;
    } catch {
      steps.push({ label: 'The fields shown are the ones in the leaf', status: 'failed', detail: 'the leaf text is not JSON' });
    }
    if (parsed) {
      const mismatches = shownFieldMismatches(event, parsed);
      steps.push(
        mismatches.length === 0
          ? { label: 'The fields shown are the ones in the leaf', status: 'passed', detail: 'id, action, actor, target, outcome, recordedAt and groups match the signed leaf' }
          : { label: 'The fields shown are the ones in the leaf', status: 'failed', detail: mismatches.join('; ') },
      );
    }
  }

  const sameLeaf = proof.leafIndex === event.leafIndex && proof.leafHash === computedLeafHash;
  steps.push(
    sameLeaf
      ? { label: 'The proof is for this event', status: 'passed', detail: `leaf ${proof.leafIndex}, hash ${proof.leafHash}` }
      : { label: 'The proof is for this event', status: 'failed', detail: `the proof is for leaf ${proof.leafIndex} with hash ${proof.leafHash}, not leaf ${event.leafIndex} with hash ${computedLeafHash}` },
  );

  const signature = checkSignature(proof.checkpoint.note, pinned.verifierKey, pinned.origin);
  steps.push(signature.step);
  const checkpoint = signature.checkpoint;

  const label = "The inclusion proof leads to the checkpoint's signed root";
  if (!checkpoint) {
    steps.push({ label, status: 'skipped', detail: 'no verified checkpoint to check against' });
  } else if (checkpoint.treeSize !== proof.treeSize) {
    steps.push({ label, status: 'failed', detail: `tree size mismatch: the proof is for ${proof.treeSize} leaves, the signed checkpoint for ${checkpoint.treeSize}` });
  } else {
    try {
      verifyInclusion({
        leafHash: hexToBytes(computedLeafHash),
        leafIndex: event.leafIndex,
        treeSize: checkpoint.treeSize,
        proof: proof.hashes.map((h) => hexToBytes(h)),
        rootHash: checkpoint.rootHash,
      });
      steps.push({ label, status: 'passed', detail: `${proof.hashes.length} hashes from leaf ${event.leafIndex} to root ${bytesToHex(checkpoint.rootHash)} of ${checkpoint.treeSize} leaves` });
    } catch (err) {
      steps.push({ label, status: 'failed', detail: `root mismatch: ${describe(err)}` });
    }
  }
  return outcomeOf(steps);
}

export interface SeenTree {
  readonly treeSize: number;
  readonly rootHash: string;
}

/**
 * Whether the checkpoint now served extends the one this browser saw last: the current one's
 * signature, then an RFC 9162 consistency proof between the two roots.
 */
export function verifyLogConsistency(
  last: SeenTree | undefined,
  currentNote: string,
  proof: { readonly fromSize: number; readonly toSize: number; readonly hashes: readonly string[] } | undefined,
  pinned: { verifierKey: string; origin?: string },
): Outcome & { checkpoint?: VerifiedCheckpoint } {
  const steps: Step[] = [];
  const signature = checkSignature(currentNote, pinned.verifierKey, pinned.origin);
  steps.push(signature.step);
  const checkpoint = signature.checkpoint;
  const label = 'The log only grew since this browser last saw it';
  if (!checkpoint) {
    steps.push({ label, status: 'skipped', detail: 'the current checkpoint is not verified' });
  } else if (!last) {
    steps.push({ label, status: 'skipped', detail: 'first visit: this checkpoint is remembered for the next check' });
  } else if (checkpoint.treeSize < last.treeSize) {
    steps.push({ label, status: 'failed', detail: `the log shrank: it had ${last.treeSize} leaves, it now claims ${checkpoint.treeSize}` });
  } else if (checkpoint.treeSize === last.treeSize) {
    const root = bytesToHex(checkpoint.rootHash);
    steps.push(
      root === last.rootHash
        ? { label, status: 'passed', detail: `same tree of ${last.treeSize} leaves, same root` }
        : { label, status: 'failed', detail: `root mismatch at ${last.treeSize} leaves: seen ${last.rootHash}, now ${root}` },
    );
  } else if (!proof || proof.fromSize !== last.treeSize || proof.toSize !== checkpoint.treeSize) {
    steps.push({ label, status: 'failed', detail: `no consistency proof from ${last.treeSize} to ${checkpoint.treeSize} leaves was given` });
  } else {
    try {
      verifyConsistency({
        fromSize: last.treeSize,
        toSize: checkpoint.treeSize,
        fromRoot: hexToBytes(last.rootHash),
        toRoot: checkpoint.rootHash,
        proof: proof.hashes.map((h) => hexToBytes(h)),
      });
      steps.push({ label, status: 'passed', detail: `${last.treeSize} → ${checkpoint.treeSize} leaves, ${proof.hashes.length} proof hashes` });
    } catch (err) {
      steps.push({ label, status: 'failed', detail: `consistency mismatch from ${last.treeSize} to ${checkpoint.treeSize} leaves: ${describe(err)}` });
    }
  }
  return { ...outcomeOf(steps), ...(checkpoint && { checkpoint }) };
}

/** One cosignature line of a checkpoint, as the Log page lists it. */
export interface CosignatureRow {
  readonly name: string;
  /** Unix seconds the witness claims, when the line decodes. */
  readonly timestamp?: number;
  /** valid/invalid/absent: checked against a witness key the reader pinned; unverified: no pinned key for it. */
  readonly status: 'valid' | 'invalid' | 'absent' | 'unverified';
}

/**
 * The witness cosignatures on a checkpoint note: every pinned witness (valid, invalid or
 * absent), then every other line shaped like a cosignature (72 bytes after the key ID:
 * time and Ed25519 signature), shown as unverified. The log's own signature (64 bytes)
 * is not a cosignature and is left out. Pinned keys that do not parse are skipped.
 */
export function checkpointCosignatures(note: string, pinnedWitnessKeys: readonly string[]): CosignatureRow[] {
  const pinned = pinnedWitnessKeys.flatMap((k) => {
    try {
      return [parseWitnessKey(k)];
    } catch {
      return [];
    }
  });
  const unique = pinned.filter((w, i) => pinned.findIndex((o) => o.name === w.name && o.keyId === w.keyId) === i);
  let rows: CosignatureRow[];
  let signatures;
  try {
    rows = verifyCosignatures(note, unique).map((c) => ({ name: c.witness.name, status: c.status, ...(c.timestamp !== undefined && { timestamp: c.timestamp }) }));
    signatures = parseNote(note).signatures;
  } catch {
    return [];
  }
  const seen = new Set(unique.map((w) => `${w.name} ${w.keyId}`));
  for (const sig of signatures) {
    const key = `${sig.name} ${sig.keyId}`;
    const decoded = decodeCosignature(sig.signature);
    if (seen.has(key) || decoded === undefined) continue;
    seen.add(key);
    rows.push({ name: sig.name, timestamp: decoded.timestamp, status: 'unverified' });
  }
  return rows;
}

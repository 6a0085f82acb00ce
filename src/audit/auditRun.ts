/**
 * One audit of a ledger from the outside: verify the latest signed checkpoint against the
 * pinned key, prove it extends the checkpoint trusted before, optionally prove that given
 * leaves (or every readable event) are in it, and only then trust it from now on. The
 * decision itself is verdict.ts; this module fetches, verifies signatures and keeps state.
 */
import {
  assertWitnessPolicy,
  bytesToHex,
  hexToBytes,
  type NoteVerifier,
  type Rfc6962Hasher,
  VerificationError,
  verifyCheckpoint,
  verifyInclusion,
  type WitnessPolicy,
  type WitnessPolicyResult,
} from '../verify';
import { AuditStateError, readAuditState, writeAuditState } from './auditState';
import { LogAccessError, type LogClient, type ServedEvent } from './logClient';
import { isRedacted, servedEventOf, servedEventProblem } from './servedEvent';
import { type AuditVerdict, judgeCheckpoints, proofNeeded, type TrustedCheckpoint } from './verdict';

/** The log served a checkpoint that the pinned key does not verify (or for another origin). */
export class CheckpointRejectedError extends Error {
  override readonly name = 'CheckpointRejectedError';
}

/** The caller asked for something the log cannot have, e.g. a leaf beyond its size. */
export class AuditInputError extends Error {
  override readonly name = 'AuditInputError';
}

export interface AuditOptions {
  readonly client: LogClient;
  readonly verifier: NoteVerifier;
  readonly stateFile: string;
  /** Leaf indices whose inclusion to prove. */
  readonly leaves?: readonly number[];
  /** Prove the inclusion of every event the client's key may read. */
  readonly allEvents?: boolean;
  /** Hash functions for the checks (default: the portable ones of `audit-ledger/verify`). */
  readonly hasher?: Rfc6962Hasher;
  /** With allEvents: how far through the log the check is (leaf position, tree size). */
  readonly onProgress?: (position: number, treeSize: number) => void;
  /**
   * Witnesses that must have cosigned the latest checkpoint before it is trusted. A
   * checkpoint that misses the quorum throws WitnessQuorumError (code WITNESS_QUORUM) and is
   * not saved; a contradiction with the saved checkpoint is still reported first, since it is
   * evidence whatever the witnesses say.
   */
  readonly witnessPolicy?: WitnessPolicy;
}

export interface Evidence {
  readonly label: string;
  readonly note: string;
}

export type AuditOutcome =
  | {
      readonly kind: 'consistent';
      readonly verdict: Exclude<AuditVerdict, { kind: 'inconsistent' }>;
      readonly previous: TrustedCheckpoint | undefined;
      readonly current: TrustedCheckpoint;
      readonly leavesProven: number;
      readonly eventsChecked: number;
      /** Of those, events served as redacted: their leaf hashes were proven in the tree, there was no content to check. */
      readonly eventsRedacted: number;
      /** Events served beyond the audited checkpoint, left for the next audit. */
      readonly eventsBeyond: number;
      /** The cosignatures of the current checkpoint, when a witness policy was given. */
      readonly witnesses?: WitnessPolicyResult;
    }
  | {
      readonly kind: 'inconsistent';
      readonly message: string;
      readonly previous: TrustedCheckpoint | undefined;
      readonly current: TrustedCheckpoint;
      /** Signed notes (and other data) that prove the inconsistency to a third party. */
      readonly evidence: readonly Evidence[];
    };

const MAX_LISTED_PROBLEMS = 20;

export async function runAudit(options: AuditOptions): Promise<AuditOutcome> {
  const { client, verifier, stateFile } = options;
  const saved = await readAuditState(stateFile);
  let previous: TrustedCheckpoint | undefined;
  if (saved) {
    try {
      previous = trusted(saved.checkpoint, verifier);
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      throw new AuditStateError(
        `the checkpoint saved in ${stateFile} does not verify with the pinned key (${err.message}); wrong --vkey or --state?`,
      );
    }
  }
  const current = trust(await client.latestCheckpointNote(), verifier, `the latest checkpoint of ${client.url}`);
  const evidenceOf = (extra: Evidence[] = []): Evidence[] => [
    ...(previous ? [{ label: `previous checkpoint (saved in ${stateFile})`, note: previous.note }] : []),
    { label: `current checkpoint (from ${client.url}/checkpoint)`, note: current.note },
    ...extra,
  ];

  const request = proofNeeded(previous, current);
  let proof: Uint8Array[] | undefined;
  if (request) {
    const served = await client.consistencyProof(request.fromSize, request.toSize);
    const proofCheckpoint = trust(served.checkpointNote, verifier, `the checkpoint served with the consistency proof`);
    if (proofCheckpoint.treeSize !== current.treeSize) {
      throw new LogAccessError(`asked for a proof to size ${current.treeSize}, the log answered for size ${proofCheckpoint.treeSize}`);
    }
    // Two signed notes for one size must agree, or the log has forked between two requests.
    const same = judgeCheckpoints(current, proofCheckpoint);
    if (same.kind === 'inconsistent') {
      return {
        kind: 'inconsistent',
        message: same.message,
        previous,
        current,
        evidence: evidenceOf([{ label: 'checkpoint served with the consistency proof', note: proofCheckpoint.note }]),
      };
    }
    proof = served.hashes;
  }
  const verdict = judgeCheckpoints(previous, current, proof);
  if (verdict.kind === 'inconsistent') return { kind: 'inconsistent', message: verdict.message, previous, current, evidence: evidenceOf() };
  // Before any further work: an unwitnessed checkpoint is not trusted, so nothing is proven against it.
  const witnesses = options.witnessPolicy ? assertWitnessPolicy(current.note, options.witnessPolicy) : undefined;

  const problems: string[] = [];
  const leavesProven = await proveLeaves(options, current, problems);
  const events = options.allEvents ? await proveAllEvents(options, current, problems) : { checked: 0, redacted: 0, beyond: 0 };
  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
    if (problems.length > listed.length) listed.push(`… and ${problems.length - listed.length} more`);
    return {
      kind: 'inconsistent',
      message: `the log serves ${problems.length === 1 ? 'an entry' : `${problems.length} entries`} that its signed tree does not contain`,
      previous,
      current,
      evidence: evidenceOf([{ label: 'entries that do not match the signed tree', note: `${listed.join('\n')}\n` }]),
    };
  }

  await writeAuditState(stateFile, {
    checkpoint: current.note,
    url: client.url,
    treeSize: current.treeSize,
    rootHash: bytesToHex(current.rootHash),
    savedAt: new Date().toISOString(),
  });
  return {
    kind: 'consistent',
    verdict,
    previous,
    current,
    leavesProven,
    eventsChecked: events.checked,
    eventsRedacted: events.redacted,
    eventsBeyond: events.beyond,
    ...(witnesses && { witnesses }),
  };
}

function trusted(note: string, verifier: NoteVerifier): TrustedCheckpoint {
  const checkpoint = verifyCheckpoint(note, verifier, { origin: verifier.name });
  return { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, note };
}

function trust(note: string, verifier: NoteVerifier, what: string): TrustedCheckpoint {
  try {
    return trusted(note, verifier);
  } catch (err) {
    if (!(err instanceof VerificationError)) throw err;
    throw new CheckpointRejectedError(`${what} is rejected: ${err.message}`);
  }
}

async function proveLeaves(options: AuditOptions, current: TrustedCheckpoint, problems: string[]): Promise<number> {
  const leaves = [...new Set(options.leaves ?? [])];
  if (leaves.length === 0) return 0;
  const beyond = leaves.filter((i) => i >= current.treeSize);
  if (beyond.length > 0) {
    throw new AuditInputError(`leaf ${beyond.join(', ')} is not below the log's signed size ${current.treeSize}`);
  }
  const proofs = await options.client.inclusionProofs(leaves, current.treeSize);
  for (const p of proofs) {
    const problem = inclusionProblem(p.leafIndex, p.leafHash, p.hashes, current);
    if (problem) problems.push(problem);
  }
  // With a key that may read events, also check that what is served for each leaf is what was hashed.
  if (options.client.hasToken) {
    for (const p of proofs) {
      const event = await options.client.event(p.leafIndex).catch((err: unknown) => {
        if (err instanceof LogAccessError && err.code === 'FORBIDDEN') return null;
        throw err;
      });
      if (!event) continue;
      const problem = servedEventProblem(event) ?? leafHashMismatch(event, p.leafHash);
      if (problem) problems.push(problem);
    }
  }
  return proofs.length;
}

/**
 * Every event the key may read, from one streamed export of the audited tree (so the whole
 * run is one read in the ledger's log): each leaf text must hash to its leaf hash, the fields
 * served must be those in the leaf, the leaf hash must be the one the tree holds, and its
 * inclusion proof must lead to the audited root.
 */
async function proveAllEvents(options: AuditOptions, current: TrustedCheckpoint, problems: string[]): Promise<{ checked: number; redacted: number; beyond: number }> {
  let checked = 0;
  let redacted = 0;
  let beyond = 0;
  options.onProgress?.(0, current.treeSize);
  for await (const batch of options.client.exportedEvents(current.treeSize)) {
    for (const exported of batch) {
      const event = servedEventOf(exported);
      if (event.leafIndex >= current.treeSize) {
        beyond++;
        continue;
      }
      // A redacted event has no content left to check; its leaf hash is still proven below.
      if (isRedacted(event)) redacted++;
      const problem = servedEventProblem(event, options.hasher);
      if (problem) problems.push(problem);
      const proof = exported.inclusionProof;
      if (proof?.treeSize !== current.treeSize) {
        throw new LogAccessError(`the export serves leaf ${event.leafIndex} without an inclusion proof in the audited tree of size ${current.treeSize}`);
      }
      const proofLeafHash = hexOf(proof.leafHash, `the inclusion proof of leaf ${event.leafIndex}`);
      const proofHashes = proof.hashes.map((h) => hexOf(h, `the inclusion proof of leaf ${event.leafIndex}`));
      const mismatch = leafHashMismatch(event, proofLeafHash) ?? inclusionProblem(event.leafIndex, proofLeafHash, proofHashes, current, options.hasher);
      if (mismatch) problems.push(mismatch);
      checked++;
    }
    const last = batch.at(-1);
    if (last) options.onProgress?.(Math.min(last.leafIndex + 1, current.treeSize), current.treeSize);
  }
  options.onProgress?.(current.treeSize, current.treeSize);
  return { checked, redacted, beyond };
}

function inclusionProblem(leafIndex: number, leafHash: Uint8Array, proof: Uint8Array[], current: TrustedCheckpoint, hasher?: Rfc6962Hasher): string | undefined {
  try {
    verifyInclusion({ leafHash, leafIndex, treeSize: current.treeSize, proof, rootHash: current.rootHash }, hasher);
    return undefined;
  } catch (err) {
    if (!(err instanceof VerificationError)) throw err;
    return `leaf ${leafIndex}: its inclusion proof does not lead to the signed root of size ${current.treeSize} (${err.message})`;
  }
}

function leafHashMismatch(event: ServedEvent, proofLeafHash: Uint8Array): string | undefined {
  const proofHex = bytesToHex(proofLeafHash);
  if (proofHex === event.leafHash) return undefined;
  return `leaf ${event.leafIndex}: the event is served with leaf hash ${event.leafHash}, its inclusion proof is for ${proofHex}`;
}

function hexOf(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) throw new LogAccessError(`${what} holds a hash that is not 32 bytes of lowercase hex`);
  return hexToBytes(value);
}

/**
 * Witness cosignatures on checkpoints: C2SP tlog-cosignature `cosignature/v1`
 * (https://c2sp.org/tlog-cosignature), and witness policies that say how many of which
 * witnesses must have cosigned before a client believes a checkpoint.
 *
 * A witness verifier key is `name+hex8+base64(0x04 || Ed25519 public key)`; the key ID is
 * SHA-256(name || 0x0A || 0x04 || public key)[:4], so a witness key never collides with
 * the Ed25519 (0x01) signed-note key of the same name and bytes. A cosignature is an
 * ordinary note signature line whose payload after the key ID is
 * `timestamp (u64, big-endian Unix seconds) || Ed25519 signature`, over
 *
 *   cosignature/v1\ntime <timestamp>\n<checkpoint text>
 *
 * Rules, chosen to agree with golang.org/x/mod/sumdb/note and filippo.io/torchwood:
 * - lines whose (name, key ID) matches no witness in the policy are ignored (the log's own
 *   signature, other witnesses, future signature types);
 * - only the FIRST line per witness key counts, later ones are ignored, so a witness that
 *   appears twice is counted once (Go's note.Open likewise only checks the first);
 * - a line that matches a witness but does not verify makes that witness "invalid" and
 *   does not count. Go's note.Open would reject the whole note instead; reporting it per
 *   witness gives the same security (anyone able to alter the note could as well strip
 *   the line) and a more useful diagnosis;
 * - the cosigned text must be a well-formed checkpoint (torchwood refuses to sign or
 *   verify anything else);
 * - timestamps above Number.MAX_SAFE_INTEGER are invalid (torchwood stops at 2^63 - 1;
 *   both are far beyond any real clock).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64 } from '@scure/base';
import { parseCheckpointBody, verifyCheckpoint, type CheckpointVerificationOptions, type VerifiedCheckpoint } from './checkpoint';
import { VerificationError } from './errors';
import { computeKeyId, formatKeyId, isValidKeyName, parseNote, type NoteSignature, type NoteVerifier } from './note';

/** Signature type byte that C2SP assigns to timestamped Ed25519 cosignatures (cosignature/v1). */
export const COSIGNATURE_V1_TYPE = 0x04;

const ED25519_PUBLIC_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
const TIMESTAMP_SIZE = 8;
/** Bytes of a cosignature after the 4-byte key ID: timestamp || signature. */
export const COSIGNATURE_SIZE = TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE;
const KEY_ID_HEX = /^[0-9a-fA-F]{8}$/;
const POLICY_NAME = /^[A-Za-z0-9._\-/:]+$/;
const THRESHOLD = /^(0|[1-9][0-9]*)$/;

const utf8Encoder = new TextEncoder();

/** A witness's public key, as named by `name+hex8+base64(0x04 || pubkey)`. */
export interface WitnessVerifier {
  readonly name: string;
  /** The key ID as an unsigned 32-bit integer. */
  readonly keyId: number;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The canonical verifier key string (lower-case key ID). */
  readonly verifierKey: string;
  /** Checks an Ed25519 signature over the cosignature/v1 message for this checkpoint text and time. */
  verify(checkpointText: string, timestamp: number, signature: Uint8Array): boolean;
}

/** The payload of a cosignature line after its key ID. */
export interface DecodedCosignature {
  /** Unix seconds at which the witness says it cosigned. */
  readonly timestamp: number;
  readonly signature: Uint8Array;
}

/**
 * valid: the witness's first line verifies; absent: no line from this witness key;
 * invalid: the witness's first line is malformed or does not verify.
 */
export type CosignatureStatus = 'valid' | 'absent' | 'invalid';

export interface WitnessCosignature {
  readonly witness: WitnessVerifier;
  readonly status: CosignatureStatus;
  /** Unix seconds; set when the line decodes (so also for some invalid ones: a claim, not a fact). */
  readonly timestamp?: number;
  /** Why an invalid cosignature was refused. */
  readonly reason?: string;
}

/** A node of a witness policy: one witness, or a group satisfied by `threshold` of its members. */
export type WitnessPolicyNode =
  | { readonly kind: 'witness'; readonly name: string; readonly witness: WitnessVerifier }
  | {
      readonly kind: 'group';
      readonly name: string;
      readonly threshold: number;
      readonly members: readonly WitnessPolicyNode[];
    };

export interface WitnessPolicy {
  /** Every witness key the policy names, each once. */
  readonly witnesses: readonly WitnessVerifier[];
  /** The node that must be satisfied. */
  readonly quorum: WitnessPolicyNode;
}

export interface WitnessPolicyResult {
  readonly satisfied: boolean;
  /** One entry per policy witness, in policy order. */
  readonly cosignatures: readonly WitnessCosignature[];
  /** Newest timestamp among valid cosignatures, if any. */
  readonly newestTimestamp?: number;
  /** Human-readable quorum, e.g. "2 of 3 witnesses". */
  readonly quorum: string;
}

/** Thrown (code WITNESS_QUORUM) when a checkpoint lacks the cosignatures a policy requires. */
export class WitnessQuorumError extends VerificationError {
  readonly result: WitnessPolicyResult;

  constructor(result: WitnessPolicyResult) {
    super('WITNESS_QUORUM', describeQuorumFailure(result));
    this.result = result;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export function formatWitnessKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) {
    throw new VerificationError('MALFORMED_KEY', `invalid key name ${JSON.stringify(name)}`);
  }
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new VerificationError('MALFORMED_KEY', `Ed25519 public key must be ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  }
  const typed = new Uint8Array(1 + ED25519_PUBLIC_KEY_SIZE);
  typed[0] = COSIGNATURE_V1_TYPE;
  typed.set(publicKey, 1);
  return `${name}+${formatKeyId(computeKeyId(name, typed))}+${base64.encode(typed)}`;
}

/** Parses `name+hex8+base64(0x04 || pubkey)` and checks that the key ID matches the key. */
export function parseWitnessKey(verifierKey: string): WitnessVerifier {
  // The base64 part may itself contain '+', so only the first two separate fields.
  const [name, afterName] = chop(verifierKey, '+');
  const [keyIdHex, keyBase64] = chop(afterName, '+');
  if (!isValidKeyName(name) || !KEY_ID_HEX.test(keyIdHex)) {
    throw new VerificationError('MALFORMED_KEY', 'witness key must have the form name+hex8+base64key');
  }
  let typed: Uint8Array;
  try {
    typed = base64.decode(keyBase64);
  } catch {
    throw new VerificationError('MALFORMED_KEY', 'witness key data is not canonical base64');
  }
  if (typed[0] !== COSIGNATURE_V1_TYPE) {
    const type = typed[0] === undefined ? 'missing' : `0x${typed[0].toString(16).padStart(2, '0')}`;
    const hint = typed[0] === 0x01 ? ' (an Ed25519 note key, as logs use, not a cosignature/v1 witness key)' : '';
    throw new VerificationError('MALFORMED_KEY', `witness key type is ${type}${hint}; cosignature/v1 keys have type 0x04`);
  }
  if (typed.length !== 1 + ED25519_PUBLIC_KEY_SIZE) {
    throw new VerificationError('MALFORMED_KEY', `Ed25519 witness key must be ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  }
  const keyId = parseInt(keyIdHex, 16);
  if (keyId !== computeKeyId(name, typed)) {
    throw new VerificationError('MALFORMED_KEY', 'witness key ID does not match its name and public key');
  }
  const publicKey = typed.slice(1);
  return {
    name,
    keyId,
    publicKey,
    verifierKey: `${name}+${formatKeyId(keyId)}+${keyBase64}`,
    verify(checkpointText: string, timestamp: number, signature: Uint8Array): boolean {
      if (signature.length !== ED25519_SIGNATURE_SIZE || !Number.isSafeInteger(timestamp) || timestamp < 0) return false;
      try {
        return ed25519.verify(signature, cosignatureMessage(checkpointText, timestamp), publicKey, { zip215: false });
      } catch {
        // noble throws on undecodable points; for a verifier that is simply "invalid".
        return false;
      }
    },
  };
}

/** The bytes a witness signs: "cosignature/v1\ntime <timestamp>\n" || checkpoint text. */
export function cosignatureMessage(checkpointText: string, timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new VerificationError('INVALID_ARGUMENT', `cosignature timestamp must be a non-negative safe integer, got ${String(timestamp)}`);
  }
  return utf8Encoder.encode(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`);
}

/** The note-signature payload after the key ID: timestamp (u64 big-endian) || signature. */
export function encodeCosignature(cosignature: DecodedCosignature): Uint8Array {
  const { timestamp, signature } = cosignature;
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new VerificationError('INVALID_ARGUMENT', `cosignature timestamp must be a non-negative safe integer, got ${String(timestamp)}`);
  }
  if (signature.length !== ED25519_SIGNATURE_SIZE) {
    throw new VerificationError('INVALID_ARGUMENT', `Ed25519 signature must be ${ED25519_SIGNATURE_SIZE} bytes`);
  }
  const bytes = new Uint8Array(COSIGNATURE_SIZE);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(timestamp), false);
  bytes.set(signature, TIMESTAMP_SIZE);
  return bytes;
}

/** Splits a cosignature payload (after the key ID); undefined if it is not 72 bytes or its time is out of range. */
export function decodeCosignature(payload: Uint8Array): DecodedCosignature | undefined {
  if (payload.length !== COSIGNATURE_SIZE) return undefined;
  const time = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getBigUint64(0, false);
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { timestamp: Number(time), signature: payload.slice(TIMESTAMP_SIZE) };
}

/** The note signature for a cosignature, ready for formatSignatureLine. */
export function cosignatureNoteSignature(witness: Pick<WitnessVerifier, 'name' | 'keyId'>, cosignature: DecodedCosignature): NoteSignature {
  return { name: witness.name, keyId: witness.keyId, signature: encodeCosignature(cosignature) };
}

/**
 * Checks the cosignatures in a signed checkpoint note against the given witness keys,
 * one result per key in the given order. Does NOT check the log's own signature (use
 * verifyCheckpoint or verifyCosignedCheckpoint for that).
 */
export function verifyCosignatures(
  note: string | Uint8Array,
  witnesses: readonly (WitnessVerifier | string)[],
): WitnessCosignature[] {
  const verifiers = uniqueWitnesses(witnesses.map(toWitness));
  const { text, signatures } = parseNote(note);
  // torchwood refuses to cosign or verify anything but a checkpoint; so do we.
  parseCheckpointBody(text);

  const firstLine = new Map<string, NoteSignature>();
  for (const sig of signatures) {
    const key = indexKey(sig.name, sig.keyId);
    if (!firstLine.has(key)) firstLine.set(key, sig);
  }
  return verifiers.map((witness): WitnessCosignature => {
    const sig = firstLine.get(indexKey(witness.name, witness.keyId));
    if (sig === undefined) return { witness, status: 'absent' };
    const decoded = decodeCosignature(sig.signature);
    if (decoded === undefined) {
      return { witness, status: 'invalid', reason: `cosignature must be ${4 + COSIGNATURE_SIZE} bytes with a timestamp below 2^53` };
    }
    if (!witness.verify(text, decoded.timestamp, decoded.signature)) {
      return { witness, status: 'invalid', timestamp: decoded.timestamp, reason: 'signature does not verify' };
    }
    return { witness, status: 'valid', timestamp: decoded.timestamp };
  });
}

/** A policy that needs valid cosignatures from `quorum` of the given witnesses (0 only reports). */
export function createWitnessPolicy(witnesses: readonly (WitnessVerifier | string)[], quorum: number): WitnessPolicy {
  const verifiers = uniqueWitnesses(witnesses.map(toWitness));
  if (!Number.isSafeInteger(quorum) || quorum < 0 || quorum > verifiers.length) {
    throw new VerificationError(
      'INVALID_ARGUMENT',
      `witness quorum must be an integer from 0 to the number of witnesses (${verifiers.length}), got ${String(quorum)}`,
    );
  }
  return {
    witnesses: verifiers,
    quorum: {
      kind: 'group',
      name: 'quorum',
      threshold: quorum,
      members: verifiers.map((w) => ({ kind: 'witness', name: w.name, witness: w })),
    },
  };
}

/**
 * Parses a witness policy file in the Sigsum policy style, with C2SP verifier keys:
 *
 *   # comment
 *   witness NAME VKEY [URL]
 *   group NAME all|any|K MEMBER...
 *   quorum NAME|none
 *
 * NAME is a local alias; members must be defined above their group; exactly one quorum
 * line. torchwood v0.6.1 has no policy parser to follow, so this takes Sigsum's grammar
 * (where keys are hex) and C2SP key strings, as the later C2SP policy drafts do.
 */
export function parseWitnessPolicy(text: string): WitnessPolicy {
  const nodes = new Map<string, WitnessPolicyNode>();
  const witnesses: WitnessVerifier[] = [];
  let quorum: WitnessPolicyNode | undefined;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const fail = (why: string): never => {
      throw new VerificationError('MALFORMED_WITNESS_POLICY', `witness policy line ${i + 1}: ${why}`);
    };
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const [keyword, ...args] = line.split(/[ \t]+/);
    const defineName = (name: string | undefined): string => {
      if (name === undefined || !POLICY_NAME.test(name)) fail(`bad name ${JSON.stringify(name ?? '')}`);
      if (nodes.has(name as string)) fail(`${name as string} is defined twice`);
      if (name === 'none') fail('"none" is reserved');
      return name as string;
    };
    switch (keyword) {
      case 'witness': {
        if (args.length < 2 || args.length > 3) fail('expected: witness NAME VKEY [URL]');
        const name = defineName(args[0]);
        let witness: WitnessVerifier;
        try {
          witness = parseWitnessKey(args[1] as string);
        } catch (err) {
          return fail(err instanceof Error ? err.message : String(err));
        }
        if (witnesses.some((w) => w.name === witness.name && w.keyId === witness.keyId)) fail(`key of ${name} is listed twice`);
        witnesses.push(witness);
        nodes.set(name, { kind: 'witness', name, witness });
        return;
      }
      case 'group': {
        if (args.length < 3) fail('expected: group NAME all|any|K MEMBER...');
        const name = defineName(args[0]);
        const memberNames = args.slice(2);
        if (new Set(memberNames).size !== memberNames.length) fail(`group ${name} lists a member twice`);
        const members = memberNames.map((m) => nodes.get(m) ?? fail(`group ${name}: ${m} is not defined above`));
        const spec = args[1] as string;
        const threshold = spec === 'all' ? members.length : spec === 'any' ? 1 : THRESHOLD.test(spec) ? Number(spec) : NaN;
        if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > members.length) {
          fail(`group ${name}: threshold must be all, any or 1..${members.length}`);
        }
        nodes.set(name, { kind: 'group', name, threshold, members });
        return;
      }
      case 'quorum': {
        if (args.length !== 1) fail('expected: quorum NAME|none');
        if (quorum !== undefined) fail('more than one quorum line');
        quorum =
          args[0] === 'none'
            ? { kind: 'group', name: 'none', threshold: 0, members: [] }
            : (nodes.get(args[0] as string) ?? fail(`quorum ${args[0] as string} is not defined above`));
        return;
      }
      default:
        fail(`unknown keyword ${JSON.stringify(keyword)} (expected witness, group or quorum)`);
    }
  });
  if (quorum === undefined) {
    throw new VerificationError('MALFORMED_WITNESS_POLICY', 'witness policy has no quorum line');
  }
  return { witnesses, quorum };
}

/** Checks a checkpoint note's cosignatures against a policy; reports, never throws for a missed quorum. */
export function evaluateWitnessPolicy(note: string | Uint8Array, policy: WitnessPolicy): WitnessPolicyResult {
  const cosignatures = verifyCosignatures(note, policy.witnesses);
  const valid = new Set(cosignatures.filter((c) => c.status === 'valid').map((c) => c.witness));
  const timestamps = cosignatures.filter((c) => c.status === 'valid').map((c) => c.timestamp as number);
  const newestTimestamp = timestamps.length === 0 ? undefined : Math.max(...timestamps);
  return {
    satisfied: satisfies(policy.quorum, valid),
    cosignatures,
    quorum: describeWitnessPolicy(policy),
    ...(newestTimestamp === undefined ? {} : { newestTimestamp }),
  };
}

/** As evaluateWitnessPolicy, but throws WitnessQuorumError (code WITNESS_QUORUM) if the policy is not met. */
export function assertWitnessPolicy(note: string | Uint8Array, policy: WitnessPolicy): WitnessPolicyResult {
  const result = evaluateWitnessPolicy(note, policy);
  if (!result.satisfied) throw new WitnessQuorumError(result);
  return result;
}

export interface CosignedCheckpoint extends VerifiedCheckpoint {
  readonly witnesses: WitnessPolicyResult;
}

/** verifyCheckpoint with the log's key, then assertWitnessPolicy. */
export function verifyCosignedCheckpoint(
  noteText: string | Uint8Array,
  logKey: string | NoteVerifier,
  policy: WitnessPolicy,
  options: CheckpointVerificationOptions = {},
): CosignedCheckpoint {
  const checkpoint = verifyCheckpoint(noteText, logKey, options);
  return { ...checkpoint, witnesses: assertWitnessPolicy(noteText, policy) };
}

/** "2 of 3 witnesses", or for a policy file the quorum node, e.g. "group eu (all of 2)". */
export function describeWitnessPolicy(policy: WitnessPolicy): string {
  const q = policy.quorum;
  if (q.kind === 'witness') return `witness ${q.name}`;
  if (q.threshold === 0) return 'none required';
  const flat = q.members.every((m) => m.kind === 'witness') && q.members.length === policy.witnesses.length;
  if (flat && q.name === 'quorum') return `${q.threshold} of ${q.members.length} witnesses`;
  return `group ${q.name} (${q.threshold} of ${q.members.length})`;
}

/** "w1 cosigned at 2026-01-02T03:04:05Z", one clause per witness. */
export function describeCosignature(c: WitnessCosignature): string {
  const at = c.timestamp === undefined ? '' : ` at ${formatUnixTime(c.timestamp)}`;
  switch (c.status) {
    case 'valid':
      return `${c.witness.name} cosigned${at}`;
    case 'absent':
      return `${c.witness.name} did not cosign`;
    case 'invalid':
      return `${c.witness.name} has an invalid cosignature${at} (${c.reason ?? 'does not verify'})`;
  }
}

function describeQuorumFailure(result: WitnessPolicyResult): string {
  const valid = result.cosignatures.filter((c) => c.status === 'valid');
  const missing = result.cosignatures.filter((c) => c.status === 'absent').map((c) => c.witness.name);
  const invalid = result.cosignatures.filter((c) => c.status === 'invalid').map((c) => `${c.witness.name} (${c.reason ?? 'invalid'})`);
  const parts = [
    `checkpoint does not satisfy the witness policy (${result.quorum}): ${valid.length} valid cosignature${valid.length === 1 ? '' : 's'}` +
      (valid.length === 0 ? '' : ` (${valid.map((c) => c.witness.name).join(', ')})`),
  ];
  if (missing.length > 0) parts.push(`missing: ${missing.join(', ')}`);
  if (invalid.length > 0) parts.push(`invalid: ${invalid.join(', ')}`);
  return parts.join('; ');
}

function satisfies(node: WitnessPolicyNode, valid: ReadonlySet<WitnessVerifier>): boolean {
  if (node.kind === 'witness') return valid.has(node.witness);
  let count = 0;
  for (const member of node.members) if (satisfies(member, valid)) count++;
  return count >= node.threshold;
}

function formatUnixTime(seconds: number): string {
  const ms = seconds * 1000;
  return Number.isSafeInteger(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString().replace('.000Z', 'Z') : `${seconds}s`;
}

function toWitness(w: WitnessVerifier | string): WitnessVerifier {
  return typeof w === 'string' ? parseWitnessKey(w) : w;
}

function uniqueWitnesses(witnesses: readonly WitnessVerifier[]): WitnessVerifier[] {
  const seen = new Set<string>();
  for (const w of witnesses) {
    const key = indexKey(w.name, w.keyId);
    if (seen.has(key)) {
      throw new VerificationError('INVALID_ARGUMENT', `witness key ${w.name}+${formatKeyId(w.keyId)} is listed twice`);
    }
    seen.add(key);
  }
  return [...witnesses];
}

/** Go's strings.Cut without the found flag: everything after the first sep, or "" if none. */
function chop(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

function indexKey(name: string, keyId: number): string {
  // Names cannot contain spaces, so the pair is unambiguous.
  return `${name} ${keyId}`;
}

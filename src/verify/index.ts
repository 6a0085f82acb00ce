/**
 * audit-ledger/verify: the client-side verifier for the audit ledger's transparency log.
 * Isomorphic (Node >= 20 and browsers): no Node built-ins, only @noble and @scure.
 *
 * Typical use: verify a checkpoint with the log's verifier key, then check inclusion
 * proofs against its root and consistency proofs between successive checkpoints.
 */
export { VerificationError, type VerificationErrorCode } from './errors';
export { HASH_SIZE, emptyRoot, leafHash, nodeHash, rfc6962, type Rfc6962Hasher } from './rfc6962';
export {
  rootFromInclusionProof,
  verifyInclusion,
  type InclusionProofInput,
  type InclusionVerificationInput,
} from './inclusion';
export { verifyConsistency, type ConsistencyVerificationInput } from './consistency';
export {
  ED25519_SIGNATURE_TYPE,
  MAX_NOTE_SIGNATURES,
  computeKeyId,
  formatKeyId,
  formatSignatureLine,
  formatVerifierKey,
  isValidKeyName,
  parseNote,
  parseVerifierKey,
  verifyNote,
  type Note,
  type NoteSignature,
  type NoteVerifier,
  type VerifiedNote,
} from './note';
export {
  formatCheckpointBody,
  parseCheckpoint,
  parseCheckpointBody,
  verifyCheckpoint,
  type Checkpoint,
  type CheckpointBody,
  type CheckpointBodyInput,
  type CheckpointVerificationOptions,
  type VerifiedCheckpoint,
} from './checkpoint';
export {
  COSIGNATURE_SIZE,
  COSIGNATURE_V1_TYPE,
  WitnessQuorumError,
  assertWitnessPolicy,
  cosignatureMessage,
  cosignatureNoteSignature,
  createWitnessPolicy,
  decodeCosignature,
  describeCosignature,
  describeWitnessPolicy,
  encodeCosignature,
  evaluateWitnessPolicy,
  formatWitnessKey,
  parseWitnessKey,
  parseWitnessPolicy,
  verifyCosignatures,
  verifyCosignedCheckpoint,
  type CosignatureStatus,
  type CosignedCheckpoint,
  type DecodedCosignature,
  type WitnessCosignature,
  type WitnessPolicy,
  type WitnessPolicyNode,
  type WitnessPolicyResult,
  type WitnessVerifier,
} from './cosignature';
// Proof hashes travel as hex in the GraphQL API.
export { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

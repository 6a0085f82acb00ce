/**
 * Throughput of the verifiable-log core: hashing, proof generation and verification,
 * frontier appends and checkpoint signatures. Run with `npm run bench:core`.
 *
 * Proofs are generated from a synthetic store in which every leaf has the same hash, so
 * every perfect subtree of a level has the same, precomputed hash: node reads cost a
 * lookup, any tree size up to 2^53 is possible, and the proofs genuinely verify against
 * the tree's root. Numbers therefore measure the core's CPU cost, not a database.
 */
import { createHash, createPrivateKey, createPublicKey, hash, sign, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { generateSignerKey, parseSignerKey, signCheckpoint } from '../src/checkpoint/signer';
import { CompactRange } from '../src/merkle/compactRange';
import { nodeCryptoRfc6962 } from '../src/merkle/nodeHasher';
import { consistencyProof, inclusionProof, rootFromNodes, rootNodes, type SubtreeReader } from '../src/merkle/proof';
import { formatCheckpointBody, verifyCheckpoint } from '../src/verify/checkpoint';
import { verifyConsistency } from '../src/verify/consistency';
import { verifyInclusion } from '../src/verify/inclusion';
import { parseVerifierKey } from '../src/verify/note';
import { rfc6962, type Rfc6962Hasher } from '../src/verify/rfc6962';

const MIN_SECONDS = Number(process.env.BENCH_SECONDS ?? '0.6');
const rows: Array<[string, string, string]> = [];

function record(name: string, opsPerSecond: number, note = ''): void {
  rows.push([name, Math.round(opsPerSecond).toLocaleString('en-US'), note]);
  process.stderr.write(`${name}: ${Math.round(opsPerSecond)}/s\n`);
}

/** Runs fn in growing batches until MIN_SECONDS have passed; returns operations per second. */
function measure(fn: (iterations: number) => void, opsPerCall = 1): number {
  if (opsPerCall === 1) fn(1000); // warm-up; batch benchmarks warm up in their first round
  let iterations = 1;
  for (;;) {
    const start = performance.now();
    fn(iterations);
    const seconds = (performance.now() - start) / 1000;
    if (seconds >= MIN_SECONDS) return (iterations * opsPerCall) / seconds;
    iterations = Math.ceil(iterations * Math.min(10, Math.max(2, (MIN_SECONDS * 1.2) / Math.max(seconds, 1e-6))));
  }
}

async function measureAsync(fn: (iterations: number) => Promise<void>): Promise<number> {
  await fn(1000);
  let iterations = 1;
  for (;;) {
    const start = performance.now();
    await fn(iterations);
    const seconds = (performance.now() - start) / 1000;
    if (seconds >= MIN_SECONDS) return iterations / seconds;
    iterations = Math.ceil(iterations * Math.min(10, Math.max(2, (MIN_SECONDS * 1.2) / Math.max(seconds, 1e-6))));
  }
}

/** Deterministic pseudo-random indices, so runs are comparable. */
function* positions(seed: number): Generator<number, never> {
  let x = seed >>> 0 || 1;
  for (;;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield (x >>> 0) / 2 ** 32;
  }
}

function benchHashing(): void {
  const input = new Uint8Array(64).fill(7);
  const buffer = Buffer.from(input);
  record('SHA-256, 64-byte input: node:crypto hash()', measure((n) => { for (let i = 0; i < n; i++) hash('sha256', buffer, 'buffer'); }));
  record('SHA-256, 64-byte input: node:crypto createHash()', measure((n) => { for (let i = 0; i < n; i++) createHash('sha256').update(buffer).digest(); }));
  record('SHA-256, 64-byte input: @noble/hashes', measure((n) => { for (let i = 0; i < n; i++) sha256(input); }));
  const left = rfc6962.leafHash(input);
  const right = rfc6962.leafHash(left);
  for (const [name, hasher] of [['nodeCryptoRfc6962', nodeCryptoRfc6962], ['rfc6962 (noble)', rfc6962]] as const) {
    record(`RFC 6962 nodeHash (65-byte input): ${name}`, measure((n) => { for (let i = 0; i < n; i++) hasher.nodeHash(left, right); }));
  }
}

const levelHashes: Uint8Array[] = [nodeCryptoRfc6962.leafHash(new TextEncoder().encode('synthetic leaf'))];
for (let level = 1; level <= 53; level++) {
  const below = levelHashes[level - 1] as Uint8Array;
  levelHashes.push(nodeCryptoRfc6962.nodeHash(below, below));
}
const syntheticReader: SubtreeReader = {
  async readNodes(ids) {
    return ids.map((id) => levelHashes[id.level] as Uint8Array);
  },
};
const syntheticRoot = (size: number, hasher: Rfc6962Hasher): Uint8Array =>
  rootFromNodes(rootNodes(size).map((id) => levelHashes[id.level] as Uint8Array), hasher);

async function benchProofs(): Promise<void> {
  for (const size of [1e3, 1e6, 1e9]) {
    const label = `n=10^${Math.log10(size)}`;
    const root = syntheticRoot(size, nodeCryptoRfc6962);
    const random = positions(size);

    // Pre-generate a pool of proofs so verification timing excludes generation.
    const inclusions: Array<{ index: number; proof: Uint8Array[] }> = [];
    for (let i = 0; i < 256; i++) {
      const index = Math.floor(random.next().value * size);
      inclusions.push({ index, proof: await inclusionProof(syntheticReader, index, size, nodeCryptoRfc6962) });
    }
    const consistencies: Array<{ from: number; fromRoot: Uint8Array; proof: Uint8Array[] }> = [];
    for (let i = 0; i < 256; i++) {
      const from = 1 + Math.floor(random.next().value * (size - 1));
      consistencies.push({ from, fromRoot: syntheticRoot(from, rfc6962), proof: await consistencyProof(syntheticReader, from, size, nodeCryptoRfc6962) });
    }
    const meanLength = inclusions.reduce((s, p) => s + p.proof.length, 0) / inclusions.length;

    record(`inclusion proof generation, ${label}`, await measureAsync(async (n) => {
      for (let i = 0; i < n; i++) await inclusionProof(syntheticReader, Math.floor(random.next().value * size), size, nodeCryptoRfc6962);
    }), `node:crypto; mean proof length ${meanLength.toFixed(1)}`);
    record(`inclusion proof verification, ${label}`, measure((n) => {
      for (let i = 0; i < n; i++) {
        const { index, proof } = inclusions[i & 255] as { index: number; proof: Uint8Array[] };
        verifyInclusion({ leafHash: levelHashes[0] as Uint8Array, leafIndex: index, treeSize: size, proof, rootHash: root });
      }
    }), 'noble (client library)');
    record(`consistency proof generation, ${label}`, await measureAsync(async (n) => {
      for (let i = 0; i < n; i++) await consistencyProof(syntheticReader, 1 + Math.floor(random.next().value * (size - 1)), size, nodeCryptoRfc6962);
    }), 'node:crypto');
    record(`consistency proof verification, ${label}`, measure((n) => {
      for (let i = 0; i < n; i++) {
        const { from, fromRoot, proof } = consistencies[i & 255] as { from: number; fromRoot: Uint8Array; proof: Uint8Array[] };
        verifyConsistency({ fromSize: from, toSize: size, fromRoot, toRoot: root, proof });
      }
    }), 'noble (client library)');
  }
}

function benchAppend(): void {
  const batch = 1 << 18;
  const leaves = Array.from({ length: batch }, (_, i) => nodeCryptoRfc6962.leafHash(new TextEncoder().encode(`leaf ${i}`)));
  for (const [name, hasher] of [['node:crypto', nodeCryptoRfc6962], ['noble', rfc6962]] as const) {
    record(`CompactRange.append, batches of 2^18 leaves: ${name}`, measure((n) => {
      for (let i = 0; i < n; i++) CompactRange.empty().append(leaves, hasher);
    }, batch), 'leaves/s');
  }
  let visited = 0;
  record('CompactRange.append with visitor, 2^18 leaves: node:crypto', measure((n) => {
    for (let i = 0; i < n; i++) CompactRange.empty().append(leaves, nodeCryptoRfc6962, () => { visited++; });
  }, batch), 'leaves/s (visitor sees ~2 nodes per leaf)');
  const small = leaves.slice(0, 64);
  record('CompactRange.append, batches of 64 onto a 10^9 tree: node:crypto', measure((n) => {
    const range = CompactRange.fromNodes(1e9, rootNodes(1e9).map((id) => levelHashes[id.level] as Uint8Array));
    for (let i = 0; i < n; i++) range.append(small, nodeCryptoRfc6962);
  }, small.length), 'leaves/s');
  if (visited === 0) throw new Error('visitor never called');
}

function benchSignatures(): void {
  const keys = generateSignerKey('bench.example.com/log');
  const signer = parseSignerKey(keys.signerKey);
  const seed = Buffer.from(keys.signerKey.split('+').slice(4).join('+'), 'base64').subarray(1);
  const body = { origin: 'bench.example.com/log', treeSize: 123_456_789, rootHash: levelHashes[7] as Uint8Array };
  const message = new TextEncoder().encode(formatCheckpointBody(body));

  record('Ed25519 checkpoint signing: node:crypto (signCheckpoint)', measure((n) => { for (let i = 0; i < n; i++) signCheckpoint(body, signer); }));
  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  record('Ed25519 signing (raw): node:crypto', measure((n) => { for (let i = 0; i < n; i++) sign(null, message, privateKey); }));
  record('Ed25519 signing (raw): @noble/curves', measure((n) => { for (let i = 0; i < n; i++) ed25519.sign(message, seed); }));

  const note = signCheckpoint(body, signer);
  const verifier = parseVerifierKey(keys.verifierKey);
  record('checkpoint verification: verifyCheckpoint (noble, parsed key)', measure((n) => { for (let i = 0; i < n; i++) verifyCheckpoint(note, verifier); }));
  record('checkpoint verification: verifyCheckpoint (key string)', measure((n) => { for (let i = 0; i < n; i++) verifyCheckpoint(note, keys.verifierKey); }));
  const signature = signer.sign(message);
  const publicKey = createPublicKey(privateKey);
  record('Ed25519 verification (raw): node:crypto', measure((n) => { for (let i = 0; i < n; i++) nodeVerify(null, message, publicKey, signature); }));
  record('Ed25519 verification (raw): @noble/curves', measure((n) => { for (let i = 0; i < n; i++) ed25519.verify(signature, message, signer.publicKey, { zip215: false }); }));
}

async function main(): Promise<void> {
  benchHashing();
  await benchProofs();
  benchAppend();
  benchSignatures();

  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length), ['Benchmark', 'ops/s', 'Notes'][c]!.length));
  const line = (cells: readonly string[]): string =>
    `| ${cells[0]!.padEnd(widths[0]!)} | ${cells[1]!.padStart(widths[1]!)} | ${cells[2]!.padEnd(widths[2]!)} |`;
  console.log(`\nNode ${process.version}, ${process.platform}/${process.arch}, ${MIN_SECONDS}s per measurement\n`);
  console.log(line(['Benchmark', 'ops/s', 'Notes']));
  console.log(`|${widths.map((w, i) => (i === 1 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

import pino from 'pino';
import { signCheckpoint, generateSignerKey } from '../../src/checkpoint/signer';
import type { WitnessingConfig } from '../../src/config';
import type { CosignatureRepository, LogHeadRepository, SignedCheckpoint, StoredCosignature } from '../../src/storage/port';
import { verifyCosignatures } from '../../src/verify/cosignature';
import { parseNote } from '../../src/verify/note';
import type { FetchLike } from '../../src/witness/witnessClient';
import { type WitnessOutcomeLabel, Witnessing, WitnessQuorumNotMetError } from '../../src/witness/witnessing';
import { createTestCosigner, type TestCosigner } from '../support/testCosigner';

const logger = pino({ level: 'silent' });
const log = generateSignerKey('log.test/w');

function checkpoint(treeSize: number): SignedCheckpoint {
  const rootHash = new Uint8Array(32).fill(treeSize);
  return { treeSize, rootHash: Buffer.from(rootHash).toString('hex'), note: signCheckpoint({ origin: 'log.test/w', treeSize, rootHash }, log.signerKey), createdAt: new Date() };
}

/** A tlog-witness in memory: its size of our log, 409 on a wrong old size, its cosignature otherwise. */
class FakeWitness {
  size: number;
  down = false;
  readonly requests: string[] = [];
  constructor(
    readonly cosigner: TestCosigner,
    size = 0,
    private readonly signWith: TestCosigner = cosigner,
  ) {
    this.size = size;
  }
  readonly fetch: FetchLike = async (_url, init) => {
    this.requests.push(init.body);
    if (this.down) throw new TypeError('fetch failed');
    const old = Number(/^old (\d+)\n/.exec(init.body)![1]);
    const note = init.body.slice(init.body.indexOf('\n\n') + 2);
    const { text } = parseNote(note);
    if (old !== this.size) return { status: 409, text: async () => `${this.size}\n` };
    this.size = Number(text.split('\n')[1]);
    return { status: 200, text: async () => this.signWith.line(text, Math.floor(Date.now() / 1000)) };
  };
}

function setup(witness: FakeWitness, overrides: Partial<WitnessingConfig> = {}) {
  let head = checkpoint(9);
  const stored: StoredCosignature[] = [];
  const proofs: [number, number][] = [];
  const outcomes: WitnessOutcomeLabel[] = [];
  const headRepo = { read: async () => ({ checkpoint: head, lastRecordedAt: 0, pending: null }) } as unknown as LogHeadRepository;
  const cosignatures: CosignatureRepository = {
    save: async (c) => void stored.push(c),
    forTreeSize: async (size) => stored.filter((c) => c.treeSize === size),
  };
  const witnessing = new Witnessing({
    config: {
      witnesses: [{ name: witness.cosigner.name, verifierKey: witness.cosigner.verifierKey, url: 'http://witness.invalid' }],
      quorum: 1,
      waitForQuorum: true,
      waitTimeoutMs: 5000,
      republishIntervalMs: 0,
      requestTimeoutMs: 1000,
      ...overrides,
    },
    head: headRepo,
    cosignatures,
    consistencyProof: async (from, to) => {
      proofs.push([from, to]);
      return [new Uint8Array(32).fill(from), new Uint8Array(32).fill(to)];
    },
    logger,
    metrics: { witnessRequest: (_w, outcome) => outcomes.push(outcome), witnessCosigned: () => undefined },
    fetch: witness.fetch,
  });
  return { witnessing, stored, proofs, outcomes, setHead: (c: SignedCheckpoint) => (head = c) };
}

async function until(what: string, check: () => boolean, withinMs = 20_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('witnessing', () => {
  const cosigner = createTestCosigner('witness.test/a', 'witnessing-a');

  it('learns the witness size from a 409, retries with a proof from it, and publishes the cosignature', async () => {
    const witness = new FakeWitness(cosigner, 5);
    const { witnessing, stored, proofs, outcomes } = setup(witness);
    witnessing.start();
    await until('a stored cosignature', () => stored.length === 1);
    await witnessing.stop();
    expect(witness.requests.map((r) => r.split('\n')[0])).toEqual(['old 0', 'old 5']);
    expect(proofs).toEqual([[5, 9]]);
    expect(outcomes).toEqual(['conflict', 'cosigned']);
    const published = await witnessing.published(checkpoint(9));
    expect(verifyCosignatures(published.note, [cosigner.verifierKey])[0]!.status).toBe('valid');
    const older = checkpoint(8);
    expect(await witnessing.published(older)).toBe(older);
  });

  it('sends a newer head with a proof from the size it cosigned, and answers a waiting receipt', async () => {
    const witness = new FakeWitness(cosigner, 0);
    const { witnessing, stored, proofs, setHead } = setup(witness);
    witnessing.start();
    await until('the first cosignature', () => stored.length === 1);
    setHead(checkpoint(12));
    const cosigned = await witnessing.quorumCheckpoint(11);
    await witnessing.stop();
    expect(cosigned.treeSize).toBe(12);
    expect(verifyCosignatures(cosigned.note, [cosigner.verifierKey])[0]!.status).toBe('valid');
    expect(proofs).toEqual([[9, 12]]);
  });

  it('keeps no cosignature by another key, and counts the refusal', async () => {
    const witness = new FakeWitness(cosigner, 0, createTestCosigner('witness.test/a', 'impostor'));
    const { witnessing, stored, outcomes } = setup(witness);
    witnessing.start();
    await until('the refusal', () => outcomes.includes('refused'));
    await witnessing.stop();
    expect(stored).toEqual([]);
  });

  it('backs off from a witness that is down, tries again, and fails a waiting receipt with WITNESS_QUORUM_NOT_MET', async () => {
    const witness = new FakeWitness(cosigner, 0);
    witness.down = true;
    const { witnessing, outcomes } = setup(witness, { waitTimeoutMs: 50 });
    witnessing.start();
    const waited = witnessing.quorumCheckpoint(9).catch((err: unknown) => err);
    await until('the first failure', () => outcomes.length >= 1);
    const err = await waited;
    expect(err).toBeInstanceOf(WitnessQuorumNotMetError);
    expect((err as WitnessQuorumNotMetError).code).toBe('WITNESS_QUORUM_NOT_MET');
    expect((err as Error).message).toMatch(/the event is recorded, but 1 of 1 witness cosignatures/);
    // Back in service: the back-off timer tries again without a new checkpoint. It doubles from
    // 1 s with each failure, and a loaded machine may have let several happen by now: wait for
    // the longest back-off those failures can have set, with the usual margin on top.
    witness.down = false;
    const failures = outcomes.filter((o) => o !== 'cosigned').length;
    await until('the retry to succeed', () => outcomes.includes('cosigned'), 20_000 + 1000 * 2 ** Math.min(failures, 8));
    await witnessing.stop();
    expect(outcomes[0]).toBe('unreachable');
  }, 330_000);
});

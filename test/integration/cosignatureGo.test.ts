/**
 * Witness cosignatures checked both ways against Go code we did not write:
 * filippo.io/torchwood v0.6.1's CosignatureSigner/CosignatureVerifier inside
 * golang.org/x/mod/sumdb/note (test/interop/cosignature).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSignerKey, signCheckpoint } from '../../src/checkpoint/signer';
import { createWitnessPolicy, evaluateWitnessPolicy, parseWitnessKey, verifyCosignedCheckpoint } from '../../src/verify';
import { buildGoTool, describeWithGo } from '../support/goTools';
import { createTestCosigner } from '../support/testCosigner';

interface GoRun {
  code: number;
  stdout: string;
  stderr: string;
}

describeWithGo('cosignatures interoperate with torchwood (Go)', () => {
  let tool: string;
  let dir: string;
  const log = generateSignerKey('audit.example/log');
  const checkpoint = (treeSize: number, extensions: string[] = []) =>
    signCheckpoint({ origin: 'audit.example/log', treeSize, rootHash: createHash('sha256').update(String(treeSize)).digest(), extensions }, log.signerKey);

  const go = (args: string[], input?: string): Promise<GoRun> =>
    new Promise((resolve) => {
      const child = execFile(tool, args, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      });
      if (input !== undefined) child.stdin?.end(input);
    });

  const noteFile = async (note: string): Promise<string> => {
    const file = path.join(dir, `${createHash('sha256').update(note).digest('hex').slice(0, 12)}.note`);
    await writeFile(file, note);
    return file;
  };

  beforeAll(async () => {
    tool = await buildGoTool('cosignature', '.', 'cosigcheck');
    dir = await mkdtemp(path.join(tmpdir(), 'cosig-go-'));
  }, 600_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const seed = (label: string) => createHash('sha256').update(label).digest('hex');

  it('formats witness keys as torchwood does', async () => {
    const ours = createTestCosigner('witness.example/a', 'a');
    const theirs = await go(['vkey', 'witness.example/a', seed('a')]);
    expect(theirs.stdout.trim()).toBe(ours.verifierKey);
  });

  it.each([
    ['a plain checkpoint', 10, []],
    ['a checkpoint with extension lines', 11, ['ext one', 'ext two']],
  ])('verifies torchwood cosignatures on %s', async (_what, size, extensions) => {
    const note = checkpoint(size, extensions);
    const a = await go(['cosign', await noteFile(note), log.verifierKey, 'witness.example/a', seed('a')]);
    expect(a).toMatchObject({ code: 0, stderr: '' });
    const ab = await go(['cosign', '-', log.verifierKey, 'witness.example/b', seed('b')], a.stdout);
    expect(ab.code).toBe(0);
    const keys = [createTestCosigner('witness.example/a', 'a'), createTestCosigner('witness.example/b', 'b')].map((c) => c.verifierKey);
    const before = Math.floor(Date.now() / 1000) - 5;
    const result = verifyCosignedCheckpoint(ab.stdout, log.verifierKey, createWitnessPolicy(keys, 2));
    expect(result.witnesses.cosignatures.map((c) => c.status)).toEqual(['valid', 'valid']);
    for (const c of result.witnesses.cosignatures) expect(c.timestamp).toBeGreaterThanOrEqual(before);
    // And tampering with Go's output is caught.
    const tampered = ab.stdout.replace(/^(\u2014 witness\.example\/a \S{20})(\S)/m, (_m, head: string, c: string) => head + (c === 'A' ? 'B' : 'A'));
    expect(evaluateWitnessPolicy(tampered, createWitnessPolicy(keys, 2)).satisfied).toBe(false);
  });

  it('Go verifies our cosignatures and reports their timestamps', async () => {
    const a = createTestCosigner('witness.example/a');
    const b = createTestCosigner('witness.example/b');
    const c = createTestCosigner('witness.example/c');
    const note = b.cosign(a.cosign(checkpoint(12, ['ext']), 1_767_225_600), 1_767_225_601);
    const file = await noteFile(note);
    const ok = await go(['verify', file, log.verifierKey, '2', a.verifierKey, b.verifierKey, c.verifierKey]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { name: 'witness.example/a', timestamp: 1_767_225_600 },
      { name: 'witness.example/b', timestamp: 1_767_225_601 },
      { cosigned: 2, quorum: 2 },
    ]);
    const short = await go(['verify', file, log.verifierKey, '3', a.verifierKey, b.verifierKey, c.verifierKey]);
    expect(short.code).toBe(1);
    // Both sides parse the same key strings.
    for (const k of [a, b, c]) expect(parseWitnessKey(k.verifierKey).name).toBe(k.name);
  });

  it('Go rejects what our verifier calls invalid', async () => {
    const a = createTestCosigner('witness.example/a');
    const note = checkpoint(13);
    const textOf = (n: string) => `${n.slice(0, n.lastIndexOf('\n\n'))}\n`;
    const line = a.line(textOf(note), 1_767_225_600);
    const payload = Buffer.from(line.trim().split(' ')[2] as string, 'base64');
    payload[11] = (payload[11] as number) ^ 1; // last timestamp byte
    const cases = [
      note + a.line(textOf(checkpoint(14)), 1_767_225_600), // a cosignature of another checkpoint
      `${note}\u2014 ${a.name} ${payload.toString('base64')}\n`, // timestamp changed after signing
    ];
    for (const n of cases) {
      expect(evaluateWitnessPolicy(n, createWitnessPolicy([a.verifierKey], 1)).cosignatures[0]?.status).toBe('invalid');
      expect((await go(['verify', await noteFile(n), log.verifierKey, '1', a.verifierKey])).code).toBe(2);
    }
    expect(evaluateWitnessPolicy(note + line, createWitnessPolicy([a.verifierKey], 1)).cosignatures[0]?.status).toBe('valid');
    expect((await go(['verify', await noteFile(note + line), log.verifierKey, '1', a.verifierKey])).code).toBe(0);
  });
});

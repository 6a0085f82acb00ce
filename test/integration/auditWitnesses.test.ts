/**
 * audit and monitor with a witness policy, against a fake log (test/support/fakeLogServer)
 * serving checkpoints with enough, too few, broken and stale cosignatures, and a fork.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/ledgerFixture';
import { type FakeLogServer, startFakeLogServer } from '../support/fakeLogServer';
import { createTestCosigner } from '../support/testCosigner';

describe('audit and monitor with a witness policy', () => {
  let log: FakeLogServer;
  let work: string;
  const w1 = createTestCosigner('witness.example/one');
  const w2 = createTestCosigner('witness.example/two');
  const w3 = createTestCosigner('witness.example/three');
  const now = () => Math.floor(Date.now() / 1000);
  const twoOfThree = ['--witness', w1.verifierKey, '--witness', w2.verifierKey, '--witness', w3.verifierKey, '--witness-quorum', '2'];
  let n = 0;
  const freshState = () => path.join(work, `state-${++n}.json`);
  const audit = (args: string[]) => runCli(['audit', '--url', log.url, '--vkey', log.verifierKey, ...args], {});
  const monitor = (args: string[]) =>
    runCli(['monitor', '--url', log.url, '--vkey', log.verifierKey, '--interval', '10ms', ...args], {});

  beforeAll(async () => {
    log = await startFakeLogServer();
    work = await mkdtemp(path.join(os.tmpdir(), 'audit-witnesses-'));
  });

  afterAll(async () => {
    await log.close();
    await rm(work, { recursive: true, force: true });
  });

  it('trusts a checkpoint with a quorum of cosignatures and says who cosigned when', async () => {
    const state = freshState();
    log.serve(w3.cosign(w1.cosign(log.checkpoint(5), 1_767_225_600), 1_767_225_660));
    const first = await audit(['--state', state, ...twoOfThree]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain(
      'witnesses (2 of 3 witnesses): witness.example/one cosigned at 2026-01-01T00:00:00Z; witness.example/two did not cosign; witness.example/three cosigned at 2026-01-01T00:01:00Z',
    );
    log.serve(w2.cosign(w1.cosign(log.checkpoint(9), now()), now()));
    const grown = await audit(['--state', state, ...twoOfThree]);
    expect(grown.code).toBe(0);
    expect(grown.stdout).toContain('consistent: 5 → 9 (+4)');
    expect(((JSON.parse(await readFile(state, 'utf8')) as { treeSize: number }).treeSize)).toBe(9);
  });

  it.each([
    ['one cosignature', () => w1.cosign(log.checkpoint(6), now()), 'missing: witness.example/two, witness.example/three'],
    ['one witness twice', () => w1.cosign(w1.cosign(log.checkpoint(6), now()), now() + 1), 'missing: witness.example/two, witness.example/three'],
    [
      'a cosignature of another checkpoint',
      () => w1.cosign(log.checkpoint(6), now()) + w2.line(log.checkpoint(7).split('\n\n')[0] + '\n', now()),
      'invalid: witness.example/two (signature does not verify)',
    ],
    ['none', () => log.checkpoint(6), '0 valid cosignatures'],
  ])('refuses %s: exit 3, one line, state unchanged', async (_what, note, expected) => {
    const state = freshState();
    log.serve(w2.cosign(w1.cosign(log.checkpoint(5), now()), now()));
    expect((await audit(['--state', state, ...twoOfThree])).code).toBe(0);
    const saved = await readFile(state, 'utf8');
    log.serve(note());
    const res = await audit(['--state', state, ...twoOfThree]);
    expect(res.code).toBe(3);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('audit-ledger: checkpoint does not satisfy the witness policy (2 of 3 witnesses)');
    expect(res.stderr).toContain(expected);
    expect(res.stderr).toContain('not trusted');
    expect(await readFile(state, 'utf8')).toBe(saved);
  });

  it('refuses a fork shown to a new auditor for lack of cosignatures, and proves it to one who saw the witnessed history', async () => {
    const witnessed = w2.cosign(w1.cosign(log.checkpoint(8), now()), now());
    const fork = log.checkpoint(10, 1); // same key, other leaves: no witness would cosign it
    log.serve(fork);
    const newcomer = await audit(['--state', freshState(), ...twoOfThree]);
    expect(newcomer.code).toBe(3);
    expect(newcomer.stderr).toContain('0 valid cosignatures');

    const state = freshState();
    log.serve(witnessed);
    expect((await audit(['--state', state, ...twoOfThree])).code).toBe(0);
    log.serve(fork);
    const seen = await audit(['--state', state, ...twoOfThree]);
    expect(seen.code).toBe(2);
    expect(seen.stdout).toContain('INCONSISTENT: ');
  });

  it('reads a witness policy file', async () => {
    const file = path.join(work, 'policy.txt');
    await writeFile(file, `witness one ${w1.verifierKey}\nwitness two ${w2.verifierKey}\ngroup both all one two\nquorum both\n`);
    log.serve(w2.cosign(w1.cosign(log.checkpoint(5), now()), now()));
    expect((await audit(['--state', freshState(), '--witness-policy', file])).code).toBe(0);
    log.serve(w1.cosign(log.checkpoint(5), now()));
    const res = await audit(['--state', freshState(), '--witness-policy', file]);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('(group both (2 of 2))');
  });

  it.each([
    ['a log key as --witness', () => ['--witness', log.verifierKey], 'not a witness key'],
    ['k > n', () => ['--witness', w1.verifierKey, '--witness-quorum', '2'], 'witness quorum must be an integer from 0 to the number of witnesses (1)'],
    ['a witness listed twice', () => ['--witness', w1.verifierKey, '--witness', w1.verifierKey], 'is listed twice'],
    ['--witness-quorum alone', () => ['--witness-quorum', '1'], '--witness-quorum needs at least one --witness key'],
    ['a missing policy file', () => ['--witness-policy', path.join(work, 'nope')], 'cannot read --witness-policy'],
    ['policy and keys together', () => ['--witness-policy', path.join(work, 'nope'), '--witness', w1.verifierKey], 'cannot be combined'],
  ])('answers %s with one line and exit 1', async (_what, args, message) => {
    const res = await audit(['--state', freshState(), ...args()]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain(message);
  });

  it('monitor: fresh cosignatures on an unchanged size are quiet', async () => {
    log.serve(w2.cosign(w1.cosign(log.checkpoint(5), now()), now()));
    const res = await monitor(['--state', freshState(), ...twoOfThree, '--max-polls', '2']);
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/ size=5 .* first poll cosigned \d+ s ago$/);
    expect(lines[1]).toContain('witnesses (2 of 3 witnesses): witness.example/one cosigned at ');
    expect(lines[2]).toMatch(/ size=5 .* \+0 quiet, cosigned \d+ s ago$/);
  });

  it('monitor: an old newest cosignature is frozen (exit 3)', async () => {
    log.serve(w2.cosign(w1.cosign(log.checkpoint(5), now() - 7200), now() - 3600));
    const res = await monitor(['--state', freshState(), ...twoOfThree, '--max-polls', '3']);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/ALERT frozen: the newest witness cosignature is 36\d\d s old .* older than the allowed 1800 s/);
    const custom = await monitor(['--state', freshState(), ...twoOfThree, '--max-polls', '1', '--max-cosignature-age', '2h']);
    expect(custom.code).toBe(0);
  });

  it('monitor: an unwitnessed checkpoint is not trusted, and frozen once that lasts', async () => {
    log.serve(w1.cosign(log.checkpoint(5), now()));
    const res = await monitor(['--state', freshState(), ...twoOfThree, '--max-polls', '2', '--max-cosignature-age', '1h']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('not trusted: checkpoint does not satisfy the witness policy');
    const frozen = await monitor(['--state', freshState(), ...twoOfThree, '--max-polls', '50', '--max-cosignature-age', '100ms']);
    expect(frozen.code).toBe(3);
    expect(frozen.stderr).toContain('ALERT frozen: no checkpoint met the witness policy');
  });

  it('monitor: --max-cosignature-age needs a witness policy', async () => {
    const res = await monitor(['--state', freshState(), '--max-polls', '1', '--max-cosignature-age', '1h']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('--max-cosignature-age needs a witness policy');
  });
});

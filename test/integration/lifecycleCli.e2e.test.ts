/**
 * The data-lifecycle operations through the real CLI against a real server (SQLite):
 * `redact`, `erase-actor`, `hold place|list|release`, `retention set|list|apply`, their exit
 * codes (2 usage, 1 API refusal with the GraphQL code), `audit --all-events` over redacted
 * events (a redacted event whose leaf hash is not in the tree is still evidence), and
 * `rotate-kek`: refusals, rotation, restart with the new key, and the old key refused.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { formatKekFile } from '../../src/lifecycle/kekFile';
import { newKey } from '../../src/lifecycle/envelope';
import { sqliteFile } from '../../src/storage/open';
import { gqlOk, RECEIPT_FIELDS } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, runCli, startLedger } from '../support/ledgerFixture';
import { type ServerProcess, startServerProcess } from '../support/serverProcess';

const RECORD = `mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { ${RECEIPT_FIELDS} } }`;
const EVENT = 'query($l: SafeInt!) { event(leafIndex: $l) { leafIndex redacted action actor { id } } }';

interface Receipt { leafIndex: number; leafHash: string }

describe('data lifecycle through the CLI [sqlite]', () => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  let vkey: string;
  let receipts: Receipt[];
  const cli = (args: string[], token?: string): ReturnType<typeof runCli> =>
    runCli([...args, '--url', server.url, ...(token ? ['--token', token] : [])], { ...le.env, AUDIT_LEDGER_TOKEN: '' });
  const audit = (state: string): ReturnType<typeof runCli> =>
    runCli(['audit', '--url', server.url, '--vkey', vkey, '--state', path.join(le.dataDir, state), '--all-events', '--token', keys.auditor], le.env);
  const redacted = async (leafIndex: number): Promise<boolean> =>
    (await gqlOk<{ event: { redacted: boolean } }>(server.url, EVENT, { l: leafIndex }, keys.auditor)).event.redacted;

  beforeAll(async () => {
    le = await ledgerEnv('lifecycle-cli', { LEDGER_ENCRYPTION: 'on', LEDGER_RETENTION_INTERVAL_MS: '0' });
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
    vkey = (await gqlOk<{ logInfo: { verifierKey: string } }>(server.url, '{ logInfo { verifierKey } }')).logInfo.verifierKey;
    const inputs = Array.from({ length: 6 }, (_, i) => ({
      action: i < 4 ? 'patient.record.read' : 'billing.invoice.sent',
      actor: { id: `person-${i % 3}`, type: 'USER' },
      target: { type: 'record', id: `r-${i}` },
    }));
    receipts = (await gqlOk<{ recordEvents: Receipt[] }>(server.url, RECORD, { i: inputs }, keys.appender)).recordEvents;
  });
  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  it('answers usage mistakes with exit 2 and a message', async () => {
    const noLeaf = await cli(['redact', '--reason', 'x'], keys.admin);
    expect(noLeaf.code).toBe(2);
    expect(noLeaf.stderr).toMatch(/--leaf/);
    const badLeaf = await cli(['redact', '--leaf', 'seven', '--reason', 'x'], keys.admin);
    expect(badLeaf.code).toBe(2);
    expect(badLeaf.stderr).toMatch(/leaf index/);
    const noToken = await cli(['erase-actor', '--actor', 'person-0', '--reason', 'x']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/AUDIT_LEDGER_TOKEN/);
    const noScope = await cli(['hold', 'place', '--reason', 'x'], keys.auditor);
    expect(noScope.code).toBe(2);
    expect(noScope.stderr).toMatch(/give a scope/);
    const badTime = await cli(['hold', 'place', '--from', 'yesterday', '--reason', 'x'], keys.auditor);
    expect(badTime.code).toBe(2);
    expect((await cli(['retention', 'set', '--keep-days', '-1'], keys.admin)).code).toBe(2);
  });

  it('redacts one event (ADMIN), and prints the GraphQL code of a refusal with exit 1', async () => {
    const forbidden = await cli(['redact', '--leaf', String(receipts[0]!.leafIndex), '--reason', 'x'], keys.auditor);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/^audit-ledger: FORBIDDEN: /);
    const ok = await cli(['redact', '--leaf', String(receipts[0]!.leafIndex), '--reason', 'GDPR request 1'], keys.admin);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`redact leaf ${receipts[0]!.leafIndex}: 1 event redacted \\(${receipts[0]!.leafIndex}\\), recorded as leaf \\d+`));
    expect(await redacted(receipts[0]!.leafIndex)).toBe(true);
    const again = await cli(['redact', '--leaf', String(receipts[0]!.leafIndex), '--reason', 'again'], keys.admin);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/BAD_USER_INPUT: .*already redacted/);
  });

  it('places, lists and releases a legal hold (AUDITOR) that keeps an erasure request from shredding', async () => {
    const placed = await cli(['hold', 'place', '--actors', 'person-1', '--reason', 'litigation 7'], keys.auditor);
    expect(placed.code).toBe(0);
    const id = /hold placed: ([0-9a-f-]{36})/.exec(placed.stdout)?.[1];
    expect(id).toBeDefined();
    const held = await cli(['redact', '--leaf', String(receipts[1]!.leafIndex), '--reason', 'x'], keys.admin);
    expect(held.code).toBe(1);
    expect(held.stderr).toMatch(/LEGAL_HOLD: /);
    const erase = await cli(['erase-actor', '--actor', 'person-1', '--reason', 'erasure request 2'], keys.admin);
    expect(erase.code).toBe(0);
    expect(erase.stdout).toMatch(/erase-actor: 0 events redacted \(none\).*\n {2}kept under legal hold: 2 /);
    const list = await cli(['hold', 'list'], keys.auditor);
    expect(list.stdout).toMatch(new RegExp(`${id}  active  placed by leaf \\d+  \\[1 actor\\]  litigation 7`));
    const released = await cli(['hold', 'release', id!, '--reason', 'case closed'], keys.auditor);
    expect(released.code).toBe(0);
    expect(released.stdout).toMatch(/hold released: .* \(recorded as leaf \d+\)/);
    expect((await cli(['hold', 'list'], keys.auditor)).stdout).toMatch(/released \(leaf \d+\)/);
    const unknown = await cli(['hold', 'release', 'no-such-hold', '--reason', 'x'], keys.auditor);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/BAD_USER_INPUT: no legal hold/);
    const now = await cli(['erase-actor', '--actor', 'person-1', '--reason', 'erasure request 2'], keys.admin);
    expect(now.code).toBe(0);
    expect(now.stdout).toMatch(new RegExp(`2 events redacted \\(${receipts[1]!.leafIndex}, ${receipts[4]!.leafIndex}\\)`));
  });

  it('sets, lists and applies retention policies (ADMIN)', async () => {
    const set = await cli(['retention', 'set', '--keep-days', '0', '--action-prefix', 'patient.'], keys.admin);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/retention policy set: \S+ {2}keep 0 days {2}action prefix "patient\." {2}groups any/);
    expect((await cli(['retention', 'list'], keys.admin)).stdout).toMatch(/keep 0 days/);
    const run = await cli(['retention', 'apply'], keys.admin);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/retention applied: 2 shredded/); // leaves 2 and 3 (0 and 1 already redacted)
    expect(await redacted(receipts[5]!.leafIndex)).toBe(false);
  });

  it('audit --all-events passes with the redactions reported; a redacted event not in the tree is evidence (exit 2)', async () => {
    const ok = await audit('state-1.json');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/\d+ events verified against their leaves and the tree, 5 redacted \(leaf hashes proven\)/);
    const db = new Database(sqliteFile(le.dataDir));
    const leaf = receipts[3]!.leafIndex;
    const original = db.prepare('SELECT leaf_hash FROM events WHERE leaf_index = ?').pluck().get(leaf) as Buffer;
    try {
      db.prepare('UPDATE events SET leaf_hash = ? WHERE leaf_index = ?').run(Buffer.alloc(32, 7), leaf);
      const bad = await audit('state-2.json');
      expect(bad.code).toBe(2);
      expect(bad.stdout).toMatch(new RegExp(`leaf ${leaf}: the event is served with leaf hash 0707`));
    } finally {
      db.prepare('UPDATE events SET leaf_hash = ? WHERE leaf_index = ?').run(original, leaf);
      db.close();
    }
  });

  it('rotate-kek: refuses beside a running server, the same key, a missing key; rotates; the old key is refused at start-up', async () => {
    const newFile = path.join(le.dataDir, 'new.key');
    writeFileSync(newFile, formatKekFile(newKey()), { mode: 0o600 });
    const running = await runCli(['rotate-kek', '--new-key-file', newFile], le.env);
    expect(running.code).toBe(1);
    expect(running.stderr).toMatch(/another audit-ledger server .* is using .*rotate-kek runs with the server stopped/);
    await server.stop();

    const same = await runCli(['rotate-kek', '--new-key-file', path.join(le.dataDir, 'kek.key')], le.env);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/the new key is the key-encryption key the ledger already uses/);
    const missing = await runCli(['rotate-kek', '--new-key-file', path.join(le.dataDir, 'nope.key')], le.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/the new key: the key-encryption key file .*nope\.key does not exist/);
    const unset = await runCli(['rotate-kek', '--new-key-env', 'NO_SUCH_KEK_VAR'], le.env);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/NO_SUCH_KEK_VAR .* is not set/);
    const otherFile = path.join(le.dataDir, 'other.key');
    writeFileSync(otherFile, formatKekFile(newKey()), { mode: 0o600 });
    const wrongOld = await runCli(['rotate-kek', '--new-key-file', newFile], { ...le.env, LEDGER_KEK_FILE: otherFile });
    expect(wrongOld.code).toBe(1);
    expect(wrongOld.stderr).toMatch(/wrong key-encryption key/);

    const rotated = await runCli(['rotate-kek', '--new-key-file', newFile, '--batch-size', '2'], le.env);
    expect(rotated.stderr).toMatch(/^database: sqlite .*ledger\.db$/m);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/now wrapped under KEK [0-9a-f]{16}/);
    expect(rotated.stdout).toMatch(/data keys {5}\d+ re-wrapped/);

    const old = await startServerProcess(le.env);
    expect(await old.exited).not.toBe(0);
    expect(old.output()).toMatch(/wrong key-encryption key: this ledger's keys are wrapped under KEK [0-9a-f]{16}/);

    server = await startLedger({ ...le.env, LEDGER_KEK_FILE: newFile });
    const e = await gqlOk<{ event: { redacted: boolean; actor: { id: string } } }>(server.url, EVENT, { l: receipts[5]!.leafIndex }, keys.auditor);
    expect(e.event).toMatchObject({ redacted: false, actor: { id: 'person-2' } });
    const page = await gqlOk<{ events: { edges: unknown[] } }>(server.url, '{ events(filter: { actorId: "person-2" }) { edges { node { leafIndex } } } }', {}, keys.auditor);
    expect(page.events.edges).toHaveLength(2);
    expect((await audit('state-3.json')).code).toBe(0);
    const verify = await runCli(['verify-db'], { ...le.env, LEDGER_KEK_FILE: newFile });
    expect(verify.stdout).toMatch(/INTACT/);
    expect(verify.code).toBe(0);
  });
});

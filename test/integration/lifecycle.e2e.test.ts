/**
 * Data lifecycle end to end over HTTP, on both adapters: content sealed at rest (a marker
 * never reaches the database files), redaction and erasure by crypto-shredding with every
 * proof still valid (checked with audit-ledger/verify), legal holds, retention, and start-up
 * refusals for a missing or wrong key-encryption key. A webhook's secret (holding the marker)
 * is sealed too: deliveries are signed with it, before and after a restart.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatKekFile } from '../../src/lifecycle/kekFile';
import { newKey } from '../../src/lifecycle/envelope';
import { bytesToHex, hexToBytes, verifyCheckpoint, verifyConsistency, verifyInclusion } from '../../src/verify';
import { describeEachAdapter } from '../support/adapters';
import { errorCode, gql, gqlOk, RECEIPT_FIELDS } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, runCli, startLedger } from '../support/ledgerFixture';
import { copyLedger, tamperWith } from '../support/storageTamper';
import { type ServerProcess, startServerProcess } from '../support/serverProcess';
import { verifySignature } from '../../src/stream/signature';
import { WebhookReceiver } from '../support/webhookReceiver';

const MARKER = 'PII-MARKER-7f3a9c';
const HOOK_SECRET = `whsec_${MARKER}-webhook-secret`;
const RECORD = `mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { ${RECEIPT_FIELDS} } }`;
const EVENT = `query($l: SafeInt!) { event(leafIndex: $l) { id leafIndex leafHash leaf redacted redaction { leafIndex reason } action actor { id type name } groups metadata } }`;

interface Receipt { leafIndex: number; leafHash: string }
interface Checkpoint { treeSize: number; rootHash: string; note: string }

function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const f = path.join(d, name);
      const st = statSync(f);
      if (st.isDirectory()) walk(f);
      else if (readFileSync(f).includes(needle)) found.push(f);
    }
  };
  walk(dir);
  return found;
}

describeEachAdapter('data lifecycle over HTTP', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  let vkey: string;
  let receipts: Receipt[];
  let hook: WebhookReceiver;

  /** Waits until every leaf was acknowledged by the receiver, then checks every request's signature. */
  async function deliveredSigned(leaves: number[]): Promise<void> {
    await hook.until(() => leaves.every((l) => hook.delivered().has(l)));
    for (const r of hook.received) {
      const header = r.headers['x-ledger-signature'] as string;
      expect(verifySignature(HOOK_SECRET, r.body, header, Math.floor(Date.now() / 1000), 600)).toBe(true);
      expect(verifySignature(`${HOOK_SECRET}x`, r.body, header, Math.floor(Date.now() / 1000), 600)).toBe(false);
    }
  }

  const dbFolder = (): string => (adapter === 'sqlite' ? le.dataDir : process.env.LEDGER_TEST_DATA_DIR!);

  async function checkpoint(): Promise<Checkpoint> {
    return (await gqlOk<{ checkpoint: Checkpoint }>(server.url, '{ checkpoint { treeSize rootHash note } }')).checkpoint;
  }

  async function proveLeaf(leafIndex: number, leafHash: string, cp: Checkpoint): Promise<void> {
    const { inclusionProof } = await gqlOk<{ inclusionProof: { hashes: string[] } }>(
      server.url,
      'query($l: SafeInt!, $s: SafeInt!) { inclusionProof(leafIndex: $l, treeSize: $s) { hashes } }',
      { l: leafIndex, s: cp.treeSize },
    );
    const signed = verifyCheckpoint(cp.note, vkey);
    verifyInclusion({ leafHash: hexToBytes(leafHash), leafIndex, treeSize: cp.treeSize, proof: inclusionProof.hashes.map(hexToBytes), rootHash: signed.rootHash });
  }

  async function proveGrowth(from: Checkpoint, to: Checkpoint): Promise<void> {
    const { consistencyProof } = await gqlOk<{ consistencyProof: { hashes: string[] } }>(
      server.url,
      'query($f: SafeInt!, $t: SafeInt!) { consistencyProof(fromSize: $f, toSize: $t) { hashes } }',
      { f: from.treeSize, t: to.treeSize },
    );
    verifyConsistency({
      fromSize: from.treeSize,
      toSize: to.treeSize,
      fromRoot: verifyCheckpoint(from.note, vkey).rootHash,
      toRoot: verifyCheckpoint(to.note, vkey).rootHash,
      proof: consistencyProof.hashes.map(hexToBytes),
    });
  }

  beforeAll(async () => {
    le = await ledgerEnv('lifecycle', { LEDGER_ENCRYPTION: 'on', LEDGER_RETENTION_INTERVAL_MS: '0' }, adapter);
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
    vkey = (await gqlOk<{ logInfo: { verifierKey: string } }>(server.url, '{ logInfo { verifierKey } }')).logInfo.verifierKey;
    const inputs = Array.from({ length: 6 }, (_, i) => ({
      action: i < 4 ? 'patient.record.read' : 'billing.invoice.sent',
      actor: { id: `${MARKER}-actor-${i % 2}`, type: 'USER', name: `${MARKER} name` },
      target: { type: 'record', id: `${MARKER}-target-${i}` },
      metadata: { note: `${MARKER} metadata ${i}` },
    }));
    receipts = (await gqlOk<{ recordEvents: Receipt[] }>(server.url, RECORD, { i: inputs }, keys.appender)).recordEvents;
    hook = await new WebhookReceiver().start();
    await gqlOk(
      server.url,
      'mutation($i: WebhookInput!) { createWebhook(input: $i) { secret } }',
      { i: { url: hook.url, filter: { actionPrefix: 'billing.' }, secret: HOOK_SECRET, fromLeafIndex: receipts[4]!.leafIndex } },
      keys.admin,
    );
  });
  afterAll(async () => {
    await server?.stop();
    await hook?.close();
    await le?.dispose();
  });

  it('creates the key file 0600 and keeps content out of the database files', async () => {
    expect(statSync(path.join(le.dataDir, 'kek.key')).mode & 0o777).toBe(0o600);
    expect(filesContaining(dbFolder(), MARKER)).toEqual([]);
  });

  it("signs webhook deliveries with the subscription's secret, which is sealed: not in the database files", async () => {
    await deliveredSigned([receipts[4]!.leafIndex, receipts[5]!.leafIndex]);
    expect(filesContaining(dbFolder(), MARKER)).toEqual([]);
  });

  it('reads events decrypted, and searches by actor through blind indexes', async () => {
    const { event } = await gqlOk<{ event: { leaf: string; redacted: boolean; actor: { id: string; name: string } } }>(server.url, EVENT, { l: receipts[0]!.leafIndex }, keys.auditor);
    expect(event.redacted).toBe(false);
    expect(event.actor).toMatchObject({ id: `${MARKER}-actor-0`, name: `${MARKER} name` });
    expect(bytesToHex(hexToBytes(receipts[0]!.leafHash))).toBe(receipts[0]!.leafHash);
    const page = await gqlOk<{ events: { edges: { node: { leafIndex: number } }[] } }>(
      server.url,
      'query($a: String!) { events(filter: { actorId: $a }) { edges { node { leafIndex } } } }',
      { a: `${MARKER}-actor-1` },
      keys.auditor,
    );
    expect(page.events.edges.map((e) => e.node.leafIndex)).toEqual([receipts[1]!.leafIndex, receipts[3]!.leafIndex, receipts[5]!.leafIndex]);
  });

  it('redacts an event by destroying its key: skeleton served, proofs still valid', async () => {
    const before = await checkpoint();
    const target = receipts[0]!;
    const forbidden = await gql(server.url, 'mutation { redactEvent(leafIndex: 0, reason: "x") { redacted } }', {}, keys.auditor);
    expect(errorCode(forbidden)).toBe('FORBIDDEN');
    const res = await gqlOk<{ redactEvent: { recordedAt: number; redacted: number[] } }>(
      server.url,
      'mutation($l: SafeInt!) { redactEvent(leafIndex: $l, reason: "GDPR Art. 17 request 12") { recordedAt redacted } }',
      { l: target.leafIndex },
      keys.admin,
    );
    expect(res.redactEvent.redacted).toEqual([target.leafIndex]);
    const { event } = await gqlOk<{ event: Record<string, unknown> }>(server.url, EVENT, { l: target.leafIndex }, keys.auditor);
    expect(event).toMatchObject({ leaf: null, redacted: true, redaction: { leafIndex: res.redactEvent.recordedAt, reason: 'GDPR Art. 17 request 12' }, leafHash: target.leafHash, action: 'patient.record.read' });
    const after = await checkpoint();
    await proveLeaf(target.leafIndex, target.leafHash, after);
    await proveGrowth(before, after);
    const again = await gql(server.url, 'mutation { redactEvent(leafIndex: 0, reason: "again") { redacted } }', {}, keys.admin);
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
  });

  it('a legal hold keeps events from redaction and erasure until released', async () => {
    const hold = await gqlOk<{ placeLegalHold: { id: string; placedBy: number } }>(
      server.url,
      'mutation($a: [String!]) { placeLegalHold(scope: { actorIds: $a }, reason: "litigation 2026-7") { id placedBy } }',
      { a: [`${MARKER}-actor-1`] },
      keys.auditor,
    );
    const held = await gql(server.url, 'mutation($l: SafeInt!) { redactEvent(leafIndex: $l, reason: "x") { redacted } }', { l: receipts[1]!.leafIndex }, keys.admin);
    expect(errorCode(held)).toBe('LEGAL_HOLD');
    const erased = await gqlOk<{ eraseActor: { redacted: number[]; held: number[] } }>(
      server.url,
      'mutation($a: String!) { eraseActor(actorId: $a, reason: "erasure request 13") { redacted held } }',
      { a: `${MARKER}-actor-1` },
      keys.admin,
    );
    expect(erased.eraseActor).toEqual({ redacted: [], held: [1, 3, 5].map((i) => receipts[i]!.leafIndex) });
    await gqlOk(server.url, 'mutation($id: ID!) { releaseLegalHold(id: $id, reason: "case closed") { releasedBy } }', { id: hold.placeLegalHold.id }, keys.auditor);
    const before = await checkpoint();
    const now = await gqlOk<{ eraseActor: { redacted: number[] } }>(
      server.url,
      'mutation($a: String!) { eraseActor(actorId: $a, reason: "erasure request 13") { redacted } }',
      { a: `${MARKER}-actor-1` },
      keys.admin,
    );
    expect(now.eraseActor.redacted).toEqual([1, 3, 5].map((i) => receipts[i]!.leafIndex));
    const after = await checkpoint();
    for (const i of [1, 3, 5]) await proveLeaf(receipts[i]!.leafIndex, receipts[i]!.leafHash, after);
    await proveGrowth(before, after);
  });

  it('retention shreds expired content by policy, recorded in the ledger', async () => {
    await gqlOk(server.url, 'mutation { setRetentionPolicy(input: { actionPrefix: "patient.", keepDays: 0 }) { id } }', {}, keys.admin);
    const run = await gqlOk<{ applyRetention: { shredded: number } }>(server.url, 'mutation { applyRetention { shredded } }', {}, keys.admin);
    expect(run.applyRetention.shredded).toBe(1); // leaf 2 (0, 1 and 3 are already redacted)
    const { event } = await gqlOk<{ event: { redacted: boolean; redaction: { leafIndex: number } } }>(server.url, EVENT, { l: receipts[2]!.leafIndex }, keys.auditor);
    expect(event.redacted).toBe(true);
    const applied = await gqlOk<{ event: { action: string } }>(server.url, EVENT, { l: event.redaction.leafIndex }, keys.auditor);
    expect(applied.event.action).toBe('ledger.retention.applied');
    const untouched = await gqlOk<{ event: { redacted: boolean } }>(server.url, EVENT, { l: receipts[4]!.leafIndex }, keys.auditor);
    expect(untouched.event.redacted).toBe(false);
    await proveLeaf(receipts[2]!.leafIndex, receipts[2]!.leafHash, await checkpoint());
  });

  it("an external auditor's audit --all-events passes, reporting the redactions with their leaf hashes proven", async () => {
    const state = path.join(le.dataDir, 'audit-state.json');
    const audit = await runCli(['audit', '--url', server.url, '--vkey', vkey, '--state', state, '--all-events', '--token', keys.auditor], le.env);
    expect(audit.stderr).toBe('');
    expect(audit.code).toBe(0);
    // 0 redacted, 1, 3 and 5 erased, 2 shredded by retention.
    expect(audit.stdout).toMatch(/\d+ events verified against their leaves and the tree, 5 redacted \(leaf hashes proven\)/);
  });

  it('refuses to start without the key, or with another one, before writing anything', async () => {
    await server.stop();
    const keyFile = path.join(le.dataDir, 'kek.key');
    const saved = readFileSync(keyFile);
    const size = await startServerProcess({ ...le.env, LEDGER_KEK_FILE: path.join(le.dataDir, 'missing.key') });
    expect(await size.exited).not.toBe(0);
    expect(size.output()).toMatch(/key-encryption key file .*missing\.key does not exist/);
    writeFileSync(path.join(le.dataDir, 'other.key'), formatKekFile(newKey()), { mode: 0o600 });
    const wrong = await startServerProcess({ ...le.env, LEDGER_KEK_FILE: path.join(le.dataDir, 'other.key') });
    expect(await wrong.exited).not.toBe(0);
    expect(wrong.output()).toMatch(/wrong key-encryption key/);
    expect(readFileSync(keyFile)).toEqual(saved);
    server = await startLedger(le.env);
    const { event } = await gqlOk<{ event: { redacted: boolean; actor: { id: string } } }>(server.url, EVENT, { l: receipts[4]!.leafIndex }, keys.auditor);
    expect(event).toMatchObject({ redacted: false, actor: { id: `${MARKER}-actor-0` } });
    // The restarted server opens the sealed webhook secret with the right key and signs with it.
    const [probe] = (await gqlOk<{ recordEvents: Receipt[] }>(server.url, RECORD, { i: [{ action: 'billing.probe', actor: { id: 'probe', type: 'SYSTEM' } }] }, keys.appender)).recordEvents;
    await deliveredSigned([probe!.leafIndex]);
    expect(filesContaining(dbFolder(), MARKER)).toEqual([]);
  });

  it('verify-db opens sealed events, reports redactions as such, and still names an edited skeleton', async () => {
    const ok = await runCli(['verify-db'], le.env);
    expect(ok.stdout).toMatch(/INTACT/);
    expect(ok.stdout).toMatch(/redacted +5 \(content destroyed by redaction/);
    expect(ok.code).toBe(0);
    const copy = await copyLedger(adapter, le.env);
    const tamper = await tamperWith(adapter, copy);
    await tamper.setActorId(receipts[0]!.leafIndex, 'someone-else');
    await tamper.close();
    const bad = await runCli(['verify-db'], { ...copy, LEDGER_KEK_FILE: path.join(le.dataDir, 'kek.key') });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`affected leaf indices: ${receipts[0]!.leafIndex}\\b`));
    expect(bad.stdout).toMatch(/skeleton .* was edited/);
  });
});

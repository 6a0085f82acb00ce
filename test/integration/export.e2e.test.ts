/**
 * Exports over HTTP against a real server on both adapters, with encryption at rest on and a
 * redacted event in the log: who may export what (READER its groups, AUDITOR all, APPENDER and
 * ADMIN 403, no key 401), every filter, the three formats (NDJSON the same events as GraphQL,
 * CSV per RFC 4180, evidence bundles), the one read self-event per export, bad parameters (400,
 * nothing written), the `export` CLI, `audit --all-events` as one read, and `verify-bundle`
 * with the server stopped.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeEachAdapter } from '../support/adapters';
import { gql, gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, runCli, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';
import { verifyEvidenceBundle } from '../../src/export/evidenceBundle';
import { CSV_COLUMNS } from '../../src/export/exportRows';
import type { ExportedEvent } from '../../src/export/exportedEvent';

const MARKER = 'EXPORT-PII-5d1e';
const EVENT_FIELDS =
  'leafIndex id leafHash leaf redacted redaction { leafIndex reason } action actor { id type name } target { type id name } outcome reason occurredAt recordedAt ' +
  'source { ip userAgent requestId } metadata groups salt submitter { keyId userId }';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** RFC 4180 records (CRLF line ends, quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || record.length > 0) throw new Error('the CSV does not end with CRLF');
  return records;
}

/** GraphQL's nulls dropped, as an export leaves absent fields out. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
}

describeEachAdapter('exports over HTTP', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  let vkey: string;
  let groupA: string;
  let groupB: string;
  let readerA: string;
  /** Leaf index → what was recorded there by the test. */
  const recorded = new Map<number, { action: string; actor: string; target: string; outcome: string; group: string }>();
  let redactedLeaf: number;
  let firstLeaf: number;

  const get = async (query: string, token?: string): Promise<Answer> => {
    const res = await fetch(`${server.url}/export${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const ndjson = (text: string): ExportedEvent[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as ExportedEvent);
  const treeSize = async (): Promise<number> => (await gqlOk<{ checkpoint: { treeSize: number } }>(server.url, '{ checkpoint { treeSize } }')).checkpoint.treeSize;
  const ours = (events: readonly ExportedEvent[]): number[] => events.map((e) => e.leafIndex).filter((i) => recorded.has(i));
  const expected = (keep: (r: { action: string; actor: string; target: string; outcome: string; group: string }, leaf: number) => boolean): number[] =>
    [...recorded].filter(([leaf, r]) => keep(r, leaf)).map(([leaf]) => leaf);
  const eventAt = async (leafIndex: number): Promise<{ action: string; outcome: string; actor: { id: string }; metadata: Record<string, unknown> | null }> =>
    (await gqlOk<{ event: { action: string; outcome: string; actor: { id: string }; metadata: Record<string, unknown> | null } }>(
      server.url,
      'query($l: SafeInt!) { event(leafIndex: $l) { action outcome actor { id } metadata } }',
      { l: leafIndex },
      keys.auditor,
    )).event;

  beforeAll(async () => {
    // Refusal windows longer than the suite: no aggregated summary is written while a test counts leaves.
    le = await ledgerEnv(
      'export',
      { LEDGER_ENCRYPTION: 'on', LEDGER_RETENTION_INTERVAL_MS: '0', LEDGER_RECORD_READS: 'true', LEDGER_DENIAL_WINDOW_SECONDS: '3600' },
      adapter,
    );
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
    vkey = (await gqlOk<{ logInfo: { verifierKey: string } }>(server.url, '{ logInfo { verifierKey } }')).logInfo.verifierKey;
    const group = async (name: string): Promise<string> =>
      (await gqlOk<{ createGroup: { id: string } }>(server.url, 'mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }', { i: { name } }, keys.admin)).createGroup.id;
    groupA = await group('Team A');
    groupB = await group('Team B');
    const key = async (name: string, roles: string[], groupIds: string[]): Promise<string> =>
      (await gqlOk<{ createApiKey: { token: string } }>(server.url, 'mutation($i: ApiKeyInput!) { createApiKey(input: $i) { token } }', { i: { name, roles, groupIds } }, keys.admin))
        .createApiKey.token;
    readerA = await key('reader-a', ['READER'], [groupA]);
    const appenderAB = await key('appender-ab', ['APPENDER'], [groupA, groupB]);
    const plan = [
      { action: 'user.role.grant', actor: 'u-1', target: 't-1', outcome: 'SUCCESS', group: groupA },
      { action: 'user.role.revoke', actor: 'u-2', target: 't-2', outcome: 'SUCCESS', group: groupB },
      { action: 'invoice.refund', actor: 'u-1', target: 't-3', outcome: 'FAILURE', group: groupA },
      { action: 'user.role.grant', actor: 'u-2', target: 't-1', outcome: 'DENIED', group: groupB },
      { action: 'invoice.refund', actor: 'u-3', target: 't-4', outcome: 'SUCCESS', group: groupA },
      { action: 'user.login', actor: 'u-1', target: 't-5', outcome: 'SUCCESS', group: groupB },
    ];
    const inputs = plan.map((p, i) => ({
      action: p.action,
      actor: { id: p.actor, type: 'USER', name: i === 0 ? `${MARKER} "Ann", the 1st` : 'Bob' },
      target: { type: 'doc', id: p.target },
      outcome: p.outcome,
      groups: [p.group],
      ...(i === 0 && { reason: 'line one\r\nline two', metadata: { note: `${MARKER}, "quoted"`, n: 1 } }),
    }));
    const receipts = (await gqlOk<{ recordEvents: { leafIndex: number }[] }>(server.url, 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }', { i: inputs }, appenderAB))
      .recordEvents;
    receipts.forEach((r, i) => recorded.set(r.leafIndex, plan[i]!));
    firstLeaf = receipts[0]!.leafIndex;
    redactedLeaf = receipts[4]!.leafIndex;
    await gqlOk(server.url, 'mutation($l: SafeInt!) { redactEvent(leafIndex: $l, reason: "erasure request 7") { redacted } }', { l: redactedLeaf }, keys.admin);
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  it('exports NDJSON in log order, the same events as GraphQL serves, decrypted, the redacted one as its skeleton', async () => {
    const res = await get('', keys.auditor);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    const size = Number(res.headers.get('x-export-tree-size'));
    const events = ndjson(res.text);
    expect(events.map((e) => e.leafIndex)).toEqual(Array.from({ length: size }, (_, i) => i));
    const page = await gqlOk<{ events: { edges: { node: Record<string, unknown> }[] } }>(server.url, `{ events(first: 500) { edges { node { ${EVENT_FIELDS} } } } }`, {}, keys.auditor);
    const served = page.events.edges.map((e) => withoutNulls(e.node)).filter((e) => (e as { leafIndex: number }).leafIndex < size);
    expect(events).toEqual(served);
    expect(events[firstLeaf]).toMatchObject({ actor: { id: 'u-1', name: `${MARKER} "Ann", the 1st` }, reason: 'line one\r\nline two', metadata: { note: `${MARKER}, "quoted"`, n: 1 }, redacted: false });
    expect(events[redactedLeaf]).toMatchObject({ redacted: true, actor: { id: '[redacted]' }, redaction: { reason: 'erasure request 7' } });
    expect(events[redactedLeaf]).not.toHaveProperty('leaf');
    expect(events[redactedLeaf]).not.toHaveProperty('salt');
  });

  it('records each export as one read, before sending, naming its format, filter and tree size', async () => {
    const before = await treeSize();
    const res = await get(`?format=csv&action=user.role.*&groupId=${groupA}&limit=5`, keys.auditor);
    expect(res.status).toBe(200);
    expect(await treeSize()).toBe(before + 1);
    const read = await eventAt(before);
    expect(read).toMatchObject({
      action: 'ledger.events.read',
      outcome: 'SUCCESS',
      metadata: { operation: 'export', format: 'csv', filter: { actionPrefix: 'user.role.', groupIds: [groupA] }, treeSize: before, limit: 5 },
    });
  });

  it('applies every filter as the GraphQL filter does', async () => {
    const cases: [string, number[]][] = [
      [`groupId=${groupA}`, expected((r) => r.group === groupA)],
      [`groupId=${groupA}&groupId=${groupB}`, expected(() => true)],
      ['action=invoice.refund', expected((r) => r.action === 'invoice.refund')],
      ['action=user.role.*', expected((r) => r.action.startsWith('user.role.'))],
      ['actorId=u-1', expected((r) => r.actor === 'u-1')],
      ['targetType=doc&targetId=t-1', expected((r) => r.target === 't-1')],
      ['outcome=DENIED', expected((r) => r.outcome === 'DENIED')],
      ['actorId=u-1&action=user.role.grant', expected((r) => r.actor === 'u-1' && r.action === 'user.role.grant')],
    ];
    for (const [query, leaves] of cases) {
      const res = await get(`?${query}`, keys.auditor);
      expect([query, res.status]).toEqual([query, 200]);
      // The redacted event's actor and target are gone with its content: filters on them no longer match it.
      const want = /actorId|targetId/.test(query) ? leaves.filter((l) => l !== redactedLeaf) : leaves;
      expect([query, ours(ndjson(res.text))]).toEqual([query, want]);
    }
    const all = ndjson((await get('', keys.auditor)).text);
    const limited = ndjson((await get('?limit=3', keys.auditor)).text);
    expect(limited).toEqual(all.slice(0, 3));
    const recordedAt = all[firstLeaf + 2]!.recordedAt;
    const since = ndjson((await get(`?since=${encodeURIComponent(recordedAt)}`, keys.auditor)).text);
    expect(since.every((e) => e.recordedAt >= recordedAt)).toBe(true);
    expect(since.map((e) => e.leafIndex)).toContain(firstLeaf + 2);
    const until = ndjson((await get(`?until=${encodeURIComponent(recordedAt)}`, keys.auditor)).text);
    expect(until.every((e) => e.recordedAt < recordedAt)).toBe(true);
    const old = await get(`?treeSize=${firstLeaf + 2}`, keys.auditor);
    expect(old.headers.get('x-export-tree-size')).toBe(String(firstLeaf + 2));
    expect(ndjson(old.text).map((e) => e.leafIndex)).toEqual(Array.from({ length: firstLeaf + 2 }, (_, i) => i));
  });

  it('gives a READER only its groups, and refuses other groups, other roles and callers without a key', async () => {
    const own = await get('', readerA);
    expect(own.status).toBe(200);
    const events = ndjson(own.text);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.groups.includes(groupA))).toBe(true);
    expect(ours(events)).toEqual(expected((r) => r.group === groupA));
    const unscoped = await get('', keys.reader);
    expect([unscoped.status, unscoped.text]).toEqual([200, '']);

    const refusals: [string, string | undefined, number, string][] = [
      [`?groupId=${groupB}`, readerA, 403, 'FORBIDDEN'],
      ['', keys.appender, 403, 'FORBIDDEN'],
      ['', keys.admin, 403, 'FORBIDDEN'],
      ['', undefined, 401, 'UNAUTHENTICATED'],
      ['', 'alk_not-a-key', 401, 'UNAUTHENTICATED'],
    ];
    for (const [query, token, status, code] of refusals) {
      const before = await treeSize();
      const res = await get(query, token);
      expect([query, token === undefined, res.status, (JSON.parse(res.text) as { error: { code: string } }).error.code]).toEqual([query, token === undefined, status, code]);
      // The first refusal of each caller is recorded at once (later ones in its window are counted into one event).
      expect(await treeSize()).toBe(before + 1);
      expect(await eventAt(before)).toMatchObject({ action: 'ledger.access.denied', outcome: 'DENIED', metadata: { operation: 'export', code } });
    }
    expect((await get('', undefined)).headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers bad parameters 400 BAD_USER_INPUT and writes nothing', async () => {
    const bad = [
      '?format=xml',
      '?format=csv&format=ndjson',
      '?colour=blue',
      '?limit=0',
      '?limit=-1',
      '?limit=ten',
      '?since=yesterday',
      '?until=2026-13-45',
      '?since=2026-02-01&until=2026-01-01',
      '?action=user.*.grant',
      '?outcome=MAYBE',
      '?actorId=',
      '?treeSize=999999999',
      '?format=csv&proofs=true',
      `?${Array.from({ length: 65 }, (_, i) => `groupId=g${i}`).join('&')}`,
    ];
    const before = await treeSize();
    for (const query of bad) {
      const res = await get(query, keys.auditor);
      const body = JSON.parse(res.text) as { error: { code: string; message: string } };
      expect([query, res.status, body.error.code]).toEqual([query, 400, 'BAD_USER_INPUT']);
      expect(body.error.message.length).toBeGreaterThan(0);
    }
    expect(await treeSize()).toBe(before);
    // Without a key, the refusal comes first (and is the one thing recorded).
    const anonymous = await get('?format=xml', undefined);
    expect(anonymous.status).toBe(401);
    expect((await gql(server.url, '{ checkpoint { treeSize } }')).data).toBeDefined();
  });

  it('writes CSV with a header row and RFC 4180 quoting', async () => {
    const res = await get('?format=csv', keys.auditor);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    const [header, ...rows] = parseCsv(res.text);
    expect(header).toEqual([...CSV_COLUMNS]);
    const json = ndjson((await get('', keys.auditor)).text);
    expect(rows.map((r) => Number(r[0]))).toEqual(json.slice(0, rows.length).map((e) => e.leafIndex));
    const col = (name: (typeof CSV_COLUMNS)[number]): number => CSV_COLUMNS.indexOf(name);
    const first = rows.find((r) => Number(r[col('leafIndex')]) === firstLeaf)!;
    expect(first[col('actorName')]).toBe(`${MARKER} "Ann", the 1st`);
    expect(first[col('reason')]).toBe('line one\r\nline two');
    expect(JSON.parse(first[col('metadata')]!)).toEqual({ note: `${MARKER}, "quoted"`, n: 1 });
    expect(first[col('leaf')]).toBe(json[firstLeaf]!.leaf);
    expect(first[col('groups')]).toBe(groupA);
    const redacted = rows.find((r) => Number(r[col('leafIndex')]) === redactedLeaf)!;
    expect([redacted[col('redacted')], redacted[col('actorId')], redacted[col('leaf')], redacted[col('leafHash')]]).toEqual(['true', '[redacted]', '', json[redactedLeaf]!.leafHash]);
  });

  it('exports an evidence bundle that verifies offline, the redacted event as leaf hash and proof only', async () => {
    const res = await get(`?format=bundle&groupId=${groupA}`, keys.auditor);
    expect(res.status).toBe(200);
    const report = verifyEvidenceBundle(res.text, vkey);
    expect(report.problems).toEqual([]);
    expect(report.summary).toMatchObject({ entries: expected((r) => r.group === groupA).length, redacted: 1 });
    const lines = res.text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const entry = lines.find((l) => l.leafIndex === redactedLeaf)!;
    expect(Object.keys(entry).sort()).toEqual(['leafHash', 'leafIndex', 'proof', 'redacted']);
  });

  it('the export CLI writes a file whole (no progress bar off a terminal), with clear errors and exit codes', async () => {
    const out = path.join(le.dataDir, 'events.ndjson');
    const ok = await runCli(['export', '--url', server.url, '--token', keys.auditor, '--action', 'invoice.*', '--out', out], le.env);
    expect(ok.stderr).toMatch(/^export: \d+ events \(ndjson\) of the log at size \d+, written to .*events\.ndjson\n$/);
    expect(ok.code).toBe(0);
    expect(ours(ndjson(await readFile(out, 'utf8')))).toEqual(expected((r) => r.action === 'invoice.refund'));
    const csv = await runCli(['export', '--url', server.url, '--token', keys.auditor, '--format', 'csv', '--group', groupB, '--limit', '2'], le.env);
    expect(csv.code).toBe(0);
    expect(parseCsv(csv.stdout)).toHaveLength(3);

    const forbidden = await runCli(['export', '--url', server.url, '--token', keys.appender, '--out', path.join(le.dataDir, 'no.ndjson')], le.env);
    expect([forbidden.code, forbidden.stderr]).toEqual([1, 'audit-ledger: FORBIDDEN: readEvents needs one of the roles AUDITOR, READER\n']);
    await expect(readFile(path.join(le.dataDir, 'no.ndjson'))).rejects.toThrow(/ENOENT/);
    const badInput = await runCli(['export', '--url', server.url, '--token', keys.auditor, '--since', 'yesterday'], le.env);
    expect([badInput.code, badInput.stderr]).toEqual([1, expect.stringMatching(/^audit-ledger: BAD_USER_INPUT: since: must be an ISO-8601 date/)]);
    const noKey = await runCli(['export', '--url', server.url], { ...le.env, AUDIT_LEDGER_TOKEN: '' });
    expect([noKey.code, noKey.stderr]).toEqual([2, 'audit-ledger: an API key is needed: --token or AUDIT_LEDGER_TOKEN\n']);
    const badFormat = await runCli(['export', '--url', server.url, '--token', keys.auditor, '--format', 'xml'], le.env);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/argument 'xml' is invalid/);
  });

  it('audit --all-events checks every event through one export, recorded as one read', async () => {
    const state = path.join(le.dataDir, 'audit-state.json');
    const before = await treeSize();
    const audit = await runCli(['audit', '--url', server.url, '--vkey', vkey, '--state', state, '--all-events', '--token', keys.auditor], le.env);
    expect(audit.stderr).toBe('');
    expect(audit.code).toBe(0);
    expect(audit.stdout).toContain(`${before - 1} events verified against their leaves and the tree, 1 redacted (leaf hashes proven)`);
    expect(await treeSize()).toBe(before + 1);
    expect(await eventAt(before)).toMatchObject({ action: 'ledger.events.read', metadata: { operation: 'export', format: 'ndjson', proofs: true, treeSize: before } });
  });

  it('verify-bundle checks a bundle with the server stopped, and names an altered entry', async () => {
    const bundle = path.join(le.dataDir, 'evidence.jsonl');
    const made = await runCli(['export', '--url', server.url, '--token', keys.auditor, '--format', 'bundle', '--out', bundle], le.env);
    expect(made.code).toBe(0);
    await server.stop();
    const ok = await runCli(['verify-bundle', bundle, '--vkey', vkey], {});
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^verify-bundle: OK: \d+ entries \(1 redacted: leaf hash proven, no content\) proven against the checkpoint of .* at size \d+, root [0-9a-f]{16}…/);

    const text = await readFile(bundle, 'utf8');
    const altered = path.join(le.dataDir, 'altered.jsonl');
    await writeFile(altered, text.replace('user.role.revoke', 'user.role.revokf'));
    const bad = await runCli(['verify-bundle', altered, '--vkey', vkey], {});
    expect(bad.code).toBe(1);
    const line = text.split('\n').findIndex((l) => l.includes('user.role.revoke')) + 1;
    const leaf = (JSON.parse(text.split('\n')[line - 1]!) as { leafIndex: number }).leafIndex;
    expect(bad.stdout).toContain(`  line ${line}, leaf ${leaf}: the leaf text does not hash to leafHash`);
    expect(bad.stdout).toMatch(/verify-bundle: FAILED: 1 problem in .*altered\.jsonl/);
    const missing = await runCli(['verify-bundle', path.join(le.dataDir, 'nope.jsonl'), '--vkey', vkey], {});
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/^audit-ledger: cannot read .*nope\.jsonl: ENOENT\n$/)]);
    const noKey = await runCli(['verify-bundle', bundle], {});
    expect(noKey.code).toBe(2);
  });
});

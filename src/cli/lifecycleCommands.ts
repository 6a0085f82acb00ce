/**
 * The data-lifecycle operations from the command line, through the server's GraphQL API with
 * an API key (--token or AUDIT_LEDGER_TOKEN): `redact`, `erase-actor` (ADMIN), `hold place`,
 * `hold release`, `hold list` (AUDITOR), `retention set`, `retention list`, `retention apply`
 * (ADMIN). Every one is recorded in the log by the server, as over GraphQL.
 *
 * Exit 0 done, 1 when the server refused (the GraphQL code is printed, e.g. LEGAL_HOLD,
 * FORBIDDEN) or could not be reached, 2 for a usage mistake.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { CliError } from './cliError';
import { urlOption } from './cliOptions';

interface ApiOptions {
  readonly url: string;
  readonly token?: string;
}

const SHRED_FIELDS = 'recordedAt redacted held';
const HOLD_FIELDS = 'id reason groupIds actorCount from to placedBy releasedBy';
const POLICY_FIELDS = 'id groupIds actionPrefix keepDays';

interface ShredAnswer {
  readonly recordedAt: number | null;
  readonly redacted: number[];
  readonly held: number[];
}
interface HoldAnswer {
  readonly id: string;
  readonly reason: string;
  readonly groupIds: string[];
  readonly actorCount: number;
  readonly from: string | null;
  readonly to: string | null;
  readonly placedBy: number;
  readonly releasedBy: number | null;
}
interface PolicyAnswer {
  readonly id: string;
  readonly groupIds: string[];
  readonly actionPrefix: string;
  readonly keepDays: number;
}

/** A GraphQL call with the key; a refusal becomes a one-line error naming its code (exit 1). */
async function call<T>(opts: ApiOptions, query: string, variables: Record<string, unknown>): Promise<T> {
  const token = opts.token ?? (process.env.AUDIT_LEDGER_TOKEN || undefined);
  if (!token) throw new CliError('an API key is needed: --token or AUDIT_LEDGER_TOKEN', 2);
  let res: Response;
  try {
    res = await fetch(`${opts.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach ${opts.url}/graphql: ${cause?.code ?? cause?.message ?? (err as Error).message}`, 1);
  }
  let body: { data?: T | null; errors?: { message?: string; extensions?: { code?: string } }[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new CliError(`${opts.url}/graphql answered HTTP ${res.status} without a GraphQL response`, 1);
  }
  const error = body.errors?.[0];
  if (error) throw new CliError(`${error.extensions?.code ?? 'ERROR'}: ${error.message ?? 'the server refused the request'}`, 1);
  if (!body.data) throw new CliError(`${opts.url}/graphql answered HTTP ${res.status} without data`, 1);
  return body.data;
}

function leafIndexOption(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('expected a leaf index (a whole number ≥ 0)');
  return Number(value);
}

function keepDaysOption(value: string): number {
  if (!/^\d{1,5}$/.test(value)) throw new InvalidArgumentError('expected a number of days 0-36500');
  return Number(value);
}

function listOption(value: string, previous: string[] | undefined): string[] {
  const parts = value.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
  if (parts.length === 0) throw new InvalidArgumentError('expected one or more comma-separated values');
  return [...(previous ?? []), ...parts];
}

function timeOption(value: string): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw new InvalidArgumentError('expected an ISO 8601 date or time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z');
  return new Date(ms).toISOString();
}

function reasonOption(value: string): string {
  if (value.trim().length === 0) throw new InvalidArgumentError('a reason must not be empty');
  return value;
}

function withApi(command: Command): Command {
  return command
    .option('--url <url>', 'the ledger server (default: AUDIT_LEDGER_URL, else http://127.0.0.1:4000)', urlOption)
    .option('--token <token>', 'API key (default: AUDIT_LEDGER_TOKEN)');
}

function api(opts: { url?: string; token?: string }): ApiOptions {
  let url = opts.url ?? 'http://127.0.0.1:4000';
  if (opts.url === undefined && process.env.AUDIT_LEDGER_URL) {
    try {
      url = urlOption(process.env.AUDIT_LEDGER_URL);
    } catch (err) {
      throw new CliError(`AUDIT_LEDGER_URL: ${(err as Error).message}`, 2);
    }
  }
  return { url, ...(opts.token !== undefined && { token: opts.token }) };
}

function ranges(indices: readonly number[]): string {
  if (indices.length === 0) return 'none';
  const sorted = [...indices].sort((a, b) => a - b);
  const out: string[] = [];
  let start = sorted[0]!;
  let prev = start;
  for (const i of [...sorted.slice(1), Number.NaN]) {
    if (i === prev + 1) {
      prev = i;
      continue;
    }
    out.push(start === prev ? String(start) : `${start}-${prev}`);
    start = prev = i;
  }
  return out.join(', ');
}

function formatShred(what: string, r: ShredAnswer): string {
  const lines = [
    `${what}: ${r.redacted.length} event${r.redacted.length === 1 ? '' : 's'} redacted (${ranges(r.redacted)})${r.recordedAt !== null ? `, recorded as leaf ${r.recordedAt}` : ''}`,
  ];
  if (r.held.length > 0) lines.push(`  kept under legal hold: ${r.held.length} (${ranges(r.held)})`);
  return `${lines.join('\n')}\n`;
}

function formatHold(h: HoldAnswer): string {
  const scope = [
    ...(h.groupIds.length > 0 ? [`groups ${h.groupIds.join(',')}`] : []),
    ...(h.actorCount > 0 ? [`${h.actorCount} actor${h.actorCount === 1 ? '' : 's'}`] : []),
    ...(h.from ? [`from ${h.from}`] : []),
    ...(h.to ? [`to ${h.to}`] : []),
  ].join(', ');
  const state = h.releasedBy !== null ? `released (leaf ${h.releasedBy})` : 'active';
  return `${h.id}  ${state}  placed by leaf ${h.placedBy}  [${scope}]  ${h.reason}`;
}

function formatPolicy(p: PolicyAnswer): string {
  return `${p.id}  keep ${p.keepDays} days  action prefix ${JSON.stringify(p.actionPrefix)}  groups ${p.groupIds.length > 0 ? p.groupIds.join(',') : 'any'}`;
}

type SetExit = (code: number) => void;

export function addLifecycleCommands(program: Command, setExit: SetExit): void {
  withApi(
    program
      .command('redact')
      .description('destroy one event\'s content by crypto-shredding (ADMIN); its leaf hash and every proof stay')
      .requiredOption('--leaf <n>', 'the leaf index of the event', leafIndexOption)
      .requiredOption('--reason <text>', 'why (recorded in the log)', reasonOption),
  ).action(async (opts: { leaf: number; reason: string; url?: string; token?: string }) => {
    const data = await call<{ redactEvent: ShredAnswer }>(
      api(opts),
      `mutation($l: SafeInt!, $r: String!) { redactEvent(leafIndex: $l, reason: $r) { ${SHRED_FIELDS} } }`,
      { l: opts.leaf, r: opts.reason },
    );
    process.stdout.write(formatShred(`redact leaf ${opts.leaf}`, data.redactEvent));
    setExit(0);
  });

  withApi(
    program
      .command('erase-actor')
      .description('an erasure request (ADMIN): destroy the content of every event of an actor that no legal hold covers')
      .requiredOption('--actor <id>', 'the actor id as recorded in events (actor.id)')
      .requiredOption('--reason <text>', 'why, e.g. the request number (recorded in the log)', reasonOption),
  ).action(async (opts: { actor: string; reason: string; url?: string; token?: string }) => {
    const data = await call<{ eraseActor: ShredAnswer }>(
      api(opts),
      `mutation($a: String!, $r: String!) { eraseActor(actorId: $a, reason: $r) { ${SHRED_FIELDS} } }`,
      { a: opts.actor, r: opts.reason },
    );
    process.stdout.write(formatShred('erase-actor', data.eraseActor));
    setExit(0);
  });

  const hold = program.command('hold').description('legal holds (AUDITOR): held events are never shredded');
  withApi(
    hold
      .command('place')
      .description('place a legal hold on the events in a scope (at least one of --groups, --actors, --from, --to)')
      .option('--groups <ids>', 'group ids (comma-separated, repeatable)', listOption)
      .option('--actors <ids>', 'actor ids (comma-separated, repeatable)', listOption)
      .option('--from <time>', 'events recorded at or after this time', timeOption)
      .option('--to <time>', 'events recorded before this time', timeOption)
      .requiredOption('--reason <text>', 'why, e.g. the case (recorded in the log)', reasonOption),
  ).action(async (opts: { groups?: string[]; actors?: string[]; from?: string; to?: string; reason: string; url?: string; token?: string }) => {
    if (!opts.groups && !opts.actors && !opts.from && !opts.to) throw new CliError('hold place: give a scope: --groups, --actors, --from and/or --to', 2);
    const scope = {
      ...(opts.groups && { groupIds: opts.groups }),
      ...(opts.actors && { actorIds: opts.actors }),
      ...(opts.from && { from: opts.from }),
      ...(opts.to && { to: opts.to }),
    };
    const data = await call<{ placeLegalHold: HoldAnswer }>(
      api(opts),
      `mutation($s: HoldScopeInput!, $r: String!) { placeLegalHold(scope: $s, reason: $r) { ${HOLD_FIELDS} } }`,
      { s: scope, r: opts.reason },
    );
    process.stdout.write(`hold placed: ${data.placeLegalHold.id} (recorded as leaf ${data.placeLegalHold.placedBy})\n${formatHold(data.placeLegalHold)}\n`);
    setExit(0);
  });
  withApi(
    hold
      .command('release')
      .description('release a legal hold')
      .argument('<id>', 'the hold id (from `hold place` or `hold list`)')
      .requiredOption('--reason <text>', 'why (recorded in the log)', reasonOption),
  ).action(async (id: string, opts: { reason: string; url?: string; token?: string }) => {
    const data = await call<{ releaseLegalHold: HoldAnswer }>(
      api(opts),
      `mutation($id: ID!, $r: String!) { releaseLegalHold(id: $id, reason: $r) { ${HOLD_FIELDS} } }`,
      { id, r: opts.reason },
    );
    process.stdout.write(`hold released: ${id} (recorded as leaf ${data.releaseLegalHold.releasedBy})\n`);
    setExit(0);
  });
  withApi(hold.command('list').description('legal holds, active and released')).action(async (opts: { url?: string; token?: string }) => {
    const data = await call<{ legalHolds: HoldAnswer[] }>(api(opts), `{ legalHolds { ${HOLD_FIELDS} } }`, {});
    process.stdout.write(data.legalHolds.length === 0 ? 'no legal holds\n' : `${data.legalHolds.map(formatHold).join('\n')}\n`);
    setExit(0);
  });

  const retention = program.command('retention').description('retention policies (ADMIN): content is shredded keep-days after it was recorded');
  withApi(
    retention
      .command('set')
      .description('create a retention policy, or replace one with --id')
      .requiredOption('--keep-days <n>', 'days content is kept after recordedAt', keepDaysOption)
      .option('--action-prefix <prefix>', 'only events whose action starts with this (default: any action)')
      .option('--groups <ids>', 'only events in any of these groups (comma-separated; default: any)', listOption)
      .option('--id <id>', 'replace this policy'),
  ).action(async (opts: { keepDays: number; actionPrefix?: string; groups?: string[]; id?: string; url?: string; token?: string }) => {
    const input = {
      keepDays: opts.keepDays,
      ...(opts.actionPrefix !== undefined && { actionPrefix: opts.actionPrefix }),
      ...(opts.groups && { groupIds: opts.groups }),
      ...(opts.id !== undefined && { id: opts.id }),
    };
    const data = await call<{ setRetentionPolicy: PolicyAnswer }>(
      api(opts),
      `mutation($i: RetentionPolicyInput!) { setRetentionPolicy(input: $i) { ${POLICY_FIELDS} } }`,
      { i: input },
    );
    process.stdout.write(`retention policy set: ${formatPolicy(data.setRetentionPolicy)}\n`);
    setExit(0);
  });
  withApi(retention.command('list').description('retention policies')).action(async (opts: { url?: string; token?: string }) => {
    const data = await call<{ retentionPolicies: PolicyAnswer[] }>(api(opts), `{ retentionPolicies { ${POLICY_FIELDS} } }`, {});
    process.stdout.write(data.retentionPolicies.length === 0 ? 'no retention policies\n' : `${data.retentionPolicies.map(formatPolicy).join('\n')}\n`);
    setExit(0);
  });
  withApi(retention.command('apply').description('run the retention job now (the server also runs it every LEDGER_RETENTION_INTERVAL_MS)')).action(
    async (opts: { url?: string; token?: string }) => {
      const data = await call<{ applyRetention: { scanned: number; shredded: number; held: number; cursor: number } }>(
        api(opts),
        'mutation { applyRetention { scanned shredded held cursor } }',
        {},
      );
      const r = data.applyRetention;
      process.stdout.write(`retention applied: ${r.shredded} shredded, ${r.held} kept under legal hold, ${r.scanned} scanned; next run starts at leaf ${r.cursor}\n`);
      setExit(0);
    },
  );
}

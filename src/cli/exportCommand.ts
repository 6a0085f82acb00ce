/**
 * `export`: the events matching a filter, from the server's `GET /export`, to a file or stdout
 * (NDJSON, CSV or an evidence bundle). A progress bar is drawn on stderr when it is a terminal.
 * With `--out`, the file appears only once the export is whole (written beside it, then
 * renamed): an interrupted export leaves no file that looks complete.
 *
 * Exit 0 done; 1 when the server refused (its code printed: FORBIDDEN, BAD_USER_INPUT, …),
 * could not be reached, or cut the export off, or the file could not be written; 2 for a usage
 * mistake (also: no API key), as the other client commands.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Presets, SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { EXPORT_FORMATS, EXPORT_TREE_SIZE_HEADER, type ExportFormat } from '../export/exportedEvent';
import { CliError } from './cliError';
import { positiveIntOption, urlOption } from './cliOptions';

export interface ExportCommandOptions {
  readonly url?: string;
  readonly token?: string;
  readonly format: ExportFormat;
  readonly out?: string;
  readonly group?: string[];
  readonly actor?: string;
  readonly action?: string;
  readonly targetType?: string;
  readonly target?: string;
  readonly outcome?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: number;
  readonly treeSize?: number;
}

function listOption(value: string, previous: string[] | undefined): string[] {
  const parts = value.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
  if (parts.length === 0) throw new InvalidArgumentError('expected one or more comma-separated ids');
  return [...(previous ?? []), ...parts];
}

function treeSizeOption(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('expected a tree size (a whole number ≥ 0)');
  return Number(value);
}

export function addExportCommand(program: Command, done: (code: number) => void): void {
  program
    .command('export')
    .description('write the events matching a filter (NDJSON, CSV or an evidence bundle) from the server, with an API key that may read them')
    .addOption(new Option('--format <format>', 'ndjson, csv, or bundle (an evidence bundle: see verify-bundle)').choices(EXPORT_FORMATS).default('ndjson'))
    .option('--out <file>', 'write here (default: stdout)')
    .option('--group <ids>', 'only events in these groups (comma-separated, repeatable)', listOption)
    .option('--actor <id>', 'only events by this actor id')
    .option('--action <action>', 'only this action, or a prefix ending in * (user.role.*)')
    .option('--target-type <type>', 'only events on targets of this type')
    .option('--target <id>', 'only events on this target id')
    .addOption(new Option('--outcome <outcome>', 'only events with this outcome').choices(['SUCCESS', 'FAILURE', 'DENIED']))
    .option('--since <time>', 'recorded at or after this ISO-8601 time (2026-01-31 or 2026-01-31T12:00:00Z)')
    .option('--until <time>', 'recorded before this ISO-8601 time')
    .option('--limit <n>', 'at most n events', positiveIntOption)
    .option('--tree-size <n>', 'export (and prove against) the log at this signed size (default: the latest)', treeSizeOption)
    .option('--url <url>', 'the ledger server (default: AUDIT_LEDGER_URL, else http://127.0.0.1:4000)', urlOption)
    .option('--token <token>', 'API key (default: AUDIT_LEDGER_TOKEN)')
    .action(async (opts: ExportCommandOptions) => {
      done(await runExport(opts));
    });
}

export async function runExport(opts: ExportCommandOptions): Promise<number> {
  const token = opts.token ?? (process.env.AUDIT_LEDGER_TOKEN || undefined);
  if (!token) throw new CliError('an API key is needed: --token or AUDIT_LEDGER_TOKEN', 2);
  const base = serverUrl(opts.url);
  const url = `${base}/export?${exportParameters(opts).toString()}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach ${base}/export: ${cause?.code ?? cause?.message ?? (err as Error).message}`, 1);
  }
  if (res.status !== 200 || !res.body) throw new CliError(await refusal(res), 1);
  const treeSize = Number(res.headers.get(EXPORT_TREE_SIZE_HEADER) ?? NaN);

  const counter = new RowCounter(opts.format);
  const bar = process.stderr.isTTY && Number.isSafeInteger(treeSize) && treeSize > 0 ? progressBar(treeSize) : undefined;
  const ticker = bar ? setInterval(() => bar.update(counter.position, { rows: counter.rows.toLocaleString('en-US') }), 200) : undefined;
  const partial = opts.out !== undefined ? path.join(path.dirname(opts.out), `.${path.basename(opts.out)}.partial-${process.pid}`) : undefined;
  const sink: Writable = partial !== undefined ? createWriteStream(partial, { flags: 'wx', mode: 0o600 }) : process.stdout;
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), counter.transform(), sink, { end: partial !== undefined });
    if (opts.format === 'bundle' && !counter.ended) throw new Error('the bundle has no end line');
    if (partial !== undefined) await rename(partial, opts.out!);
  } catch (err) {
    if (partial !== undefined) await rm(partial, { force: true });
    const why = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new CliError(`the export was cut off after ${counter.rows} events (${why}); ${opts.out !== undefined ? 'no file was written' : 'the output is incomplete'}`, 1);
  } finally {
    if (ticker) clearInterval(ticker);
    if (bar) {
      bar.update(counter.position, { rows: counter.rows.toLocaleString('en-US') });
      bar.stop();
    }
  }
  const where = opts.out !== undefined ? `written to ${opts.out}` : 'written to stdout';
  process.stderr.write(`export: ${counter.rows} event${counter.rows === 1 ? '' : 's'} (${opts.format}) of the log at size ${Number.isFinite(treeSize) ? treeSize : '?'}, ${where}\n`);
  return 0;
}

function serverUrl(option: string | undefined): string {
  if (option !== undefined) return option;
  if (process.env.AUDIT_LEDGER_URL) {
    try {
      return urlOption(process.env.AUDIT_LEDGER_URL);
    } catch (err) {
      throw new CliError(`AUDIT_LEDGER_URL: ${(err as Error).message}`, 2);
    }
  }
  return 'http://127.0.0.1:4000';
}

export function exportParameters(opts: ExportCommandOptions): URLSearchParams {
  const params = new URLSearchParams({ format: opts.format });
  for (const g of opts.group ?? []) params.append('groupId', g);
  const single: [string, string | number | undefined][] = [
    ['actorId', opts.actor],
    ['action', opts.action],
    ['targetType', opts.targetType],
    ['targetId', opts.target],
    ['outcome', opts.outcome],
    ['since', opts.since],
    ['until', opts.until],
    ['limit', opts.limit],
    ['treeSize', opts.treeSize],
  ];
  for (const [name, value] of single) if (value !== undefined) params.set(name, String(value));
  return params;
}

/** The server's JSON error as one line: `FORBIDDEN: readEvents needs one of the roles AUDITOR, READER`. */
async function refusal(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.code) return `${body.error.code}: ${body.error.message ?? 'the server refused the export'}`;
  } catch {
    /* not JSON: described below */
  }
  return `the server answered HTTP ${res.status} without an export`;
}

function progressBar(treeSize: number): SingleBar {
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: 'export [{bar}] {percentage}% of the log | {rows} events | {eta_formatted} left',
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(treeSize, 0, { rows: '0' });
  return bar;
}

/**
 * Counts the rows passing through and follows the leaf index of the last one (its position in
 * the log, for the progress bar). NDJSON and bundle lines begin with `{"leafIndex":N`; a CSV
 * record begins with its leaf index, and may hold line breaks inside quotes.
 */
class RowCounter {
  rows = 0;
  position = 0;
  /** A bundle's end line was seen. */
  ended = false;
  private inQuotes = false;
  private lineStart = '';
  private skipHeader: boolean;

  constructor(private readonly format: ExportFormat) {
    this.skipHeader = format !== 'ndjson';
  }

  transform(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.scan(chunk);
        callback(null, chunk);
      },
    });
  }

  private scan(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.format === 'csv' && byte === 0x22) this.inQuotes = !this.inQuotes;
      if (this.lineStart.length < 24) this.lineStart += String.fromCharCode(byte);
      if (byte === 0x0a && !this.inQuotes) {
        this.endRecord();
        this.lineStart = '';
      }
    }
  }

  private endRecord(): void {
    if (this.skipHeader) {
      this.skipHeader = false;
      return;
    }
    const match = (this.format === 'csv' ? /^(\d+),/ : /^\{"leafIndex":(\d+)/).exec(this.lineStart);
    if (match) {
      this.rows++;
      this.position = Number(match[1]) + 1;
    } else if (this.format === 'bundle' && this.lineStart.startsWith('{"entries":')) this.ended = true;
  }
}

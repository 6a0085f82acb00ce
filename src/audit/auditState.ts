/**
 * The auditor's memory: the last checkpoint it verified, kept in a small JSON file. Only the
 * signed note counts (it is re-verified on every load); the other fields are for people.
 * Saved atomically (temp file, fsync, rename), so a crash or a full disk can never leave a
 * half-written state that would make the next run trust nothing, or the wrong thing.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

export const AUDIT_STATE_FORMAT = 'audit-ledger-audit-state/v1';

export class AuditStateError extends Error {
  override readonly name = 'AuditStateError';
}

export interface AuditState {
  /** The signed checkpoint note, verbatim. */
  readonly checkpoint: string;
  readonly url?: string;
  readonly treeSize?: number;
  readonly rootHash?: string;
  readonly savedAt?: string;
}

/** The saved state, or undefined when the file does not exist yet (a first audit). */
export async function readAuditState(file: string): Promise<AuditState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AuditStateError(`cannot read the state file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AuditStateError(`the state file ${file} is not JSON`);
  }
  const state = parsed as Partial<AuditState> & { format?: unknown };
  if (typeof parsed !== 'object' || parsed === null || state.format !== AUDIT_STATE_FORMAT || typeof state.checkpoint !== 'string') {
    throw new AuditStateError(`the state file ${file} is not an audit-ledger audit state (${AUDIT_STATE_FORMAT})`);
  }
  return state as AuditState;
}

export async function writeAuditState(file: string, state: AuditState): Promise<void> {
  const body = `${JSON.stringify({ format: AUDIT_STATE_FORMAT, ...state }, null, 2)}\n`;
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(body, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw new AuditStateError(`cannot save the state file ${file}: ${(err as Error).message}`);
  }
}

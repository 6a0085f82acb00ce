/**
 * One server process per embedded database. SQLite itself would let two servers open the
 * file, but each runs its own sequencer state and tile cache, so the second must be
 * refused: `<dataDir>/server.lock` holds the pid of the server using the folder. A lock
 * left by a process that is gone (a crash, a power loss) is taken over.
 */
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WrongDatabaseError } from '../errors';

export const LOCK_FILE = 'server.lock';

export interface ServerLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holder(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Creates the lock with our pid already in it: written aside, then hard-linked into place
 * (which fails if the lock exists), so nobody ever reads a lock without its pid.
 */
async function tryCreate(file: string): Promise<boolean> {
  const aside = `${file}.${process.pid}.tmp`;
  await writeFile(aside, `${process.pid}\n`, { mode: 0o600, flush: true });
  try {
    await link(aside, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/**
 * Takes the folder's server lock, or fails with WrongDatabaseError naming the live holder.
 * Two servers starting at the same instant over a stale lock could both remove it; the
 * exclusive create still lets only one of them have it, unless the second removes the
 * first's fresh lock between its read and its unlink: a window of microseconds, on a
 * start-up race against a crashed server's leftover.
 */
export async function acquireServerLock(dataDir: string): Promise<ServerLock> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const folder = path.resolve(dataDir);
  const file = path.join(folder, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await tryCreate(file)) {
      return {
        async release() {
          // Only our own lock: never remove one a successor took over.
          if ((await holder(file)) === process.pid) await unlink(file).catch(() => undefined);
        },
      };
    }
    const pid = await holder(file);
    if (pid !== undefined && isAlive(pid)) {
      throw new WrongDatabaseError(
        `another audit-ledger server (pid ${pid}) is using ${folder}; stop it first: the embedded SQLite database serves one server process`,
      );
    }
    await unlink(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  throw new WrongDatabaseError(`cannot take ${file}: other processes keep creating it`);
}

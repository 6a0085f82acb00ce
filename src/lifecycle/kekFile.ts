/**
 * Where the key-encryption key comes from: `LEDGER_KEK` (base64 of 32 bytes) or a key file
 * (`LEDGER_KEK_FILE`, one line `AUDIT-LEDGER-KEK-V1+<base64>`, mode 0600), created like the
 * signing key only when the database holds no sealed data yet.
 */
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { KEY_BYTES, KeyError, newKey } from './envelope';

const PREFIX = 'AUDIT-LEDGER-KEK-V1+';

export function formatKekFile(key: Uint8Array): string {
  return `${PREFIX}${Buffer.from(key).toString('base64')}\n`;
}

export function parseKek(text: string, where: string): Uint8Array {
  const trimmed = text.trim();
  const b64 = trimmed.startsWith(PREFIX) ? trimmed.slice(PREFIX.length) : trimmed;
  const key = Buffer.from(b64, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || key.length !== KEY_BYTES) {
    throw new KeyError(`${where} does not hold a key-encryption key (expected ${PREFIX}<base64 of ${KEY_BYTES} bytes>)`);
  }
  return new Uint8Array(key);
}

export async function readKekFile(file: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyError(`the key-encryption key file ${file} does not exist`);
    throw new KeyError(`cannot read the key-encryption key file ${file}: ${(err as Error).message}`);
  }
  const mode = (await stat(file)).mode & 0o077;
  if (mode !== 0) await chmod(file, 0o600).catch(() => undefined);
  return parseKek(text, file);
}

/** Creates a new key file (mode 0600, never overwriting one). */
export async function createKekFile(file: string): Promise<Uint8Array> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = newKey();
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await handle.writeFile(formatKekFile(key));
    await handle.sync();
  } finally {
    await handle.close();
  }
  return key;
}

/**
 * The log's signing key lives in a file, never in the database: whoever can write the
 * database must still not be able to sign a rewritten history. Created on first start
 * (mode 0600) in the C2SP `PRIVATE+KEY+name+hex8+base64` form; its name is the log's origin.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateSignerKey, type NoteSigner, parseSignerKey } from '../checkpoint/signer';

export class SigningKeyFileError extends Error {
  override readonly name = 'SigningKeyFileError';
}

export interface LoadedSigningKey {
  readonly signer: NoteSigner;
  readonly origin: string;
  readonly created: boolean;
}

export function defaultOrigin(): string {
  const host = os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-') || 'localhost';
  return `${host}/audit-ledger/${randomBytes(4).toString('hex')}`;
}

export async function loadOrCreateSigningKey(file: string, origin: string | undefined): Promise<LoadedSigningKey> {
  let text: string | undefined;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === undefined) {
    const name = origin ?? defaultOrigin();
    const { signerKey } = generateSignerKey(name);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      // 'wx': never overwrite a key another process created a moment ago.
      await writeFile(file, `${signerKey}\n`, { mode: 0o600, flag: 'wx' });
      return { signer: parseSignerKey(signerKey), origin: name, created: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return loadOrCreateSigningKey(file, origin);
    }
  }
  let signer: NoteSigner;
  try {
    signer = parseSignerKey(text);
  } catch (err) {
    throw new SigningKeyFileError(`${file} does not hold a valid signer key: ${(err as Error).message}`);
  }
  if (origin !== undefined && origin !== signer.name) {
    throw new SigningKeyFileError(
      `LEDGER_ORIGIN is ${JSON.stringify(origin)} but the key in ${file} is named ${JSON.stringify(signer.name)}; ` +
        'a log keeps its origin for life: unset LEDGER_ORIGIN or point LEDGER_SIGNING_KEY_FILE at the right key',
    );
  }
  return { signer, origin: signer.name, created: false };
}

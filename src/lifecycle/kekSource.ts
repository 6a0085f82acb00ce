/**
 * Finding the key-encryption key at start-up, before anything is written:
 * - the ledger already holds keys (a keyring): the KEK must be given (LEDGER_KEK, or the
 *   file LEDGER_KEK_FILE / `$LEDGER_DATA_DIR/kek.key`, which must exist: it is never created
 *   then, since a new key could open nothing);
 * - no keyring yet and encryption enabled: the key is read, or its file created (0600);
 * - neither: plaintext, as before.
 */
import { existsSync } from 'node:fs';
import type { KekConfig } from '../config';
import type { LifecycleStore } from '../storage/port';
import { type Kek, KeyError, localKek } from './envelope';
import { createKekFile, parseKek, readKekFile } from './kekFile';
import { KeyConfigurationError, Keyring } from './keyring';

export interface ResolvedKek {
  readonly kek: Kek | undefined;
  /** Whether a key file was created now. */
  readonly created: boolean;
}

export async function resolveKek(config: KekConfig, store: LifecycleStore): Promise<ResolvedKek> {
  const hasKeyring = await Keyring.exists(store);
  try {
    if (config.inline !== undefined) return { kek: localKek(parseKek(config.inline, 'LEDGER_KEK')), created: false };
    if (existsSync(config.file)) {
      if (!config.enabled && !hasKeyring) return { kek: undefined, created: false };
      return { kek: localKek(await readKekFile(config.file)), created: false };
    }
    if (hasKeyring) {
      throw new KeyConfigurationError(
        `this ledger stores events encrypted, and its key-encryption key file ${config.file} does not exist: restore it from your key backup (or set LEDGER_KEK_FILE / LEDGER_KEK); the server does not start without it`,
      );
    }
    if (!config.enabled) return { kek: undefined, created: false };
    return { kek: localKek(await createKekFile(config.file)), created: true };
  } catch (err) {
    if (err instanceof KeyError) throw new KeyConfigurationError(err.message);
    throw err;
  }
}

import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const engine = globalThis.__LEDGER_TEST_ENGINE__;
  if (!engine) return;
  await engine.stop();
  if (process.env.LEDGER_TEST_DATA_DIR) await rm(process.env.LEDGER_TEST_DATA_DIR, { recursive: true, force: true });
}

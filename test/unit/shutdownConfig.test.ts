import { ConfigError, DEFAULT_SHUTDOWN_TIMEOUT_MS, loadConfig } from '../../src/config';

describe('LEDGER_SHUTDOWN_TIMEOUT_MS', () => {
  it('defaults to the shutdown deadline, and takes milliseconds', () => {
    expect(loadConfig({}).shutdownTimeoutMs).toBe(DEFAULT_SHUTDOWN_TIMEOUT_MS);
    expect(loadConfig({ LEDGER_SHUTDOWN_TIMEOUT_MS: '2500' }).shutdownTimeoutMs).toBe(2500);
  });

  it.each(['0', '-1', '10s', '1.5'])('refuses %j at start', (value) => {
    expect(() => loadConfig({ LEDGER_SHUTDOWN_TIMEOUT_MS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ LEDGER_SHUTDOWN_TIMEOUT_MS: value })).toThrow(/LEDGER_SHUTDOWN_TIMEOUT_MS must be a positive whole number/);
  });
});

import { wholeNumberOption } from '../../src/cli/cliOptions';
import { ConfigError, loadConfig } from '../../src/config';
import { DEFAULT_SEALED_READ_CACHE_ENTRIES } from '../../src/lifecycle/sealedReadCache';

describe('LEDGER_SEALED_READ_CACHE', () => {
  it('defaults to the cache size, and takes 0 for none', () => {
    expect(loadConfig({}).kek.readCacheEntries).toBe(DEFAULT_SEALED_READ_CACHE_ENTRIES);
    expect(loadConfig({ LEDGER_SEALED_READ_CACHE: '0' }).kek.readCacheEntries).toBe(0);
    expect(loadConfig({ LEDGER_SEALED_READ_CACHE: '1000' }).kek.readCacheEntries).toBe(1000);
  });

  it.each(['-1', 'lots', '1e3', '12345678'])('refuses %j at start', (value) => {
    expect(() => loadConfig({ LEDGER_SEALED_READ_CACHE: value })).toThrow(ConfigError);
    expect(() => loadConfig({ LEDGER_SEALED_READ_CACHE: value })).toThrow(/LEDGER_SEALED_READ_CACHE must be a number of events/);
  });
});

describe('verify-db --workers', () => {
  it('takes 0 or a whole number', () => {
    expect(wholeNumberOption('0')).toBe(0);
    expect(wholeNumberOption('3')).toBe(3);
  });

  it.each(['-1', 'two', '1.5', '01', '99999'])('refuses %j with a usage error', (value) => {
    expect(() => wholeNumberOption(value)).toThrow(/expected a whole number/);
  });
});

import { ConfigError, loadConfig } from '../../src/config';

describe('LEDGER_METRICS', () => {
  it('is off by default', () => {
    expect(loadConfig({}).metrics).toEqual({ mode: 'off' });
  });

  it('takes on, and token with a long enough token', () => {
    expect(loadConfig({ LEDGER_METRICS: 'on' }).metrics).toEqual({ mode: 'on' });
    const token = 'a'.repeat(32);
    expect(loadConfig({ LEDGER_METRICS: 'token', LEDGER_METRICS_TOKEN: token }).metrics).toEqual({ mode: 'token', token });
  });

  it.each([
    [{ LEDGER_METRICS: 'yes' }, /LEDGER_METRICS must be off, on or token/],
    [{ LEDGER_METRICS: 'token' }, /needs LEDGER_METRICS_TOKEN/],
    [{ LEDGER_METRICS: 'token', LEDGER_METRICS_TOKEN: 'short' }, /at least 24/],
    [{ LEDGER_METRICS: 'token', LEDGER_METRICS_TOKEN: `${'a'.repeat(30)} b` }, /without spaces/],
    [{ LEDGER_METRICS: 'on', LEDGER_METRICS_TOKEN: 'a'.repeat(32) }, /LEDGER_METRICS_TOKEN is set but LEDGER_METRICS is on/],
  ])('refuses %j at start', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

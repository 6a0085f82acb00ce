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

describe('LEDGER_MAX_BODY_BYTES_IN_FLIGHT and LEDGER_BODY_WAIT_MS', () => {
  it('default to 32 MiB of bodies in flight and a 10 s wait', () => {
    expect(loadConfig({}).http).toMatchObject({ maxBodyBytesInFlight: 32 * 1024 * 1024, bodyWaitMs: 10_000 });
    expect(loadConfig({ LEDGER_MAX_BODY_BYTES_IN_FLIGHT: '1000000', LEDGER_BODY_WAIT_MS: '250' }).http).toMatchObject({ maxBodyBytesInFlight: 1_000_000, bodyWaitMs: 250 });
  });

  it.each([[{ LEDGER_MAX_BODY_BYTES_IN_FLIGHT: 'lots' }, /LEDGER_MAX_BODY_BYTES_IN_FLIGHT/], [{ LEDGER_BODY_WAIT_MS: '-1' }, /LEDGER_BODY_WAIT_MS/], [{ LEDGER_BODY_WAIT_MS: '0' }, /LEDGER_BODY_WAIT_MS/]])(
    'refuses %j at start',
    (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    },
  );
});

import { ConfigError, loadConfig, WITNESS_DEFAULTS } from '../../src/config';
import { generateSignerKey } from '../../src/checkpoint/signer';
import { createTestCosigner } from '../support/testCosigner';

const a = createTestCosigner('witness.example/a', 'config-a');
const b = createTestCosigner('witness.example/b', 'config-b');

describe('witness settings', () => {
  it('default to no witnesses, nothing waited for, republishing every 5 minutes', () => {
    expect(loadConfig({}).witnessing).toEqual({ witnesses: [], quorum: 0, waitForQuorum: false, ...WITNESS_DEFAULTS });
    expect(WITNESS_DEFAULTS.republishIntervalMs).toBe(300_000);
  });

  it('read one witness per line or comma, named by its key, with a quorum of 1 by default', () => {
    const config = loadConfig({ LEDGER_WITNESSES: `${a.verifierKey} http://127.0.0.1:7380/\n ${b.verifierKey}  https://w.example/b ` }).witnessing;
    expect(config.witnesses).toEqual([
      { name: 'witness.example/a', verifierKey: a.verifierKey, url: 'http://127.0.0.1:7380' },
      { name: 'witness.example/b', verifierKey: b.verifierKey, url: 'https://w.example/b' },
    ]);
    expect(config.quorum).toBe(1);
    const commas = loadConfig({ LEDGER_WITNESSES: `${a.verifierKey} http://a.example,${b.verifierKey} http://b.example`, LEDGER_WITNESS_QUORUM: '2' });
    expect(commas.witnessing.witnesses).toHaveLength(2);
    expect(commas.witnessing.quorum).toBe(2);
  });

  it('take the wait switch, its bound, the republish interval (0 or off: never) and the request timeout', () => {
    const config = loadConfig({
      LEDGER_WITNESSES: `${a.verifierKey} http://a.example`,
      LEDGER_WITNESS_WAIT: 'on',
      LEDGER_WITNESS_WAIT_MS: '2500',
      LEDGER_WITNESS_REPUBLISH_MS: '1000',
      LEDGER_WITNESS_TIMEOUT_MS: '700',
    }).witnessing;
    expect(config).toMatchObject({ waitForQuorum: true, waitTimeoutMs: 2500, republishIntervalMs: 1000, requestTimeoutMs: 700 });
    expect(loadConfig({ LEDGER_WITNESS_REPUBLISH_MS: '0' }).witnessing.republishIntervalMs).toBe(0);
    expect(loadConfig({ LEDGER_WITNESS_REPUBLISH_MS: 'off' }).witnessing.republishIntervalMs).toBe(0);
  });

  const logKey = generateSignerKey('log.example').verifierKey;
  it.each([
    [{ LEDGER_WITNESSES: a.verifierKey }, /entries must be "<verifier key> <url>"/],
    [{ LEDGER_WITNESSES: `${a.verifierKey} http://a.example extra` }, /entries must be "<verifier key> <url>"/],
    [{ LEDGER_WITNESSES: `${logKey} http://a.example` }, /not a cosignature\/v1 witness key.*Ed25519 note key/],
    [{ LEDGER_WITNESSES: `${a.verifierKey.slice(0, -2)}AA http://a.example` }, /not a cosignature\/v1 witness key/],
    [{ LEDGER_WITNESSES: `${a.verifierKey} ftp://a.example` }, /must be an http:\/\/ or https:\/\/ URL/],
    [{ LEDGER_WITNESSES: `${a.verifierKey} http://a.example/?x=1` }, /without query/],
    [{ LEDGER_WITNESSES: `${a.verifierKey} http://a.example,${a.verifierKey} http://b.example` }, /lists witness.example\/a twice/],
    [{ LEDGER_WITNESSES: `${a.verifierKey} http://a.example`, LEDGER_WITNESS_QUORUM: '2' }, /QUORUM must be a whole number from 1 to the number of witnesses, 1/],
    [{ LEDGER_WITNESSES: `${a.verifierKey} http://a.example`, LEDGER_WITNESS_QUORUM: '0' }, /QUORUM must be/],
    [{ LEDGER_WITNESS_QUORUM: '1' }, /QUORUM is set but LEDGER_WITNESSES lists no witness/],
    [{ LEDGER_WITNESS_WAIT: 'on' }, /WAIT is on but LEDGER_WITNESSES lists no witness/],
    [{ LEDGER_WITNESS_WAIT: 'maybe' }, /LEDGER_WITNESS_WAIT must be true or false/],
    [{ LEDGER_WITNESS_WAIT_MS: '0' }, /LEDGER_WITNESS_WAIT_MS must be a positive whole number/],
    [{ LEDGER_WITNESS_REPUBLISH_MS: '500' }, /REPUBLISH_MS must be a number of milliseconds of at least 1000, or 0\/off/],
    [{ LEDGER_WITNESS_REPUBLISH_MS: '5m' }, /REPUBLISH_MS must be/],
    [{ LEDGER_WITNESS_TIMEOUT_MS: '-5' }, /LEDGER_WITNESS_TIMEOUT_MS must be a positive whole number/],
  ])('refuse %j at start with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

import { generateSignerKey, signCheckpoint } from '../../src/checkpoint/signer';
import {
  COSIGNATURE_V1_TYPE,
  VerificationError,
  WitnessQuorumError,
  assertWitnessPolicy,
  computeKeyId,
  cosignatureMessage,
  createWitnessPolicy,
  decodeCosignature,
  encodeCosignature,
  evaluateWitnessPolicy,
  formatSignatureLine,
  formatWitnessKey,
  parseNote,
  parseWitnessKey,
  parseWitnessPolicy,
  verifyCosignatures,
  verifyCosignedCheckpoint,
} from '../../src/verify';
import { base64 } from '@scure/base';
import goVectors from '../fixtures/cosignature-torchwood-vectors.json';
import { createTestCosigner } from '../support/testCosigner';
import { verificationCode as code } from '../support/verificationCode';

const log = generateSignerKey('example.com/log');
const body = { origin: 'example.com/log', treeSize: 5, rootHash: new Uint8Array(32).fill(7) };
const note = signCheckpoint(body, log.signerKey);
const text = parseNote(note).text;
const w1 = createTestCosigner('witness.example/one', 'w1');
const w2 = createTestCosigner('witness.example/two', 'w2');
const w3 = createTestCosigner('witness.example/three', 'w3');
const T = 1_767_225_600; // 2026-01-01T00:00:00Z

function statuses(n: string, keys = [w1, w2, w3]): string[] {
  return verifyCosignatures(
    n,
    keys.map((k) => k.verifierKey),
  ).map((c) => `${c.witness.name}:${c.status}${c.timestamp === undefined ? '' : `@${c.timestamp}`}`);
}

/** Replaces the payload of the line for `name` by mutate(payload). */
function mutateLine(n: string, name: string, mutate: (payload: Uint8Array) => Uint8Array): string {
  return n.replace(new RegExp(`^\u2014 ${name.replace(/[./]/g, '\\$&')} (\\S+)$`, 'm'), (_l, b64: string) => {
    return `\u2014 ${name} ${base64.encode(mutate(base64.decode(b64)))}`;
  });
}

describe('witness keys', () => {
  it('round-trips and computes the key ID over name, newline, 0x04 and key', () => {
    const w = parseWitnessKey(w1.verifierKey);
    expect(formatWitnessKey(w.name, w.publicKey)).toBe(w1.verifierKey);
    expect(w.keyId).toBe(computeKeyId(w.name, Uint8Array.of(COSIGNATURE_V1_TYPE, ...w.publicKey)));
    expect(w.verifierKey).toBe(w1.verifierKey);
  });

  it.each([
    ['a log (0x01) key', () => log.verifierKey],
    ['a key ID that does not match', () => w1.verifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')],
    ['a short key', () => `${w1.verifierKey.split('+').slice(0, 2).join('+')}+BA==`],
    ['a missing part', () => w1.verifierKey.split('+').slice(0, 2).join('+')],
    ['an extra part', () => `${w1.verifierKey}+x`],
    ['a name with a space', () => `a b+${w1.verifierKey.split('+').slice(1).join('+')}`],
  ])('rejects %s', (_what, key) => {
    expect(code(() => parseWitnessKey(key()))).toBe('MALFORMED_KEY');
  });

  it('says when a log key is passed as a witness key', () => {
    expect(() => parseWitnessKey(log.verifierKey)).toThrow(/0x01.*log/);
  });
});

describe('cosignature encoding', () => {
  it('signs cosignature/v1, the time line and the checkpoint text', () => {
    expect(new TextDecoder().decode(cosignatureMessage(text, 42))).toBe(`cosignature/v1\ntime 42\n${text}`);
  });

  it('encodes timestamp big-endian before the signature', () => {
    const payload = encodeCosignature({ timestamp: 0x0102030405, signature: new Uint8Array(64).fill(9) });
    expect([...payload.subarray(0, 8)]).toEqual([0, 0, 0, 1, 2, 3, 4, 5]);
    expect(decodeCosignature(payload)).toEqual({ timestamp: 0x0102030405, signature: new Uint8Array(64).fill(9) });
  });

  it('refuses payloads of the wrong size or with a timestamp beyond 2^53', () => {
    expect(decodeCosignature(new Uint8Array(71))).toBeUndefined();
    expect(decodeCosignature(new Uint8Array(64))).toBeUndefined();
    expect(decodeCosignature(Uint8Array.of(0x80, ...new Uint8Array(71)))).toBeUndefined();
  });
});

describe('verifyCosignatures', () => {
  const cosigned = w2.cosign(w1.cosign(note, T), T + 60);

  it('reports valid, absent and the witness timestamps', () => {
    expect(statuses(cosigned)).toEqual([`witness.example/one:valid@${T}`, `witness.example/two:valid@${T + 60}`, 'witness.example/three:absent']);
  });

  it('still verifies the log signature alongside', () => {
    const result = verifyCosignedCheckpoint(cosigned, log.verifierKey, createWitnessPolicy([w1.verifierKey, w2.verifierKey], 2));
    expect(result.treeSize).toBe(5);
    expect(result.witnesses.newestTimestamp).toBe(T + 60);
  });

  it.each<[string, () => string, string]>([
    ['wrong key ID on the line', () => mutateLine(cosigned, w1.name, (p) => Uint8Array.of(p[0]! ^ 1, ...p.subarray(1))), 'absent'],
    ['changed timestamp bytes', () => mutateLine(cosigned, w1.name, (p) => Uint8Array.from(p, (b, i) => (i === 11 ? b ^ 1 : b))), `invalid@${T ^ 1}`],
    ['changed signature bytes', () => mutateLine(cosigned, w1.name, (p) => Uint8Array.from(p, (b, i) => (i === 40 ? b ^ 1 : b))), `invalid@${T}`],
    ['truncated payload', () => mutateLine(cosigned, w1.name, (p) => p.subarray(0, 75)), 'invalid'],
    ['extra payload byte', () => mutateLine(cosigned, w1.name, (p) => Uint8Array.of(...p, 0)), 'invalid'],
    [
      'a cosignature of another checkpoint',
      () => note + w1.line(text.replace('\n5\n', '\n6\n'), T),
      `invalid@${T}`,
    ],
    [
      'a plain Ed25519 signature under the witness key ID',
      () => note + formatSignatureLine({ name: w1.name, keyId: w1.keyId, signature: new Uint8Array(64).fill(1) }),
      'invalid',
    ],
  ])('%s', (_what, make, expected) => {
    expect(statuses(make())[0]).toBe(`witness.example/one:${expected}`);
  });

  it('rejects the cosignature when the body is altered (the log signature fails too)', () => {
    const altered = cosigned.replace('\n5\n', '\n6\n');
    expect(statuses(altered).slice(0, 2)).toEqual([`witness.example/one:invalid@${T}`, `witness.example/two:invalid@${T + 60}`]);
    expect(code(() => verifyCosignedCheckpoint(altered, log.verifierKey, createWitnessPolicy([w1.verifierKey], 1)))).toBe('INVALID_SIGNATURE');
  });

  it('ignores the log signature even when the witness shares the log name', () => {
    const sameName = createTestCosigner('example.com/log', 'same-name');
    expect(statuses(note, [sameName])).toEqual(['example.com/log:absent']);
    expect(statuses(sameName.cosign(note, T), [sameName])).toEqual([`example.com/log:valid@${T}`]);
  });

  it('ignores unknown signature lines', () => {
    const other = createTestCosigner('someone.else', 'other');
    expect(statuses(other.cosign(cosigned, T))).toEqual(statuses(cosigned));
  });

  it('counts only the first line of a witness', () => {
    const twice = w1.cosign(cosigned, T + 1);
    expect(statuses(twice)[0]).toBe(`witness.example/one:valid@${T}`);
    const badFirst = w1.cosign(mutateLine(w1.cosign(note, T), w1.name, (p) => Uint8Array.from(p, (b, i) => (i === 40 ? b ^ 1 : b))), T);
    expect(statuses(badFirst)[0]).toBe(`witness.example/one:invalid@${T}`);
  });

  it('refuses notes whose text is not a checkpoint', () => {
    const other = createTestCosigner('w', 'w');
    expect(code(() => verifyCosignatures(`hello\n\n${other.line('hello\n', T)}`, [other.verifierKey]))).toBe('MALFORMED_CHECKPOINT');
  });

  it('refuses a witness listed twice', () => {
    expect(code(() => verifyCosignatures(cosigned, [w1.verifierKey, w1.verifierKey]))).toBe('INVALID_ARGUMENT');
  });
});

describe('cosignatures made by torchwood (Go)', () => {
  const keys = Object.values(goVectors.witnessKeys);
  const policy = createWitnessPolicy(keys, 2);
  const flipIn = (n: string, name: string, index: number) => mutateLine(n, name, (p) => Uint8Array.from(p, (b, i) => (i === index ? b ^ 1 : b)));

  it('verify, with the log signature and the timestamps Go wrote', () => {
    const result = verifyCosignedCheckpoint(goVectors.note, goVectors.logVerifierKey, policy);
    expect(result.extensions).toEqual(['extension line']);
    expect(result.witnesses.cosignatures.map((c) => [c.witness.name, c.status, c.timestamp])).toEqual([
      ['witness.example/a', 'valid', goVectors.timestamps[0]],
      ['witness.example/b', 'valid', goVectors.timestamps[1]],
    ]);
  });

  it('match the key strings of our own encoder for the same seeds', () => {
    expect([createTestCosigner('witness.example/a', 'a').verifierKey, createTestCosigner('witness.example/b', 'b').verifierKey]).toEqual(keys);
  });

  it.each<[string, () => string, string[]]>([
    ['key ID byte changed', () => flipIn(goVectors.note, 'witness.example/a', 3), ['absent', 'valid']],
    ['timestamp byte changed', () => flipIn(goVectors.note, 'witness.example/a', 11), ['invalid', 'valid']],
    ['signature byte changed', () => flipIn(goVectors.note, 'witness.example/b', 50), ['valid', 'invalid']],
    ['extension line altered', () => goVectors.note.replace('extension line', 'extension lime'), ['invalid', 'invalid']],
    ['cosignature line dropped', () => goVectors.note.replace(/^\u2014 witness\.example\/b .*\n/m, ''), ['valid', 'absent']],
    ['line repeated', () => goVectors.note + goVectors.note.split('\n').filter((l) => l.includes('witness.example/a ')).join('') + '\n', ['valid', 'valid']],
  ])('%s', (_what, make, expected) => {
    const result = evaluateWitnessPolicy(make(), policy);
    expect(result.cosignatures.map((c) => c.status)).toEqual(expected);
    expect(result.satisfied).toBe(expected.every((s) => s === 'valid'));
  });
});

describe('witness policies', () => {
  const keys = [w1.verifierKey, w2.verifierKey, w3.verifierKey];
  const twoOfThree = createWitnessPolicy(keys, 2);

  it.each<[string, () => string, boolean]>([
    ['two of three', () => w3.cosign(w1.cosign(note, T), T), true],
    ['all three', () => w3.cosign(w2.cosign(w1.cosign(note, T), T), T), true],
    ['one', () => w1.cosign(note, T), false],
    ['one witness twice', () => w1.cosign(w1.cosign(note, T), T + 1), false],
    ['none', () => note, false],
    ['two with one broken', () => mutateLine(w2.cosign(w1.cosign(note, T), T), w2.name, (p) => p.subarray(0, p.length - 1)), false],
  ])('2 of 3: %s', (_what, make, satisfied) => {
    expect(evaluateWitnessPolicy(make(), twoOfThree).satisfied).toBe(satisfied);
  });

  it('throws WITNESS_QUORUM naming missing and invalid witnesses', () => {
    const n = mutateLine(w2.cosign(w1.cosign(note, T), T), w2.name, (p) => p.subarray(0, p.length - 1));
    let error: unknown;
    try {
      assertWitnessPolicy(n, twoOfThree);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WitnessQuorumError);
    expect(error).toBeInstanceOf(VerificationError);
    const e = error as WitnessQuorumError;
    expect(e.code).toBe('WITNESS_QUORUM');
    expect(e.message).toBe(
      'checkpoint does not satisfy the witness policy (2 of 3 witnesses): 1 valid cosignature (witness.example/one); ' +
        'missing: witness.example/three; invalid: witness.example/two (cosignature must be 76 bytes with a timestamp below 2^53)',
    );
    expect(e.result.cosignatures.map((c) => c.status)).toEqual(['valid', 'invalid', 'absent']);
  });

  it.each([
    ['k > n', () => createWitnessPolicy(keys, 4)],
    ['negative k', () => createWitnessPolicy(keys, -1)],
    ['fractional k', () => createWitnessPolicy(keys, 1.5)],
    ['a duplicated key', () => createWitnessPolicy([w1.verifierKey, w1.verifierKey], 1)],
  ])('refuses %s', (_what, make) => {
    expect(code(make)).toBe('INVALID_ARGUMENT');
  });

  it('a quorum of 0 only reports', () => {
    expect(evaluateWitnessPolicy(note, createWitnessPolicy(keys, 0))).toMatchObject({ satisfied: true, quorum: 'none required' });
  });

  describe('policy files', () => {
    const file = [
      '# two EU witnesses, both needed, or the US one',
      `witness one ${w1.verifierKey} https://one.example/`,
      `witness two ${w2.verifierKey}`,
      `witness three ${w3.verifierKey}`,
      'group eu all one two',
      'group main any eu three   # comment',
      'quorum main',
      '',
    ].join('\n');
    const policy = parseWitnessPolicy(file);

    it.each<[string, () => string, boolean]>([
      ['eu group complete', () => w2.cosign(w1.cosign(note, T), T), true],
      ['us witness alone', () => w3.cosign(note, T), true],
      ['half of eu', () => w1.cosign(note, T), false],
    ])('%s', (_what, make, satisfied) => {
      expect(evaluateWitnessPolicy(make(), policy).satisfied).toBe(satisfied);
    });

    it('describes its quorum', () => {
      expect(evaluateWitnessPolicy(note, policy).quorum).toBe('group main (1 of 2)');
      expect(policy.witnesses.map((w) => w.name)).toEqual([w1.name, w2.name, w3.name]);
    });

    it('accepts quorum none and a single witness quorum', () => {
      expect(evaluateWitnessPolicy(note, parseWitnessPolicy(`witness a ${w1.verifierKey}\nquorum none\n`)).satisfied).toBe(true);
      expect(evaluateWitnessPolicy(note, parseWitnessPolicy(`witness a ${w1.verifierKey}\nquorum a\n`)).satisfied).toBe(false);
    });

    it.each([
      ['no quorum', `witness a ${w1.verifierKey}\n`],
      ['two quorums', `witness a ${w1.verifierKey}\nquorum a\nquorum a\n`],
      ['undefined member', `witness a ${w1.verifierKey}\ngroup g any a b\nquorum g\n`],
      ['threshold above members', `witness a ${w1.verifierKey}\ngroup g 2 a\nquorum g\n`],
      ['threshold 0', `witness a ${w1.verifierKey}\ngroup g 0 a\nquorum g\n`],
      ['bad key', `witness a ${log.verifierKey}\nquorum a\n`],
      ['name defined twice', `witness a ${w1.verifierKey}\nwitness a ${w2.verifierKey}\nquorum a\n`],
      ['same key twice', `witness a ${w1.verifierKey}\nwitness b ${w1.verifierKey}\nquorum a\n`],
      ['unknown keyword', `log ${log.verifierKey}\nquorum none\n`],
      ['quorum on undefined', 'quorum x\n'],
    ])('refuses %s', (_what, text) => {
      expect(code(() => parseWitnessPolicy(text))).toBe('MALFORMED_WITNESS_POLICY');
    });

    it('names the line of an error', () => {
      expect(() => parseWitnessPolicy(`witness a ${w1.verifierKey}\ngroup g 2 a\nquorum g\n`)).toThrow(/line 2: /);
    });
  });
});

import { base64 } from '@scure/base';
import { generateSignerKey, signCheckpoint } from '../../src/checkpoint/signer';
import {
  acceptCosignature,
  formatAddCheckpointRequest,
  parseWitnessSize,
  withCosignatures,
  WitnessResponseError,
} from '../../src/witness/addCheckpoint';
import { parseWitnessKey, verifyCosignatures } from '../../src/verify/cosignature';
import { parseNote } from '../../src/verify/note';
import { createTestCosigner } from '../support/testCosigner';

// Requests from torchwood v0.6.1 cmd/litewitness/testdata/litewitness.txt (the hurl file the
// litewitness tests send), byte for byte.
const SIGSUM_ORIGIN = 'sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562';
const size1Note =
  `${SIGSUM_ORIGIN}\n1\nKgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n` +
  `\u2014 ${SIGSUM_ORIGIN} UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY=\n`;
const size3Note =
  `${SIGSUM_ORIGIN}\n3\nRcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=\n\n` +
  `\u2014 ${SIGSUM_ORIGIN} UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6go=\n`;

const hash = (b64: string) => base64.decode(b64);

describe('add-checkpoint request body', () => {
  it('is "old 0", a blank line and the note for a witness that has nothing yet (torchwood vector)', () => {
    expect(formatAddCheckpointRequest({ oldSize: 0, consistencyProof: [], checkpointNote: size1Note })).toBe(`old 0\n\n${size1Note}`);
  });

  it('lists the consistency proof one base64 hash per line (torchwood vector)', () => {
    const body = formatAddCheckpointRequest({
      oldSize: 1,
      consistencyProof: [hash('KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='), hash('KgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')],
      checkpointNote: size3Note,
    });
    expect(body).toBe(`old 1\nKgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nKgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n${size3Note}`);
  });

  it.each([
    ['a negative old size', { oldSize: -1, consistencyProof: [], checkpointNote: size1Note }],
    ['a fractional old size', { oldSize: 1.5, consistencyProof: [], checkpointNote: size1Note }],
    ['a short proof hash', { oldSize: 1, consistencyProof: [new Uint8Array(31)], checkpointNote: size3Note }],
    ['a note without signatures', { oldSize: 0, consistencyProof: [], checkpointNote: `${SIGSUM_ORIGIN}\n1\nKgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n` }],
  ])('refuses %s', (_name, request) => {
    expect(() => formatAddCheckpointRequest(request)).toThrow();
  });
});

describe('409 body (text/x.tlog.size)', () => {
  it.each([
    ['3\n', 3],
    ['5\n', 5],
    ['0\n', 0],
    ['12', 12],
  ])('reads %j as %d', (body, size) => {
    expect(parseWitnessSize(body)).toBe(size);
  });

  it.each(['', '\n', '-1\n', '01\n', 'five\n', '3\n4\n', '99999999999999999999\n', ' 3\n'])('refuses %j', (body) => {
    expect(() => parseWitnessSize(body)).toThrow(WitnessResponseError);
  });
});

describe('200 body: cosignatures', () => {
  const log = generateSignerKey('example.com/log');
  const note = signCheckpoint({ origin: 'example.com/log', treeSize: 7, rootHash: new Uint8Array(32).fill(7) }, log.signerKey);
  const text = parseNote(note).text;
  const witness = createTestCosigner('example.com/witness', 'witness-a');
  const other = createTestCosigner('example.com/other', 'witness-b');
  const verifier = parseWitnessKey(witness.verifierKey);

  it('accepts the witness\'s cosignature line and reads its timestamp', () => {
    const line = witness.line(text, 1_700_000_000);
    expect(acceptCosignature(note, line, verifier)).toEqual({ line, timestamp: 1_700_000_000 });
  });

  it('picks the configured key among other signature lines', () => {
    const line = witness.line(text, 1_700_000_001);
    expect(acceptCosignature(note, other.line(text, 1) + line, verifier)).toEqual({ line, timestamp: 1_700_000_001 });
  });

  it('publishes lines that verify with the cosignature verifier, after the log\'s own signature', () => {
    const published = withCosignatures(note, [witness.line(text, 5), other.line(text, 6)]);
    expect(parseNote(published).signatures).toHaveLength(3);
    expect(verifyCosignatures(published, [witness.verifierKey, other.verifierKey]).map((c) => c.status)).toEqual(['valid', 'valid']);
    expect(withCosignatures(note, [])).toBe(note);
  });

  it.each([
    ['an empty body', () => ''],
    ['text that is not signature lines', () => 'ok\n'],
    ['only another witness\'s cosignature', () => other.line(text, 1)],
    ['a cosignature over another checkpoint', () => witness.line(text.replace('\n7\n', '\n8\n'), 1)],
    ['a cosignature with a changed timestamp', () => {
      const line = witness.line(text, 1);
      const bytes = base64.decode(line.split(' ')[2]!.trim());
      bytes[11] = bytes[11]! ^ 1;
      return `\u2014 example.com/witness ${base64.encode(bytes)}\n`;
    }],
    ['an Ed25519 note signature by the witness name (not cosignature/v1)', () => {
      const fake = generateSignerKey('example.com/witness');
      const signed = signCheckpoint({ origin: 'example.com/log', treeSize: 7, rootHash: new Uint8Array(32).fill(7) }, fake.signerKey);
      return signed.slice(signed.lastIndexOf('\n\n') + 2);
    }],
  ])('refuses %s', (_name, body) => {
    expect(() => acceptCosignature(note, body(), verifier)).toThrow(WitnessResponseError);
  });
});

/**
 * The evidence bundle format, checked with nothing but the verifier key: a good bundle
 * verifies; each kind of damage is named (line, leaf index, what did not match); and every
 * single-byte alteration of a small bundle is caught.
 */
import { generateSignerKey } from '../../src/checkpoint/signer';
import { EvidenceBundleVerifier, verifyEvidenceBundle, verifyEvidenceBundleStream } from '../../src/export/evidenceBundle';
import { nodeCryptoRfc6962 } from '../../src/merkle/nodeHasher';
import { type NoteVerifier, verifyCheckpoint, type VerifiedCheckpoint } from '../../src/verify';
import { leafText, makeBundle, ORIGIN } from '../support/evidenceBundleFixture';

const utf8 = new TextEncoder();

describe('evidence bundles', () => {
  const { text, vkey } = makeBundle();

  it('verifies a good bundle offline, counting the redacted entry apart', () => {
    const report = verifyEvidenceBundle(text, vkey);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.summary).toMatchObject({ origin: ORIGIN, treeSize: 6, entries: 3, redacted: 1 });
    expect(verifyEvidenceBundle(utf8.encode(text), vkey, { hasher: nodeCryptoRfc6962 }).ok).toBe(true);
  });

  it('is JSON Lines: a header with the signed checkpoint, one line per event, an end line', () => {
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ format: 'audit-ledger.evidence-bundle.v1', treeSize: 6 });
    expect(lines[1]).toEqual(expect.objectContaining({ leafIndex: 1, leaf: leafText(1) }));
    expect(lines[2]).toEqual(expect.objectContaining({ leafIndex: 3, redacted: true }));
    expect(lines[2]).not.toHaveProperty('leaf');
    expect(lines[4]).toEqual({ entries: 3 });
  });

  it('names the entry that fails and what did not match', () => {
    const lines = text.split('\n');
    const edit = (i: number, change: (o: Record<string, unknown>) => void): string => {
      const copy = [...lines];
      const o = JSON.parse(copy[i]!) as Record<string, unknown>;
      change(o);
      copy[i] = JSON.stringify(o);
      return copy.join('\n');
    };
    const leafEdited = verifyEvidenceBundle(edit(3, (o) => (o.leaf = (o.leaf as string).replace('u-4', 'u-5'))), vkey);
    expect(leafEdited.ok).toBe(false);
    expect(leafEdited.problems).toEqual([{ line: 4, leafIndex: 4, message: expect.stringMatching(/^the leaf text does not hash to leafHash [0-9a-f]{64} \(it hashes to [0-9a-f]{64}\)$/) }]);
    const moved = verifyEvidenceBundle(edit(2, (o) => (o.leafIndex = 2)), vkey);
    expect(moved.problems).toEqual([{ line: 3, leafIndex: 2, message: expect.stringContaining("the inclusion proof does not lead to the checkpoint's root") }]);
    const redactedHash = verifyEvidenceBundle(edit(2, (o) => (o.leafHash = '07'.repeat(32))), vkey);
    expect(redactedHash.problems).toEqual([{ line: 3, leafIndex: 3, message: expect.stringContaining('inclusion proof does not lead') }]);
    const unredacted = verifyEvidenceBundle(edit(2, (o) => (o.leaf = leafText(3))), vkey);
    expect(unredacted.problems[0]).toMatchObject({ line: 3, leafIndex: 3, message: expect.stringContaining('exactly the fields') });
    const otherKey = verifyEvidenceBundle(text, generateSignerKey(ORIGIN).verifierKey);
    expect(otherKey.problems).toEqual([{ line: 1, message: expect.stringContaining('the checkpoint does not verify with the verifier key') }]);
    const cut = verifyEvidenceBundle(lines.slice(0, 3).join('\n') + '\n', vkey);
    expect(cut.problems).toEqual([{ line: 3, message: 'the bundle ends without its end line after 2 entries (cut off?)' }]);
    const dropped = verifyEvidenceBundle([lines[0], lines[1], lines[3], lines[4], ''].join('\n'), vkey);
    expect(dropped.problems).toEqual([{ line: 4, message: 'the end line counts 3 entries, the bundle has 2' }]);
    const twice = verifyEvidenceBundle([lines[0], lines[1], lines[1], lines[4], ''].join('\n'), vkey);
    expect(twice.problems[0]).toMatchObject({ line: 3, leafIndex: 1, message: expect.stringContaining('does not follow leaf 1') });
    const upper = verifyEvidenceBundle(edit(1, (o) => (o.leafHash = (o.leafHash as string).toUpperCase())), vkey);
    expect(upper.problems[0]).toMatchObject({ line: 2, leafIndex: 1, message: 'leafHash is not 32 bytes of lowercase hex' });
  });

  it('checks a file of any size line by line, from chunks cut anywhere', async () => {
    const verifier = new EvidenceBundleVerifier(vkey);
    for (const line of text.trimEnd().split('\n')) expect(verifier.line(line)).toBeUndefined();
    expect(verifier.end()).toEqual({ summary: expect.objectContaining({ entries: 3, redacted: 1 }) });
    const bytes = utf8.encode(text);
    async function* chunks(size: number): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
    }
    for (const size of [1, 7, 64, bytes.length]) {
      const report = await verifyEvidenceBundleStream(chunks(size), vkey);
      expect([size, report.ok, report.summary?.entries]).toEqual([size, true, 3]);
    }
    const seen: number[] = [];
    const bad = await verifyEvidenceBundleStream(chunks(5), vkey, { onProblem: (p) => seen.push(p.line) });
    expect(bad.ok).toBe(true);
    const broken = utf8.encode(text.replace('"leafIndex":4', '"leafIndex":5'));
    const report = await verifyEvidenceBundleStream((async function* () { yield broken; })(), vkey, { onProblem: (p) => seen.push(p.line) });
    expect([report.ok, report.problemCount, seen]).toEqual([false, 1, [4]]);
  });

  it('refuses bytes that are not UTF-8, naming the line', () => {
    const bytes = utf8.encode(text);
    const at = text.indexOf('Ann');
    bytes[at] = 0xff;
    expect(verifyEvidenceBundle(bytes, vkey).problems).toEqual([{ line: 2, message: 'the line is not valid UTF-8' }]);
  });

  /**
   * For every byte position of the bundle and every one of the 255 other byte values, the
   * altered bundle either fails verification with a problem on the line holding that byte,
   * or it verifies and its verified content (the parsed header, every entry and the end line)
   * is deep-equal to the original's: no alteration changes what a verified bundle says.
   * The checkpoint note is verified once per distinct note text (memoized by exact text:
   * only an identical note can reuse a verification).
   */
  it('catches every single-byte alteration of a small bundle', () => {
    const original = utf8.encode(text);
    const parsed = (bytes: Uint8Array): unknown[] =>
      new TextDecoder('utf-8', { fatal: true }).decode(bytes).trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    const expected = parsed(original);
    const lineOf: number[] = [];
    let line = 1;
    for (const byte of original) {
      lineOf.push(line);
      if (byte === 0x0a) line++;
    }
    const verified = new Map<string, VerifiedCheckpoint>();
    const memo = (note: string, verifier: NoteVerifier): VerifiedCheckpoint => {
      let cp = verified.get(note);
      if (!cp) {
        cp = verifyCheckpoint(note, verifier, { origin: verifier.name });
        verified.set(note, cp);
      }
      return cp;
    };
    const altered = new Uint8Array(original);
    let accepted = 0;
    let rejected = 0;
    const misplaced: string[] = [];
    for (let p = 0; p < original.length; p++) {
      for (let b = 0; b < 256; b++) {
        if (b === original[p]) continue;
        altered[p] = b;
        const report = verifyEvidenceBundle(altered, vkey, { hasher: nodeCryptoRfc6962, verifyCheckpointNote: memo });
        if (report.ok) {
          expect(parsed(altered)).toEqual(expected);
          accepted++;
        } else {
          rejected++;
          if (!report.problems.some((pr) => pr.line === lineOf[p]) && misplaced.length < 5) {
            misplaced.push(`byte ${p} → ${b}: ${JSON.stringify(report.problems)}`);
          }
        }
      }
      altered[p] = original[p]!;
    }
    expect(misplaced).toEqual([]);
    expect(rejected + accepted).toBe(original.length * 255);
    // None of this bundle's bytes is insignificant whitespace, so nothing is accepted.
    expect(accepted).toBe(0);
  }, 300_000);
});

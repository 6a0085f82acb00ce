/**
 * Evidence bundles checked through the `audit-ledger/client` entry (the module the package
 * exports, as a consumer imports it): the verified summary, or an EvidenceBundleError naming
 * each failing entry by line and leaf index; a bad verifier key is its own code.
 */
import { generateSignerKey } from '../../src/checkpoint/signer';
import * as client from '../../src/client';
import { EvidenceBundleError, LedgerClientError, verifyBundle, verifyBundleStream } from '../../src/client';
import { makeBundle, ORIGIN } from '../support/evidenceBundleFixture';

const utf8 = new TextEncoder();

async function* chunksOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = utf8.encode(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

function thrown(check: () => unknown): EvidenceBundleError {
  try {
    check();
  } catch (err) {
    expect(err).toBeInstanceOf(EvidenceBundleError);
    expect(err).toBeInstanceOf(LedgerClientError);
    return err as EvidenceBundleError;
  }
  throw new Error('the bundle verified');
}

describe('evidence bundles through audit-ledger/client', () => {
  const { text, vkey } = makeBundle();
  const lines = text.split('\n');
  const withLine = (i: number, change: (o: Record<string, unknown>) => void): string => {
    const copy = [...lines];
    const o = JSON.parse(copy[i]!) as Record<string, unknown>;
    change(o);
    copy[i] = JSON.stringify(o);
    return copy.join('\n');
  };

  it('is exported by the entry, with its error class', () => {
    for (const name of ['verifyBundle', 'verifyBundleStream', 'EvidenceBundleError', 'describeBundleProblem', 'MAX_LISTED_PROBLEMS']) expect(client).toHaveProperty(name);
  });

  it('answers what a good bundle proves, from its text, its bytes or its chunks', async () => {
    const summary = { origin: ORIGIN, treeSize: 6, entries: 3, redacted: 1, rootHash: expect.stringMatching(/^[0-9a-f]{64}$/) };
    expect(verifyBundle(text, vkey)).toEqual(summary);
    expect(verifyBundle(utf8.encode(text), vkey)).toEqual(summary);
    expect(await verifyBundleStream(chunksOf(text, 7), vkey)).toEqual(summary);
  });

  it.each([
    ['an edited leaf text', () => withLine(3, (o) => (o.leaf = (o.leaf as string).replace('u-4', 'u-5'))), [{ line: 4, leafIndex: 4 }], /^the evidence bundle does not verify: line 4, leaf 4: the leaf text does not hash to leafHash [0-9a-f]{64}/],
    ['a moved entry', () => withLine(2, (o) => (o.leafIndex = 2)), [{ line: 3, leafIndex: 2 }], /line 3, leaf 2: the inclusion proof does not lead/],
    ['a dropped entry', () => [lines[0], lines[1], lines[3], lines[4], ''].join('\n'), [{ line: 4 }], /line 4: the end line counts 3 entries, the bundle has 2$/],
    ['a cut-off file', () => lines.slice(0, 3).join('\n') + '\n', [{ line: 3 }], /line 3: the bundle ends without its end line after 2 entries \(cut off\?\)$/],
  ])('throws EvidenceBundleError naming the failing entry: %s', (_what, bundle, problems, message) => {
    const err = thrown(() => verifyBundle(bundle(), vkey));
    expect(err).toMatchObject({ code: 'EVIDENCE_BUNDLE', name: 'EvidenceBundleError', problemCount: problems.length });
    expect(err.problems).toEqual(problems.map((p) => expect.objectContaining(p)));
    expect(err.message).toMatch(message);
  });

  it('names the first problems in the message and counts the rest', () => {
    // Three edited entries and no end line: four problems.
    const edited = [lines[0], ...[1, 2, 3].map((i) => lines[i]!.replace(/"leafHash":"(..)/, '"leafHash":"ff')), ''].join('\n');
    const err = thrown(() => verifyBundle(edited, vkey));
    expect(err.problemCount).toBe(4);
    expect(err.message).toMatch(/^the evidence bundle does not verify: line 2, leaf 1: .*; line 3, leaf 3: .*; line 4, leaf 4: .* \(and 1 more\)$/);
    expect(err.problems.map((p) => p.line).slice(0, 3)).toEqual([2, 3, 4]);
  });

  it("refuses another log's key (line 1: the checkpoint) and a malformed key (VERIFIER_KEY)", async () => {
    expect(thrown(() => verifyBundle(text, generateSignerKey(ORIGIN).verifierKey))).toMatchObject({
      code: 'EVIDENCE_BUNDLE',
      problems: [{ line: 1, message: expect.stringContaining('the checkpoint does not verify with the verifier key') }],
    });
    expect(thrown(() => verifyBundle(text, 'not a key'))).toMatchObject({ code: 'VERIFIER_KEY', problems: [], problemCount: 0 });
    await expect(verifyBundleStream(chunksOf(text, 64), 'not a key')).rejects.toMatchObject({ name: 'EvidenceBundleError', code: 'VERIFIER_KEY' });
  });
});

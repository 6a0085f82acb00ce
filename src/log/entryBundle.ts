/**
 * The C2SP tlog-tiles entry bundle: a tile's leaves, each as a big-endian uint16 length then
 * the leaf's bytes (for us, the UTF-8 of the event's canonical leaf text, whose RFC 6962 leaf
 * hash is the level-0 tile's entry). The format cannot carry a leaf of more than 65,535
 * bytes; our events' input limits do not rule one out (an actor in very many groups, text of
 * escaped control characters), so such a leaf makes its bundle unencodable rather than
 * silently cut: `EntryTooLargeError` names it. Pure: no I/O.
 */

/** The largest leaf an entry bundle can carry: its length prefix is a uint16. */
export const MAX_BUNDLE_ENTRY_BYTES = 0xffff;

export class EntryTooLargeError extends Error {
  override readonly name = 'EntryTooLargeError';
  constructor(readonly leafIndices: readonly number[]) {
    super(`leaves ${leafIndices.join(', ')} are over ${MAX_BUNDLE_ENTRY_BYTES} bytes, which an entry bundle cannot carry`);
  }
}

export class EntryBundleFormatError extends Error {
  override readonly name = 'EntryBundleFormatError';
}

/** `leaves[i]` is leaf `firstLeafIndex + i`; throws EntryTooLargeError naming every leaf too large. */
export function encodeEntryBundle(leaves: readonly Uint8Array[], firstLeafIndex: number): Uint8Array {
  const tooLarge = leaves.flatMap((leaf, i) => (leaf.length > MAX_BUNDLE_ENTRY_BYTES ? [firstLeafIndex + i] : []));
  if (tooLarge.length > 0) throw new EntryTooLargeError(tooLarge);
  const out = new Uint8Array(leaves.reduce((sum, leaf) => sum + 2 + leaf.length, 0));
  let at = 0;
  for (const leaf of leaves) {
    out[at] = leaf.length >> 8;
    out[at + 1] = leaf.length & 0xff;
    out.set(leaf, at + 2);
    at += 2 + leaf.length;
  }
  return out;
}

/** The leaves of a bundle; throws EntryBundleFormatError when a length runs past the end. */
export function decodeEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const leaves: Uint8Array[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length) throw new EntryBundleFormatError(`entry ${leaves.length} has a cut-off length at byte ${at}`);
    const length = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + length > bundle.length) throw new EntryBundleFormatError(`entry ${leaves.length} claims ${length} bytes; ${bundle.length - at - 2} remain`);
    leaves.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return leaves;
}

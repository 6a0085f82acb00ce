/**
 * Whole-log checks for crash and concurrency tests: every acknowledged receipt must still be
 * in the log, and every checkpoint ever handed out must be consistent with the latest one.
 */
import { CompactRange } from '../../src/merkle/compactRange';
import { bytesToHex, hexToBytes, leafHash, rfc6962, verifyCheckpoint, verifyConsistency, verifyInclusion } from '../../src/verify';
import { gqlOk } from './graphqlClient';

export interface SeenReceipt {
  eventId: string;
  leafIndex: number;
  leafHash: string;
  inclusionProof: { treeSize: number; hashes: string[]; checkpoint: { note: string; treeSize: number } };
}

interface Page {
  events: { edges: { node: { id: string; leafIndex: number; leaf: string; leafHash: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

export async function auditWholeLog(url: string, auditorToken: string, vkey: string, receipts: readonly SeenReceipt[]): Promise<{ size: number }> {
  const latestNote = (await gqlOk<{ checkpoint: { note: string } }>(url, '{ checkpoint { note } }')).checkpoint.note;
  const latest = verifyCheckpoint(latestNote, vkey);
  const leaves: Page['events']['edges'][number]['node'][] = [];
  let after: string | null = null;
  do {
    const page: Page = await gqlOk(
      url,
      'query($a: String) { events(first: 500, after: $a) { edges { node { id leafIndex leaf leafHash } } pageInfo { hasNextPage endCursor } } }',
      { a: after },
      auditorToken,
    );
    leaves.push(...page.events.edges.map((e) => e.node));
    after = page.events.pageInfo.hasNextPage ? page.events.pageInfo.endCursor : null;
  } while (after);
  // Events become readable once checkpointed; the log may have grown past `latest` meanwhile.
  const covered = leaves.filter((l) => l.leafIndex < latest.treeSize);
  if (covered.length !== latest.treeSize || covered.some((l, i) => l.leafIndex !== i)) {
    const seen = new Set(covered.map((l) => l.leafIndex));
    const missing = Array.from({ length: latest.treeSize }, (_, i) => i).filter((i) => !seen.has(i));
    throw new Error(
      `leaf indices are not the contiguous range 0..${latest.treeSize - 1}: ${covered.length} served, missing ${missing.slice(0, 20).join(',')}; ` +
        `served ${covered.slice(0, 5).map((l) => l.leafIndex).join(',')}…`,
    );
  }
  const range = CompactRange.empty();
  range.append(covered.map((l) => leafHash(new TextEncoder().encode(l.leaf))), rfc6962);
  if (bytesToHex(range.root(rfc6962)) !== bytesToHex(latest.rootHash)) throw new Error('leaves do not recompute the signed root');

  const byIndex = new Map(covered.map((l) => [l.leafIndex, l]));
  const consistencyChecked = new Set<number>();
  for (const r of receipts) {
    const stored = byIndex.get(r.leafIndex);
    if (!stored || stored.id !== r.eventId || stored.leafHash !== r.leafHash) {
      throw new Error(`acknowledged event ${r.eventId} at leaf ${r.leafIndex} is not in the log`);
    }
    const cp = verifyCheckpoint(r.inclusionProof.checkpoint.note, vkey);
    verifyInclusion({ leafHash: hexToBytes(r.leafHash), leafIndex: r.leafIndex, treeSize: cp.treeSize, proof: r.inclusionProof.hashes.map(hexToBytes), rootHash: cp.rootHash });
    if (consistencyChecked.has(cp.treeSize)) continue;
    consistencyChecked.add(cp.treeSize);
    const proof = await gqlOk<{ consistencyProof: { hashes: string[] } }>(
      url,
      'query($f: SafeInt!, $t: SafeInt!) { consistencyProof(fromSize: $f, toSize: $t) { hashes } }',
      { f: cp.treeSize, t: latest.treeSize },
    );
    verifyConsistency({
      fromSize: cp.treeSize,
      toSize: latest.treeSize,
      fromRoot: cp.rootHash,
      toRoot: latest.rootHash,
      proof: proof.consistencyProof.hashes.map(hexToBytes),
    });
  }
  return { size: latest.treeSize };
}

/** Runs `clients` loops of single-event appends until `stop()`; collects acknowledged receipts. */
export function appendLoad(urls: readonly string[], token: string, clients: number, fields: string) {
  const receipts: SeenReceipt[] = [];
  let failures = 0;
  let running = true;
  // Waiters for a receipt count: tests act on what happened, never on how long they waited.
  const waiters: { n: number; resolve: () => void }[] = [];
  const acknowledged = (receipt: SeenReceipt): void => {
    receipts.push(receipt);
    for (const w of waiters.filter((w) => receipts.length >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const loops = Array.from({ length: clients }, async (_, c) => {
    let i = 0;
    while (running) {
      const url = urls[(c + i) % urls.length]!;
      try {
        const res = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({
            query: `mutation($i: EventInput!) { recordEvent(input: $i) { ${fields} } }`,
            variables: { i: { action: 'load.test', actor: { id: `client-${c}`, type: 'SERVICE' }, metadata: { i } } },
          }),
        });
        const body = (await res.json()) as { data?: { recordEvent: SeenReceipt } };
        if (body.data?.recordEvent) acknowledged(body.data.recordEvent);
        else failures += 1;
      } catch {
        failures += 1;
        await new Promise((r) => setTimeout(r, 20));
      }
      i += 1;
    }
  });
  return {
    receipts,
    failures: () => failures,
    /** Resolves once `n` receipts in all have arrived. */
    untilReceipts(n: number): Promise<void> {
      if (receipts.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

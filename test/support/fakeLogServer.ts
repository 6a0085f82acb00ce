/**
 * A loopback stand-in for a ledger as `audit` and `monitor` see it: GET /checkpoint serves
 * whatever signed note the test sets, and GraphQL answers consistencyProof from a reference
 * tree of synthetic leaves. Lets CLI tests serve checkpoints with any cosignatures (or
 * forks) without a real server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSignerKey, signCheckpoint } from '../../src/checkpoint/signer';
import { ReferenceTree, syntheticLeafHashes } from '../unit/rfc6962Reference';

export interface FakeLogServer {
  readonly url: string;
  readonly origin: string;
  readonly verifierKey: string;
  /** The signed (not yet cosigned) checkpoint of the first `size` leaves; `fork` picks another history. */
  checkpoint(size: number, fork?: number): string;
  /** What GET /checkpoint serves from now on. */
  serve(note: string): void;
  close(): Promise<void>;
}

const MAX_LEAVES = 64;

export async function startFakeLogServer(origin = 'fake.example/log'): Promise<FakeLogServer> {
  const { signerKey, verifierKey } = generateSignerKey(origin);
  const trees = new Map<number, ReferenceTree>();
  const tree = (fork: number): ReferenceTree => {
    let t = trees.get(fork);
    if (!t) trees.set(fork, (t = new ReferenceTree(syntheticLeafHashes(MAX_LEAVES, fork))));
    return t;
  };
  let served = '';
  let servedFork = 0;
  const forkOf = new Map<string, number>();
  const checkpoint = (size: number, fork = 0): string => {
    const note = signCheckpoint({ origin, treeSize: size, rootHash: tree(fork).mth(0, size) }, signerKey);
    forkOf.set(note.split('\n\n')[0] as string, fork);
    return note;
  };

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/checkpoint') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(served);
      return;
    }
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const { query, variables } = JSON.parse(body || '{}') as { query?: string; variables?: { f?: number; t?: number } };
      if (req.url !== '/graphql' || !query?.includes('consistencyProof') || variables?.f === undefined || variables.t === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not faked' }));
        return;
      }
      const hashes = tree(servedFork)
        .proof(variables.f, variables.t)
        .map((h) => Buffer.from(h).toString('hex'));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { consistencyProof: { hashes, checkpoint: { note: served } } } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    origin,
    verifierKey,
    checkpoint,
    serve(note) {
      served = note;
      servedFork = forkOf.get(note.split('\n\n')[0] as string) ?? 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

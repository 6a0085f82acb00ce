/**
 * The C2SP tlog-tiles read API: `GET /tile/<L>/<N>[.p/<W>]` (hash tiles) and
 * `GET /tile/entries/<N>[.p/<W>]` (entry bundles), beside `GET /checkpoint`. Any tile reader
 * (Go's `sumdb/tlog.TileHashReader`, torchwood, Tessera's clients) can then compute every
 * proof of our tree itself, and caches can keep what it fetched.
 *
 * Only what the latest signed checkpoint covers is served: a tile's width is capped by that
 * tree's size (tilePath.ts `publishedWidth`), so no hash of an unsigned leaf leaves the
 * server. Any width up to the covered one is served, including `.p/<W>` prefixes of tiles
 * that have since filled: clients holding an older checkpoint ask for exactly those.
 *
 * Hash tiles are public like the proofs (`readLog`: no key when LEDGER_PUBLIC_PROOFS is on),
 * and reveal only leaf hashes of salted leaves. The bytes at a tile URL never change, full or
 * partial (a prefix of the tree is fixed once signed), so both are `immutable` (and `private`
 * when proofs need a key).
 *
 * Entry bundles carry the events themselves, so they follow the event read rules: an API key (401 without);
 * AUDITOR reads any bundle, READER one whose every event is in its groups (403 otherwise); a
 * bundle holding a crypto-shredded event no longer exists (410, naming the leaves); one
 * holding a leaf over 65,535 bytes cannot be encoded (422, naming them). A served bundle is one
 * `ledger.events.read` event; refusals are recorded as denials. Bundles are `no-store`: a
 * shared cache must not keep event content, and a later redaction must end its availability.
 *
 * A malformed path is 400 (the JSON error says what is wrong), a well-formed one the latest
 * checkpoint does not cover is 404.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Request, RequestHandler } from 'express';
import { mayReadEvent, readScope } from '../auth/role';
import { AccessDenied, actorOf, authorize, authorizeKey, type LedgerContext, recordDenial } from '../graphql/context';
import { entryBundleReadEvent } from '../ledger/selfEvent';
import { encodeEntryBundle, EntryTooLargeError } from '../log/entryBundle';
import { bundleLeaves, parseTileResourcePath, TilePathError, type TileResource } from '../log/tilePath';
import { HttpError } from './jsonErrors';

/** What a full or partial tile's URL names never changes. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The same, when the log's proofs need a key: a shared cache must not hand them to anyone. */
export const IMMUTABLE_PRIVATE = 'private, max-age=31536000, immutable';
const OCTETS = 'application/octet-stream';
const gzipAsync = promisify(gzip);
const utf8 = new TextEncoder();

export interface TileRouteOptions {
  /** The request's context, as GraphQL resolvers get it (admission has run). */
  readonly context: (req: Request) => LedgerContext;
}

/** For `app.get('/tile/*path', admitted, …)`. */
export function tileHandler(options: TileRouteOptions): RequestHandler {
  return async (req, res) => {
    // The raw path, not Express's decoded parameters: `%30` is not a canonical `0`.
    const path = req.path.slice(1);
    let resource: TileResource;
    try {
      resource = parseTileResourcePath(path);
    } catch (err) {
      if (err instanceof TilePathError) throw new HttpError(400, 'BAD_USER_INPUT', `${err.problem} (C2SP tlog-tiles: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>])`);
      throw err;
    }
    const ctx = options.context(req);
    if (resource.kind === 'hashes') {
      await authorized(ctx, 'tile', () => authorize(ctx, 'readLog'));
      const hashes = await ctx.ledger.publishedHashTile(resource.level, resource.index, resource.width);
      if (!hashes) throw notPublished(path);
      res.status(200).set({ 'Content-Type': OCTETS, 'Cache-Control': ctx.policy.publicLog ? IMMUTABLE : IMMUTABLE_PRIVATE }).send(Buffer.from(hashes));
      return;
    }
    const body = await entryBundle(ctx, path, resource.index, resource.width);
    const compress = req.headers['accept-encoding'] !== undefined && req.acceptsEncodings('gzip', 'identity') === 'gzip';
    res.status(200).set({ 'Content-Type': OCTETS, 'Cache-Control': 'private, no-store', Vary: 'Accept-Encoding, Authorization' });
    if (compress) res.set('Content-Encoding', 'gzip');
    res.send(compress ? await gzipAsync(body) : Buffer.from(body));
  };
}

async function entryBundle(ctx: LedgerContext, path: string, index: number, width: number): Promise<Uint8Array> {
  const principal = await authorized(ctx, 'entryBundle', () => authorizeKey(ctx, 'readEvents'));
  const found = await ctx.ledger.publishedBundleEvents(index, width);
  if (!found) throw notPublished(path);
  const scope = readScope(principal);
  const outside = found.events.filter((e) => !mayReadEvent(scope, e.groups)).length;
  if (outside > 0) {
    await authorized(ctx, 'entryBundle', () => {
      throw new AccessDenied('FORBIDDEN', `${outside} of the ${width} events in this bundle are outside this key's groups: a READER may read a bundle only when it may read every event in it`);
    });
  }
  const redacted = found.events.filter((e) => e.redaction).map((e) => e.leafIndex);
  if (redacted.length > 0) {
    throw new HttpError(410, 'EVENT_REDACTED', `the bundle cannot be rebuilt: the content of leaves ${redacted.join(', ')} was crypto-shredded`, {}, {}, { leafIndices: redacted });
  }
  const { start } = bundleLeaves(index, width);
  let bundle: Uint8Array;
  try {
    bundle = encodeEntryBundle(
      found.events.map((e) => utf8.encode(e.leaf)),
      start,
    );
  } catch (err) {
    if (!(err instanceof EntryTooLargeError)) throw err;
    throw new HttpError(422, 'ENTRY_TOO_LARGE', `${err.message}; read them through /export or GraphQL`, {}, {}, { leafIndices: err.leafIndices });
  }
  if (ctx.recordReads) {
    try {
      await ctx.ledger.recordSelf([entryBundleReadEvent(actorOf(principal), { path, firstLeafIndex: start, leaves: width, treeSize: found.treeSize }, ctx.source)]);
    } catch {
      throw new HttpError(503, 'UNAVAILABLE', 'the ledger cannot record this read now; try again later', { 'Retry-After': '5' });
    }
  }
  return bundle;
}

function notPublished(path: string): HttpError {
  return new HttpError(404, 'NOT_FOUND', `${path} is not published: the latest signed checkpoint does not cover it (at this width)`);
}

/** Runs an authorization; a refusal is recorded as a denial, then answered 401 or 403. */
async function authorized<T>(ctx: LedgerContext, operation: string, check: () => T): Promise<T> {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof AccessDenied)) throw err;
    try {
      await recordDenial(ctx, operation, err);
    } catch {
      throw new HttpError(503, 'UNAVAILABLE', 'the ledger cannot record this refusal now; try again later', { 'Retry-After': '5' });
    }
    const unauthenticated = err.code === 'UNAUTHENTICATED';
    throw new HttpError(unauthenticated ? 401 : 403, err.code, err.reason, unauthenticated ? { 'WWW-Authenticate': 'Bearer' } : {});
  }
}

/**
 * Every failure outside GraphQL's own answers (unparsable JSON, a body over the limit, a wrong
 * content type or charset, an unknown path, a rate limit, anything unexpected) is answered as
 * JSON with a code, never with Express's HTML page, never with a stack, whatever NODE_ENV:
 *
 *   {"error":{"code":"BAD_REQUEST","message":"…"}}
 *
 * On /graphql the same failure is also given in GraphQL's shape (`errors[0].extensions.code`),
 * so GraphQL clients read it as they read every other error.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logger';
import { RateLimitedError } from './rateLimit';

export type HttpErrorCode =
  | 'BAD_REQUEST'
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_ACCEPTABLE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'QUERY_TOO_COMPLEX'
  | 'RATE_LIMITED'
  | 'EVENT_REDACTED'
  | 'ENTRY_TOO_LARGE'
  | 'UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

/** A failure with its HTTP status and code, thrown or passed to `next` by our middleware. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    /** More for `errors[0].extensions`, e.g. which cost limit was broken. */
    readonly extensions: Readonly<Record<string, string>> = {},
    /** More for the JSON body's `error` object, e.g. the leaf indices a refusal is about. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** The request body is not UTF-8 (thrown from the JSON parser's verify hook). */
export class InvalidUtf8Error extends Error {
  override readonly name = 'InvalidUtf8Error';
  constructor() {
    super('the request body is not valid UTF-8');
  }
}

export function sendJsonError(req: Request, res: Response, error: HttpError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(error.status).set(error.headers).set('Cache-Control', 'no-store');
  const body: Record<string, unknown> = { error: { ...error.details, code: error.code, message: error.message } };
  if (req.originalUrl.startsWith('/graphql')) body.errors = [{ message: error.message, extensions: { ...error.extensions, code: error.code } }];
  res.json(body);
}

/** body-parser's errors carry a `type`; http-errors carry a `status`. */
interface ParserError {
  readonly type?: string;
  readonly status?: number;
  readonly statusCode?: number;
  readonly charset?: string;
  readonly limit?: number;
}

const UNREACHABLE_DATABASE = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
]);

/** Whether an error says the database could not be reached (as opposed to refusing something). */
export function isDatabaseUnavailable(err: unknown): boolean {
  return err instanceof Error && UNREACHABLE_DATABASE.has(err.name);
}

/** Maps a failure to what the client is told. Unknown failures say nothing about themselves. */
export function httpErrorOf(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (isDatabaseUnavailable(err)) return new HttpError(503, 'UNAVAILABLE', 'the database is unavailable; try again later');
  if (err instanceof RateLimitedError) {
    return new HttpError(429, 'RATE_LIMITED', err.message, { 'Retry-After': String(err.retryAfterSeconds) });
  }
  if (err instanceof InvalidUtf8Error) return new HttpError(400, 'BAD_USER_INPUT', err.message);
  const e = (typeof err === 'object' && err !== null ? err : {}) as ParserError;
  switch (e.type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'BAD_REQUEST', 'the request body is not valid JSON');
    case 'entity.too.large':
      return new HttpError(413, 'PAYLOAD_TOO_LARGE', `the request body is over the limit of ${e.limit ?? '?'} bytes for this caller`);
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the request body must be JSON in UTF-8, without content encoding');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new HttpError(400, 'BAD_REQUEST', 'the request body was not received whole');
    default:
      break;
  }
  const status = e.status ?? e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new HttpError(status, 'BAD_REQUEST', 'bad request');
  return new HttpError(500, 'INTERNAL_SERVER_ERROR', 'internal server error');
}

/** The last error handler: JSON out, and the unexpected ones logged as one JSON line each. */
export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const error = httpErrorOf(err);
    if (error.status >= 500 && !(err instanceof HttpError)) logger.error({ err, method: req.method, path: req.path }, 'unexpected HTTP error');
    sendJsonError(req, res, error);
  };
}

export const notFound: RequestHandler = (req, res) => {
  sendJsonError(req, res, new HttpError(404, 'NOT_FOUND', `no route for ${req.method} ${req.path}`));
};

/**
 * POST bodies must be JSON in UTF-8: anything else is 415 before the body is read, so a
 * client never learns of the mistake from a confusing parse error.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (req.method !== 'POST') return next();
  const type = req.headers['content-type'] ?? '';
  const [mediaType = '', ...params] = type.split(';').map((p) => p.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (mediaType !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    return next(new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the request as Content-Type: application/json (charset utf-8)'));
  }
  next();
};

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** For express.json's `verify`: body-parser would otherwise turn invalid bytes into U+FFFD, and we would sign them. */
export function assertUtf8(_req: unknown, _res: unknown, buf: Buffer): void {
  try {
    strictUtf8.decode(buf);
  } catch {
    throw new InvalidUtf8Error();
  }
}

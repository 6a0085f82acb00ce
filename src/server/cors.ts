/**
 * CORS for an explicit allow-list of browser origins (LEDGER_CORS_ORIGINS; none by default,
 * so no browser page on another origin can read answers). Only listed origins get
 * Access-Control-Allow-Origin, and always their own origin, never "*".
 */
import type { RequestHandler } from 'express';

export function corsMiddleware(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  return (req, res, next) => {
    const origin = req.headers.origin;
    res.vary('Origin');
    if (origin === undefined || !allowed.has(origin.toLowerCase())) return next();
    res.set('Access-Control-Allow-Origin', origin);
    // A browser client may read how far an export reaches (its progress, its tree size).
    res.set('Access-Control-Expose-Headers', 'X-Export-Tree-Size');
    if (req.method === 'OPTIONS') {
      res
        .set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
        .set('Access-Control-Allow-Headers', 'Authorization, Content-Type, Apollo-Require-Preflight')
        .set('Access-Control-Max-Age', '600')
        .status(204)
        .end();
      return;
    }
    next();
  };
}

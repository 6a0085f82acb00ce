/**
 * The web dashboard (web/, built into dist/web by `npm run build`) at GET /. Its page is
 * answered for each of the app's own paths (so /events?… deep links load it) and nothing else:
 * every other path keeps the API's JSON 404. Assets carry a content hash in their names, so
 * they are cached for a year; the page is revalidated on every load, so a new build shows at
 * once. The Content-Security-Policy allows this server only: no inline script, no CDN.
 * Off with LEDGER_DASHBOARD=off.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { PROJECT_ROOT } from '../config';
import { HttpError } from './jsonErrors';

/** Where the build puts the dashboard: the same from src/ (ts-node, tests) and dist/. */
export const DASHBOARD_DIR = path.join(PROJECT_ROOT, 'dist', 'web');

/** The app's client-side routes; anything else is not the dashboard's. */
const APP_PATHS = /^\/(?:|events(?:\/\d{1,16})?|log|activity|directory|signin)\/?$/;
const ASSET = /^[A-Za-z0-9_-]+\.(js|css|svg|woff2)$/;
const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml', woff2: 'font/woff2' };

export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function dashboardRouter(dir: string = DASHBOARD_DIR): Router {
  const router = express.Router();
  const indexFile = path.join(dir, 'index.html');
  // Read once: the page is tiny and a build replaces the whole folder along with the server's code.
  const page = existsSync(indexFile) ? readFileSync(indexFile, 'utf8') : undefined;
  const pageHeaders = {
    'Content-Security-Policy': DASHBOARD_CSP,
    'Cache-Control': 'no-cache',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  };
  router.get(APP_PATHS, (_req, res, next) => {
    if (page === undefined) return next(new HttpError(503, 'UNAVAILABLE', 'the dashboard is not built: run `npm run build`'));
    res.status(200).set(pageHeaders).type('html').send(page);
  });
  router.get('/assets/:name', (req, res, next) => {
    const name = req.params.name;
    const match = ASSET.exec(name);
    if (!match) return next();
    const file = path.join(dir, 'assets', name);
    if (!existsSync(file)) return next();
    res
      .set('Content-Type', TYPES[match[1]!]!)
      .set('Cache-Control', 'public, max-age=31536000, immutable')
      .set('Content-Security-Policy', DASHBOARD_CSP)
      .sendFile(file, { dotfiles: 'deny', lastModified: false });
  });
  return router;
}

/**
 * An embedded GraphQL explorer (GraphiQL 3) at GET /explorer, served entirely from our own
 * dependencies (GraphiQL's and React's prebuilt browser files): no CDN, works offline, and a
 * Content-Security-Policy allows scripts from this server only. Off unless
 * LEDGER_GRAPHQL_EXPLORER (default: on outside NODE_ENV=production).
 */
import path from 'node:path';
import express, { type Router } from 'express';

const ASSETS: Record<string, { readonly file: string; readonly type: string }> = {
  'react.js': { file: path.join(packageDir('react'), 'umd', 'react.production.min.js'), type: 'text/javascript' },
  'react-dom.js': { file: path.join(packageDir('react-dom'), 'umd', 'react-dom.production.min.js'), type: 'text/javascript' },
  'graphiql.js': { file: path.join(packageDir('graphiql'), 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.css': { file: path.join(packageDir('graphiql'), 'graphiql.min.css'), type: 'text/css' },
};

function packageDir(name: string): string {
  return path.dirname(require.resolve(`${name}/package.json`));
}

// In a file of its own rather than inline, so the CSP needs no 'unsafe-inline' for scripts.
const INIT_JS = `'use strict';
(function () {
  var fetcher = GraphiQL.createFetcher({ url: new URL('graphql', window.location.href).toString() });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultEditorToolsVisibility: 'headers',
    defaultHeaders: '{\\n  "Authorization": "Bearer <your API key>"\\n}',
    defaultQuery: '# The latest signed checkpoint; put an API key in the headers below for more.\\n{ checkpoint { treeSize rootHash note } }\\n',
    shouldPersistHeaders: false
  }));
})();
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>audit-ledger GraphQL explorer</title>
<link rel="stylesheet" href="explorer/assets/graphiql.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading the explorer…</div>
<script src="explorer/assets/react.js"></script>
<script src="explorer/assets/react-dom.js"></script>
<script src="explorer/assets/graphiql.js"></script>
<script src="explorer/assets/init.js"></script>
</body>
</html>
`;

// GraphiQL styles itself inline (style attributes) and draws icons as data: images.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function explorerRouter(): Router {
  const router = express.Router();
  router.get('/', (req, res) => {
    // Relative asset URLs resolve against /explorer/… only without a trailing slash.
    if (req.originalUrl.endsWith('/')) {
      res.redirect(301, req.originalUrl.replace(/\/+$/, ''));
      return;
    }
    res.set('Content-Security-Policy', CSP).type('html').send(PAGE);
  });
  router.get('/assets/init.js', (_req, res) => {
    res.type('text/javascript').send(INIT_JS);
  });
  router.get('/assets/:name', (req, res, next) => {
    const asset = ASSETS[req.params.name];
    if (!asset) return next();
    res.type(asset.type).set('Cache-Control', 'public, max-age=3600').sendFile(asset.file);
  });
  return router;
}

// Builds the dashboard (web/) into dist/web with esbuild: one hashed script and stylesheet
// under dist/web/assets/ and an index.html naming them, so the server can cache the assets
// for a year and the page never. Runs in `npm run build` (and so in `npm ci`); no network.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const out = path.join(root, 'dist', 'web');

async function main() {
  fs.rmSync(out, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'web', 'src', 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: path.join(out, 'assets'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => path.relative(out, path.join(root, f)).split(path.sep).join('/'));
  const script = outputs.find((f) => f.endsWith('.js'));
  const style = outputs.find((f) => f.endsWith('.css'));
  if (!script || !style) throw new Error(`the dashboard build produced no script or stylesheet: ${outputs.join(', ')}`);
  const template = fs.readFileSync(path.join(root, 'web', 'index.html'), 'utf8');
  const html = template.replace('%SCRIPT%', `/${script}`).replace('%STYLE%', `/${style}`);
  fs.writeFileSync(path.join(out, 'index.html'), html);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

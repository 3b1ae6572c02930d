// Builds the web UI into dist/ for embedding in the dam binary
// (scripts/embed-ui.sh reads dist/manifest.tsv):
//   dist/index.html                 the page (no inline script or style: CSP)
//   dist/static/app-HASH.js|css     esbuild bundles, content-hashed names
//   dist/static/*.gz                gzip -9 variants when they are smaller
//   dist/static/chunk-HASH.js       parts loaded when first needed (viewer, uploads)
//   dist/manifest.tsv               URL path, type, ETag, immutable, file, gzip file
//                                   (rewritten only when something changed)
//   dist/.stamp                     touched by every build (for make)
// `node build.mjs --watch` rebuilds on change (then re-run ninja to embed).
import * as esbuild from 'esbuild';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
const watch = process.argv.includes('--watch');

const TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

const etag = (buf) => crypto.createHash('sha256').update(buf).digest('hex').slice(0, 32);

function page(js, css, icon) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>dam</title>
<link rel="icon" href="/ui/static/${icon}" type="image/svg+xml">
<link rel="stylesheet" href="/ui/static/${css}">
<script type="module" src="/ui/static/${js}"></script>
</head>
<body>
<div id="app"></div>
<noscript><p>The dam web UI needs JavaScript. The HTTP API is at /api/v1/.</p></noscript>
</body>
</html>
`;
}

/* After each build: index.html, gzip variants and the manifest. The
 * manifest is written last and only when something changed, so ninja
 * re-embeds only real changes. */
function finish(result) {
  const outs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
  const js = outs.find((f) => /^app-.*\.js$/.test(f));
  const css = outs.find((f) => /^app-.*\.css$/.test(f));
  const chunks = outs.filter((f) => f !== js && f !== css);
  const iconSrc = fs.readFileSync(path.join(here, 'src/icon.svg'));
  const icon = `icon-${etag(iconSrc).slice(0, 8)}.svg`;
  fs.writeFileSync(path.join(dist, 'static', icon), iconSrc);
  fs.writeFileSync(path.join(dist, 'index.html'), page(js, css, icon));
  const keep = new Set([js, css, icon, ...chunks]);
  for (const f of fs.readdirSync(path.join(dist, 'static')))
    if (!keep.has(f.replace(/\.gz$/, ''))) fs.rmSync(path.join(dist, 'static', f));

  const rows = [];
  const entry = (urlPath, rel, immutable) => {
    const buf = fs.readFileSync(path.join(dist, rel));
    const type = TYPES[path.extname(rel)] || 'application/octet-stream';
    let gz = '-';
    if (/^(text|image\/svg)/.test(type)) {
      const z = zlib.gzipSync(buf, { level: 9 });
      if (z.length < buf.length * 0.9) {
        gz = rel + '.gz';
        fs.writeFileSync(path.join(dist, gz), z);
      }
    }
    rows.push([urlPath, type, etag(buf), immutable ? 1 : 0, rel, gz].join('\t'));
  };
  entry('index.html', 'index.html', false);
  for (const f of [...keep].sort()) entry(`/ui/static/${f}`, `static/${f}`, true);
  const manifest = rows.join('\n') + '\n';
  const mpath = path.join(dist, 'manifest.tsv');
  const old = fs.existsSync(mpath) ? fs.readFileSync(mpath, 'utf8') : '';
  if (old !== manifest) fs.writeFileSync(mpath, manifest); // ninja re-embeds only on change
  const kb = (f) => Math.round(fs.statSync(path.join(dist, 'static', f)).size / 1024);
  console.log(`web: dist/static/${js} ${kb(js)} KiB, ${css} ${kb(css)} KiB, ${chunks.length} lazy chunks ${chunks.reduce((n, f) => n + kb(f), 0)} KiB`);
  fs.writeFileSync(path.join(dist, '.stamp'), new Date().toISOString() + '\n');
}

const options = {
  entryPoints: [path.join(here, 'src/main.jsx')],
  bundle: true,
  format: 'esm',
  splitting: true, // OpenSeadragon and Uppy load when first needed
  target: ['chrome100', 'firefox100', 'safari15'],
  outdir: path.join(dist, 'static'),
  entryNames: 'app-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  minify: !watch,
  sourcemap: watch ? 'inline' : false,
  legalComments: 'none',
  metafile: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  loader: { '.svg': 'file', '.png': 'file', '.woff2': 'file' },
  define: { 'process.env.NODE_ENV': watch ? '"development"' : '"production"' },
  logLevel: 'warning',
  plugins: [{
    name: 'finish',
    setup(b) { b.onEnd((r) => { if (!r.errors.length) finish(r); }); },
  }],
};

fs.rmSync(path.join(dist, 'static'), { recursive: true, force: true });
fs.mkdirSync(path.join(dist, 'static'), { recursive: true });
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('web: watching src/ (re-run ninja to embed changes)');
} else {
  await esbuild.build(options);
}

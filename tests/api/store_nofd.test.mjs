// The store without a local file (issue 12, point 3): with
// DAM_STORE_NO_LOCAL_FD=1 the fs backend's readers hide their fd, as an
// object store's have none, so every caller takes its fallback - the worker
// decodes a spooled original, transforms and tiles read the master through
// ranged reads, and downloads, stored renditions and zips are read through
// the reader into a spool file. The bytes must be exactly those of the fast
// path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, checkedFetch, fixture, sha256, cli, tmpDir, sleep, T } from './lib/server.mjs';
import { readZip } from './lib/zip.mjs';

// Inherited by the server, its job children and the CLI runs below.
process.env.DAM_STORE_NO_LOCAL_FD = '1';

let s, photo;
const data = fixture('photo.jpg');

function header(bytes) {
  const f = path.join(tmpDir(), 'img');
  fs.writeFileSync(f, bytes);
  const field = (n) => execFileSync('vipsheader', ['-f', n, f], { encoding: 'utf8' }).trim();
  return { width: Number(field('width')), height: Number(field('height')), bands: Number(field('bands')) };
}

async function link(id, query) {
  const r = await s.api(`/api/v1/assets/${id}/links?${query}`, { as: 'editor' });
  assert.equal(r.status, 200, r.text);
  return r.json.url;
}

async function waitRendition(id, name) {
  const until = Date.now() + T(90000);
  for (;;) {
    const r = await s.api(`/api/v1/assets/${id}/renditions`, { as: 'admin' });
    const items = r.json.items || r.json.renditions || r.json;
    if (Array.isArray(items) && items.some((x) => x.name === name)) return;
    if (Date.now() > until) throw new Error(`no rendition ${name} on ${id}: ${r.text}`);
    await sleep(200);
  }
}

before(async () => {
  s = await startServer();
  photo = (await s.upload('photo.jpg', data, 'contributor')).asset_id;
  await s.waitProcessed(photo);
  await waitRendition(photo, 'preset:tmall');
});
after(async () => { await s.stop(); });

test('the worker made previews and a master from a spooled original', async () => {
  const a = await s.api(`/api/v1/assets/${photo}`, { as: 'viewer' });
  assert.equal(a.status, 200);
  assert.equal(a.json.versions[0].status, 'ready', a.text);
  const r = await s.api(`/api/v1/assets/${photo}/renditions`, { as: 'admin' });
  const names = (r.json.items || r.json.renditions || r.json).map((x) => x.name);
  assert.ok(names.includes('master'), names.join(' '));
});

test('an original download and a range of it are the fixture bytes', async () => {
  const r = await s.api(`/api/v1/assets/${photo}/original`, { as: 'viewer' });
  assert.equal(r.status, 200);
  assert.ok(r.bytes.equals(data));
  assert.equal(r.headers.get('etag'), `"${sha256(data)}"`);
  const part = await s.api(`/api/v1/assets/${photo}/original`, { as: 'viewer', headers: { range: 'bytes=1000-1999' } });
  assert.equal(part.status, 206);
  assert.ok(part.bytes.equals(data.subarray(1000, 2000)));
});

test('a stored rendition is delivered with the bytes its content hash names', async () => {
  const r = await checkedFetch(await link(photo, 'preset=tmall'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('x-dam-cache'), 'hit');
  assert.equal(r.headers.get('etag'), `"${sha256(r.bytes)}"`);
  assert.deepEqual(header(r.bytes), { width: 800, height: 800, bands: 3 });
  // Without a local file the node keeps the stored rendition in its own
  // rendition cache (filled once from the store), under its content key.
  const key = sha256(r.bytes);
  const cached = fs.readdirSync(path.join(s.lib, 'cache'), { recursive: true }).map(String);
  assert.ok(cached.some((f) => path.basename(f) === key), `no ${key} in the rendition cache: ${cached.join(' ')}`);
  const again = await checkedFetch(await link(photo, 'preset=tmall'));
  assert.ok(again.bytes.equals(r.bytes));
  // and a derivative downloaded by name (a WebP preview)
  const list = await s.api(`/api/v1/assets/${photo}/renditions`, { as: 'admin' });
  const webp = (list.json.items || list.json.renditions || list.json).find((x) => x.mime === 'image/webp');
  assert.ok(webp, list.text);
  const named = await s.api(`/api/v1/assets/${photo}/renditions/${webp.name}`, { as: 'viewer' });
  assert.equal(named.status, 200);
  assert.equal(named.headers.get('etag'), `"${sha256(named.bytes)}"`);
  assert.equal(named.bytes.length, webp.size);
});

test('a transform and a tile read the master without a local file', async () => {
  const r = await checkedFetch(await link(photo, 'options=' + encodeURIComponent('w_300,h_200,fit_cover,f_png')));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(header(r.bytes), { width: 300, height: 200, bands: 3 });
  const t = await s.api(`/api/v1/assets/${photo}/tiles/11/4_3.jpg`, { as: 'viewer' });
  assert.equal(t.status, 200, t.text);
  assert.deepEqual(header(t.bytes), { width: 1200 - 4 * 256, height: 800 - 3 * 256, bands: 3 });
});

test('zips of originals and of a preset hold the right bytes', async () => {
  const z = await s.api(`/api/v1/downloads/zip?ids=${photo}`, { as: 'viewer' });
  assert.equal(z.status, 200, z.text);
  let entries = readZip(z.bytes);
  assert.equal(entries.length, 1);
  assert.ok(entries[0].data.equals(data));
  const d = await checkedFetch(await link(photo, 'preset=tmall'));
  const p = await s.api(`/api/v1/downloads/zip?ids=${photo}&preset=tmall`, { as: 'viewer' });
  assert.equal(p.status, 200, p.text);
  entries = readZip(p.bytes);
  assert.equal(entries.length, 1);
  assert.ok(entries[0].data.equals(d.bytes));
});

test('dam get copies the original out through the reader', () => {
  const out = path.join(tmpDir(), 'got.jpg');
  cli(s.lib, ['get', photo, '-o', out]);
  assert.ok(fs.readFileSync(out).equals(data));
});

// Delivery (issue 5): signed URLs, presets, on-the-fly transforms, the
// rendition cache, HTTP caching semantics, key rotation, presets-only mode.
// Pixels are checked with vipsheader (libvips-tools) on the bytes received.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, checkedFetch, fixture, assertErrorShape, sha256, cli, tmpDir, sleep, T, pushSettingsIfStored, libSql } from './lib/server.mjs';

let s, photo, alpha, wav;

/** Width, height and bands of image bytes, read by libvips. */
function header(bytes) {
  const f = path.join(tmpDir(), 'img');
  fs.writeFileSync(f, bytes);
  const field = (n) => execFileSync('vipsheader', ['-f', n, f], { encoding: 'utf8' }).trim();
  return { width: Number(field('width')), height: Number(field('height')), bands: Number(field('bands')) };
}

const magic = {
  jpeg: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  png: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  webp: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  avif: (b) => b.subarray(4, 12).toString('latin1') === 'ftypavif',
};

async function link(id, query, as = 'editor') {
  const r = await s.api(`/api/v1/assets/${id}/links?${query}`, { as });
  assert.equal(r.status, 200, r.text);
  return r.json.url;
}

/** Fetch a delivery URL with no credentials at all. */
async function fetchUrl(url, headers = {}, method = 'GET') {
  return checkedFetch(url, { headers, method });
}

async function waitRendition(id, name) {
  const until = Date.now() + T(90000);
  for (;;) {
    const r = await s.api(`/api/v1/assets/${id}/renditions`, { as: 'admin' });
    const items = r.json.items || r.json.renditions || r.json;
    if (Array.isArray(items) && items.some((x) => x.name === name)) return items;
    if (Date.now() > until) throw new Error(`no rendition ${name} on ${id}: ${r.text}`);
    await sleep(200);
  }
}

before(async () => {
  s = await startServer();
  photo = (await s.upload('photo.jpg', fixture('photo.jpg'), 'contributor')).asset_id;
  alpha = (await s.upload('alpha.png', fixture('alpha.png'), 'contributor')).asset_id;
  wav = (await s.upload('sound.wav', fixture('sound.wav'), 'contributor')).asset_id;
  for (const id of [photo, alpha, wav]) await s.waitProcessed(id);
  await waitRendition(photo, 'preset:tmall');
});
after(async () => { await s.stop(); });

test('the built-in channel presets are listed with their specs', async () => {
  const r = await s.api('/api/v1/presets', { as: 'viewer' });
  assert.equal(r.status, 200);
  const by = Object.fromEntries(r.json.presets.map((p) => [p.name, p]));
  for (const n of ['tmall', 'taobao', 'jd', 'amazon', 'shopify', 'bol', 'shopee', 'instagram-square',
    'instagram-portrait', 'tiktok', 'douyin', 'web-320', 'web-2560'])
    assert.ok(by[n], `preset ${n}`);
  assert.match(by.tmall.spec, /w_800/);
  assert.match(by.tmall.spec, /h_800/);
  assert.match(by.amazon.spec, /bg_ffffff/);
  assert.equal(by.tmall.source, 'builtin');
});

test('a preset link is served without login from the ahead-of-time rendition', async () => {
  const url = await link(photo, 'preset=tmall');
  assert.match(url, /\/t\/[A-Za-z0-9_-]{22}\/p_tmall\//);
  const r = await fetchUrl(url);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('content-type'), 'image/jpeg');
  assert.ok(magic.jpeg(r.bytes));
  assert.deepEqual(header(r.bytes), { width: 800, height: 800, bands: 3 });
  assert.equal(r.headers.get('x-dam-cache'), 'hit');
  // What the answer depends on, for CDN purges: the asset, the signing key,
  // the preset (issue 11, point 3).
  const keyId = JSON.parse(cli(s.lib, ['key', 'list'])).find((k) => k.signing).id;
  assert.equal(r.headers.get('surrogate-key'), `asset-${photo} key-${keyId} preset-tmall`);
  assert.equal(r.headers.get('cache-tag'), `asset-${photo},key-${keyId},preset-tmall`);
  assert.equal(r.headers.get('cache-control'), 'public, max-age=300');
  assert.equal(r.headers.get('content-length'), String(r.bytes.length));
  assert.ok(r.headers.get('last-modified'));
  const etag = r.headers.get('etag');
  assert.equal(etag, `"${sha256(r.bytes)}"`, 'a stored rendition is validated by its content hash');
  // the padding of an 1200x800 photo into 800x800 is pure white
  const f = path.join(tmpDir(), 't.jpg');
  fs.writeFileSync(f, r.bytes);
  const top = execFileSync('vips', ['getpoint', f, '400', '5'], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  for (const v of top) assert.ok(v >= 250, `top padding is white: ${top}`);
  const c304 = await fetchUrl(url, { 'if-none-match': etag });
  assert.equal(c304.status, 304);
  assert.equal(c304.bytes.length, 0);
  const head = await fetchUrl(url, {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(r.bytes.length));
  assert.equal(head.bytes.length, 0);
});

test('Range on a delivery; a range beyond the end is 416', async () => {
  const url = await link(photo, 'preset=jd');
  const full = await fetchUrl(url);
  const part = await fetchUrl(url, { range: 'bytes=10-19' });
  assert.equal(part.status, 206);
  assert.ok(part.bytes.equals(full.bytes.subarray(10, 20)));
  const beyond = await fetchUrl(url, { range: `bytes=${full.bytes.length + 10}-` });
  assert.equal(beyond.status, 416);
});

test('tampered, unsigned and re-pointed URLs are refused with 403', async () => {
  const url = await link(photo, 'preset=tmall');
  const u = new URL(url);
  const [, , sig, opts, id] = u.pathname.split('/');
  const flip = sig[0] === 'A' ? 'B' + sig.slice(1) : 'A' + sig.slice(1);
  for (const p of [`/t/${flip}/${opts}/${id}`, `/t/${'A'.repeat(22)}/${opts}/${id}`,
    `/t/${sig}/p_jd/${id}`, `/t/${sig}/${opts}/${alpha}`]) {
    const r = await fetchUrl(s.url + p);
    assert.equal(r.status, 403, p);
    assert.equal(JSON.parse(r.text).error.field, 'signature');
    assert.equal(r.headers.get('cache-control'), 'no-store');
  }
});

test('on-the-fly transforms: size, fit, format; the second request is a cache hit', async () => {
  const url = await link(photo, 'options=' + encodeURIComponent('w_300,h_200,fit_cover,crop_smart,f_png'));
  const a = await fetchUrl(url);
  assert.equal(a.status, 200, a.text);
  assert.equal(a.headers.get('content-type'), 'image/png');
  assert.ok(magic.png(a.bytes));
  assert.deepEqual(header(a.bytes), { width: 300, height: 200, bands: 3 });
  assert.equal(a.headers.get('x-dam-cache'), 'miss');
  const b = await fetchUrl(url);
  assert.equal(b.headers.get('x-dam-cache'), 'hit');
  assert.ok(a.bytes.equals(b.bytes));
  assert.equal(a.headers.get('etag'), b.headers.get('etag'));
  const inside = await fetchUrl(await link(photo, 'options=w_600'));
  assert.deepEqual(header(inside.bytes), { width: 600, height: 400, bands: 3 });
  const dpr = await fetchUrl(await link(photo, 'options=' + encodeURIComponent('w_100,h_100,fit_contain,dpr_2,f_webp')));
  assert.ok(magic.webp(dpr.bytes));
  assert.equal(header(dpr.bytes).width, 200);
});

test('f_auto negotiates AVIF, then WebP, then JPEG, with Vary: Accept', async () => {
  const url = await link(photo, 'options=' + encodeURIComponent('w_400,f_auto'));
  const avif = await fetchUrl(url, { accept: 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8' });
  assert.equal(avif.status, 200, avif.text);
  assert.equal(avif.headers.get('content-type'), 'image/avif');
  assert.ok(magic.avif(avif.bytes));
  assert.equal(avif.headers.get('vary'), 'Accept');
  const webp = await fetchUrl(url, { accept: 'image/webp,*/*' });
  assert.ok(magic.webp(webp.bytes));
  const jpeg = await fetchUrl(url, { accept: '*/*' });
  assert.ok(magic.jpeg(jpeg.bytes));
  assert.notEqual(jpeg.headers.get('etag'), webp.headers.get('etag'));
  // an image with alpha falls back to PNG, not JPEG
  const a = await fetchUrl(await link(alpha, 'options=' + encodeURIComponent('w_64,f_auto')), { accept: '*/*' });
  assert.ok(magic.png(a.bytes));
  assert.equal(header(a.bytes).bands, 4);
});

test('a watermark (another asset) is laid over the corner it names', async () => {
  const plain = await fetchUrl(await link(photo, 'options=' + encodeURIComponent('w_400,f_png')));
  const marked = await fetchUrl(await link(photo, 'options=' + encodeURIComponent(`w_400,f_png,wm_${alpha}:se:0.25:1`)));
  assert.equal(marked.status, 200, marked.text);
  assert.deepEqual(header(marked.bytes), header(plain.bytes));
  const px = (bytes, x, y) => {
    const f = path.join(tmpDir(), 'p.png');
    fs.writeFileSync(f, bytes);
    return execFileSync('vips', ['getpoint', f, String(x), String(y)], { encoding: 'utf8' }).trim();
  };
  const { width, height } = header(plain.bytes);
  assert.equal(px(marked.bytes, 5, 5), px(plain.bytes, 5, 5), 'the top-left corner is untouched');
  const differs = [[width - 20, height - 20], [width - 50, height - 40], [width - 80, height - 60]]
    .some(([x, y]) => px(marked.bytes, x, y) !== px(plain.bytes, x, y));
  assert.ok(differs, 'the bottom-right corner shows the watermark');
  const missing = await fetchUrl(await link(photo, 'options=' + encodeURIComponent(`w_400,wm_${wav}:se:0.25:1`)));
  assert.equal(missing.status, 400);
  assert.match(JSON.parse(missing.text).error.message, /not an image/);
});

test('bad options: 400 naming the position; absurd sizes refused', async () => {
  const bad = await s.api(`/api/v1/assets/${photo}/links?options=${encodeURIComponent('w_800,zz_1')}`, { as: 'editor' });
  assertErrorShape(bad, 400);
  assert.match(bad.json.error.message, /at 7/);
  // the delivery route itself says where, even before the signature
  const r = await fetchUrl(`${s.url}/t/${'A'.repeat(22)}/w_abc/${photo}`);
  assert.equal(r.status, 400);
  assert.match(JSON.parse(r.text).error.message, /at 1/);
  assertErrorShape(await s.api(`/api/v1/assets/${photo}/links?options=w_99999`, { as: 'editor' }), 400);
  const huge = await fetchUrl(await link(photo, 'options=' + encodeURIComponent('w_16000,h_16000,fit_contain')));
  assert.equal(huge.status, 413, huge.text);
  assert.match(JSON.parse(huge.text).error.message, /pixels|megapixels/);
  assertErrorShape(await s.api(`/api/v1/assets/${photo}/links?preset=nope`, { as: 'editor' }), 400);
});

test('a transform of audio is a 400; the audio itself streams with ranges', async () => {
  const t = await fetchUrl(await link(wav, 'options=w_100'));
  assert.equal(t.status, 400);
  assert.match(JSON.parse(t.text).error.message, /apply to images/);
  const url = await link(wav, '');
  const full = await fetchUrl(url);
  assert.equal(full.status, 200);
  assert.ok(full.bytes.equals(fixture('sound.wav')));
  const part = await fetchUrl(url, { range: 'bytes=0-3' });
  assert.equal(part.status, 206);
  assert.equal(part.text, 'RIFF');
});

test('links need an editor; viewers are refused', async () => {
  assertErrorShape(await s.api(`/api/v1/assets/${photo}/links?preset=tmall`, { as: 'viewer' }), 403);
  assertErrorShape(await s.api(`/api/v1/assets/${photo}/links?preset=tmall`), 401);
});

test('an expiring share link stops working after its expiry', async () => {
  const r = await s.api(`/api/v1/assets/${photo}/links?preset=tmall&expires=2`, { as: 'editor' });
  assert.equal(r.status, 200);
  assert.ok(r.json.expires_at);
  assert.match(r.json.url, /exp_\d+/);
  const ok = await fetchUrl(r.json.url);
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('cache-control'), /max-age=[0-2]$/, 'a shared cache may not keep it past the expiry');
  await sleep(3200);
  const gone = await fetchUrl(r.json.url);
  assert.equal(gone.status, 403);
  assert.match(JSON.parse(gone.text).error.message, /expired/);
});

test('a version-pinned URL is immutable', async () => {
  const r = await fetchUrl(await link(photo, 'preset=tmall&version=1'));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
});

test('deleting the asset stops its URLs at once; restoring brings them back', async () => {
  const id = (await s.upload('photo2.jpg', fixture('photo2.jpg'), 'contributor')).asset_id;
  await s.waitProcessed(id);
  const url = await link(id, 'options=w_200');
  assert.equal((await fetchUrl(url)).status, 200);
  assert.equal((await s.api(`/api/v1/assets/${id}`, { method: 'DELETE', as: 'editor' })).status, 204);
  const gone = await fetchUrl(url);
  assert.equal(gone.status, 404);
  assert.equal((await s.api(`/api/v1/assets/${id}/restore`, { method: 'POST', as: 'editor' })).status, 200);
  assert.equal((await fetchUrl(url)).status, 200);
});

test('repeated deliveries come from the event loop\'s memory, and any change in the library retires them', async () => {
  const hot = async () => {
    const m = await s.api('/metrics', { as: 'admin' });
    return Number(m.text.match(/^dam_delivery_hot_requests_total\{outcome="hit"\} (\d+)$/m)[1]);
  };
  const id = (await s.upload('photo-hot.tif', fixture('image.tif'), 'contributor')).asset_id;
  await s.waitProcessed(id);
  const url = await link(id, 'options=' + encodeURIComponent('w_251,f_png'));
  const first = await fetchUrl(url);
  assert.equal(first.status, 200, first.text);
  // The answer is kept once the keys and presets the pool used are no older than the
  // library's last change (at most a second, docs/delivery.md); then repeats are hits.
  const before = await hot();
  let again;
  const until = Date.now() + T(3000);
  do {
    again = await fetchUrl(url);
    assert.equal(again.status, 200);
  } while (await hot() === before && Date.now() < until && !(await sleep(100)));
  assert.ok(await hot() > before, 'a repeated delivery is answered from the hot cache');
  assert.ok(again.bytes.equals(first.bytes), 'the same bytes');
  const held = Number((await s.api('/metrics', { as: 'admin' })).text.match(/^dam_delivery_hot_bytes (\d+)$/m)[1]);
  assert.ok(held > first.bytes.length, `the hot cache gauge counts the entry's body and headers (${held})`);
  for (const h of ['etag', 'content-type', 'last-modified', 'surrogate-key', 'cache-tag', 'cache-control', 'content-length'])
    assert.equal(again.headers.get(h), first.headers.get(h), h);
  assert.equal(again.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(header(again.bytes).width, 251);
  // conditional and HEAD requests from the cache
  const nm = await fetchUrl(url, { 'if-none-match': first.headers.get('etag') });
  assert.equal(nm.status, 304);
  assert.equal(nm.bytes.length, 0);
  const head = await fetchUrl(url, {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(first.bytes.length));
  // a range still gets a range
  const part = await fetchUrl(url, { range: 'bytes=0-9' });
  assert.equal(part.status, 206);
  assert.ok(part.bytes.equals(first.bytes.subarray(0, 10)));
  // A change anywhere in the library (here a field edit on another asset) retires the
  // entry; the next answer is made again and is the same.
  const hits = await hot();
  assert.equal((await s.api(`/api/v1/assets/${alpha}`, { method: 'PATCH', as: 'editor',
    json: { tags: { add: ['hot-test'] } } })).status, 200);
  const after = await fetchUrl(url);
  assert.equal(after.status, 200);
  assert.equal(await hot(), hits, 'the first answer after a change is not from the cache');
  assert.ok(after.bytes.equals(first.bytes));
  // Deleting the asset stops the URL with the very next request.
  assert.equal((await s.api(`/api/v1/assets/${id}`, { method: 'DELETE', as: 'editor' })).status, 204);
  assert.equal((await fetchUrl(url)).status, 404);
  assert.equal((await fetchUrl(url)).status, 404);
});

test('a hot expiring link counts its max-age down and stops at its expiry', async () => {
  const url = await link(photo, 'options=w_222,f_png&expires=3');
  const seen = [];
  for (let i = 0; i < 4; i++) {
    const r = await fetchUrl(url);
    assert.equal(r.status, 200);
    seen.push(Number(r.headers.get('cache-control').match(/max-age=(\d+)/)[1]));
    await sleep(300);
  }
  assert.ok(seen.every((a) => a <= 3), `max-age never past the expiry: ${seen}`);
  await sleep(T(3500));
  assert.equal((await fetchUrl(url)).status, 403);
});

test('100 concurrent first requests for one rendition encode it once', async () => {
  const metric = async () => {
    const m = await s.api('/metrics', { as: 'admin' });
    return Number(m.text.match(/^dam_rendition_encodes_total (\d+)$/m)[1]);
  };
  const url = await link(photo, 'options=' + encodeURIComponent('w_777,h_555,fit_cover,f_webp,q_71'));
  const before = await metric();
  const all = await Promise.all(Array.from({ length: 100 }, () => fetchUrl(url)));
  for (const r of all) assert.equal(r.status, 200);
  const h = sha256(all[0].bytes);
  for (const r of all) assert.equal(sha256(r.bytes), h);
  assert.equal(await metric() - before, 1);
});

test('SIGHUP applies a new rendition cache bound at once ([delivery] cache_mb)', async () => {
  const entries = async () => {
    const m = await s.api('/metrics', { as: 'admin' });
    return Number(m.text.match(/^dam_rendition_cache_entries (\d+)$/m)[1]);
  };
  const waitFor = async (ok, what) => {
    const until = Date.now() + T(10000);
    while (!ok(await entries())) {
      if (Date.now() > until) assert.fail(what);
      await sleep(100);
    }
  };
  assert.equal((await fetchUrl(await link(photo, 'options=' + encodeURIComponent('w_311,f_png')))).status, 200);
  assert.ok(await entries() > 0, 'the rendition cache holds entries');
  const conf = path.join(s.lib, 'dam.conf');
  const before = fs.readFileSync(conf, 'utf8');
  try {
    fs.appendFileSync(conf, '\n[delivery]\ncache_mb = 0\n');
    s.proc.kill('SIGHUP');
    await waitFor((n) => n === 0, 'a reload to cache_mb = 0 left entries in the rendition cache');
  } finally {
    fs.writeFileSync(conf, before);
    s.proc.kill('SIGHUP');
  }
  // The old bound again: a new rendition is kept.
  const url = await link(photo, 'options=' + encodeURIComponent('w_313,f_png'));
  const until = Date.now() + T(10000);
  while (await entries() === 0) {
    assert.equal((await fetchUrl(url)).status, 200);
    if (Date.now() > until) assert.fail('the restored bound keeps nothing');
    await sleep(100);
  }
});

test('more concurrent transforms than cores all finish (they queue for a transform slot in order)', async () => {
  const widths = [101, 102, 103, 104, 105, 106, 107, 108];
  const urls = await Promise.all(widths.map((w) => link(photo, `options=w_${w},f_png`)));
  const all = await Promise.all(urls.map((u) => fetchUrl(u)));
  all.forEach((r, i) => {
    assert.equal(r.status, 200, r.text);
    assert.equal(header(r.bytes).width, widths[i]);
  });
});

test('presets through the API: create, use, change, delete; bad specs refused', async () => {
  // the 1200x800 photo needs 1.33x for 1600x900: cover enlarges only with up_N
  const spec = 'w_1600,h_900,fit_cover,crop_smart,up_1.5,f_webp,q_80';
  assertErrorShape(await s.api('/api/v1/presets', { method: 'POST', as: 'editor', json: { name: 'hero', spec } }), 403);
  const bad = await s.api('/api/v1/presets', { method: 'POST', as: 'admin', json: { name: 'hero', spec: 'w_1600,fit_cover' } });
  assertErrorShape(bad, 400);
  assert.match(bad.json.error.message, /at \d+/);
  assertErrorShape(await s.api('/api/v1/presets', { method: 'POST', as: 'admin', json: { name: 'Bad Name', spec } }), 400);
  const c = await s.api('/api/v1/presets', { method: 'POST', as: 'admin', json: { name: 'hero', spec, description: 'Home page hero' } });
  assert.equal(c.status, 201, c.text);
  assert.equal(c.json.source, 'api');
  const img = await fetchUrl(await link(photo, 'preset=hero'));
  assert.ok(magic.webp(img.bytes));
  const h = header(img.bytes);
  assert.ok(Math.abs(h.width / h.height - 16 / 9) < 0.01, `16:9 crop, got ${h.width}x${h.height}`);
  const p = await s.api('/api/v1/presets/hero', { method: 'PUT', as: 'admin', json: { spec: 'w_300,h_300,fit_cover,f_jpeg' } });
  assert.equal(p.status, 200);
  const img2 = await fetchUrl(await link(photo, 'preset=hero'));
  assert.deepEqual(header(img2.bytes), { width: 300, height: 300, bands: 3 });
  // overriding a built-in, then deleting the override restores the built-in
  assert.equal((await s.api('/api/v1/presets/jd', { method: 'PUT', as: 'admin', json: { spec: 'w_500,h_500,fit_contain,f_jpeg' } })).status, 200);
  assert.equal((await s.api('/api/v1/presets/jd', { as: 'viewer' })).json.source, 'api');
  assert.equal((await s.api('/api/v1/presets/jd', { method: 'DELETE', as: 'admin' })).status, 204);
  assert.equal((await s.api('/api/v1/presets/jd', { as: 'viewer' })).json.source, 'builtin');
  assertErrorShape(await s.api('/api/v1/presets/tmall', { method: 'DELETE', as: 'admin' }), 400);
  assert.equal((await s.api('/api/v1/presets/hero', { method: 'DELETE', as: 'admin' })).status, 204);
  assertErrorShape(await s.api('/api/v1/presets/hero', { as: 'viewer' }), 404);
});

test('a preset added to dam.conf is served after SIGHUP', async () => {
  fs.appendFileSync(path.join(s.lib, 'dam.conf'), '\n[preset promo]\nspec = w_123,f_png\ndescription = Promo tile\n');
  pushSettingsIfStored(s.lib); // on PostgreSQL presets are shared settings in the database
  s.proc.kill('SIGHUP');
  const until = Date.now() + T(10000);
  let r;
  while ((r = await s.api(`/api/v1/assets/${photo}/links?preset=promo`, { as: 'editor' })).status !== 200) {
    if (Date.now() > until) throw new Error('preset promo not known after SIGHUP: ' + r.text);
    await sleep(100);
  }
  const img = await fetchUrl(r.json.url);
  assert.equal(img.status, 200, img.text);
  assert.ok(magic.png(img.bytes));
  assert.equal(header(img.bytes).width, 123);
  const p = await s.api('/api/v1/presets/promo', { as: 'viewer' });
  // Where it really comes from: this node's dam.conf, or (once pushed) the
  // library's shared settings in the database.
  const pushed = libSql(s.lib, 'SELECT count(*) FROM settings') !== '0';
  assert.equal(p.json.source, pushed ? 'settings' : 'config');
});

test('a preset changed by another process (the CLI) is delivered within about a second', async () => {
  // The server caches the effective presets; another process's change reaches it when the
  // cache re-reads the library's presets_version row, at most 1 s later (docs/delivery.md).
  cli(s.lib, ['preset', 'set', 'xproc', 'w_120,f_png', '--on-use']);
  const url = await link(photo, 'preset=xproc');
  const seen = async (width) => {
    const t0 = Date.now();
    for (;;) {
      const r = await fetchUrl(url);
      if (r.status === 200 && header(r.bytes).width === width) return Date.now() - t0;
      assert.ok(Date.now() - t0 < T(3000), `still not ${width} px wide after ${Date.now() - t0} ms: ${r.status}`);
      await sleep(50);
    }
  };
  await seen(120);
  cli(s.lib, ['preset', 'set', 'xproc', 'w_90,f_png', '--on-use']);
  const ms = await seen(90);
  assert.ok(ms < T(2500), `seen after ${ms} ms`);
  cli(s.lib, ['preset', 'rm', 'xproc']);
  const t0 = Date.now();
  for (;;) {
    const r = await fetchUrl(url);
    if (r.status === 400) break;
    assert.ok(Date.now() - t0 < T(3000), `a deleted preset still delivered after ${Date.now() - t0} ms`);
    await sleep(50);
  }
});

test('the focal point is kept by the asset, audited, and moves preset crops', async () => {
  const before = await fetchUrl(await link(photo, 'preset=instagram-portrait'));
  assertErrorShape(await s.api(`/api/v1/assets/${photo}`, { method: 'PATCH', as: 'editor', json: { focal: { x: 2, y: 0 } } }), 400);
  const r = await s.api(`/api/v1/assets/${photo}`, { method: 'PATCH', as: 'editor', json: { focal: { x: 0.05, y: 0.5 } } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.focal, { x: 0.05, y: 0.5 });
  // the ahead-of-time rendition is re-made with the point
  const until = Date.now() + T(60000);
  let after;
  for (;;) {
    after = await fetchUrl(await link(photo, 'preset=instagram-portrait'));
    if (after.headers.get('etag') !== before.headers.get('etag') && after.headers.get('x-dam-cache') === 'hit') break;
    if (Date.now() > until) throw new Error('instagram-portrait was not re-rendered for the focal point');
    await sleep(200);
  }
  // cover gives exactly the preset's box: the 800 px high photo is
  // enlarged 1.69x (instagram-portrait allows up to 2x)
  assert.deepEqual(header(after.bytes), { width: 1080, height: 1350, bands: 3 });
  const log = cli(s.lib, ['audit', 'log', photo]);
  assert.match(log, /asset\.focal/);
  assert.equal((await s.api(`/api/v1/assets/${photo}`, { method: 'PATCH', as: 'editor', json: { focal: null } })).json.focal, null);
});

test('renditions carry the asset\'s copyright and creator, and follow a change', async () => {
  const before = await fetchUrl(await link(photo, 'preset=taobao'));
  assert.ok(before.bytes.includes(Buffer.from('(c) 2026 Brand BV')), 'the embedded copyright is kept');
  assert.ok(before.bytes.includes(Buffer.from('Ada Photographer')), 'the embedded creator is kept');
  const r = await s.api(`/api/v1/assets/${photo}`, { method: 'PATCH', as: 'editor', json: { fields: { copyright: '(c) 2027 Other Co' } } });
  assert.equal(r.status, 200, r.text);
  const until = Date.now() + T(60000);
  let after;
  for (;;) {
    after = await fetchUrl(await link(photo, 'preset=taobao'));
    if (after.headers.get('x-dam-cache') === 'hit' && after.headers.get('etag') !== before.headers.get('etag')) break;
    if (Date.now() > until) throw new Error('taobao was not re-rendered for the new copyright');
    await sleep(200);
  }
  assert.ok(after.bytes.includes(Buffer.from('(c) 2027 Other Co')));
  assert.ok(!after.bytes.includes(Buffer.from('(c) 2026 Brand BV')));
});

test('key rotation: old links keep working until the old key is retired', async () => {
  const old = await link(photo, 'preset=tmall');
  const keys = JSON.parse(cli(s.lib, ['key', 'list']));
  assert.equal(keys.length, 1);
  assert.ok(!JSON.stringify(keys).includes('secret'));
  cli(s.lib, ['key', 'rotate']);
  const fresh = await link(photo, 'preset=tmall');
  assert.notEqual(fresh, old, 'new links are signed with the new key');
  // the server re-reads its keys within a second (docs/delivery.md)
  const until = Date.now() + 1500;
  let st;
  while ((st = (await fetchUrl(fresh)).status) !== 200 && Date.now() < until) await sleep(100);
  assert.equal(st, 200, 'the server picks up a key rotated while it runs');
  assert.equal((await fetchUrl(old)).status, 200, 'links signed with the old key still work');
  cli(s.lib, ['key', 'retire', keys[0].id]);
  await sleep(1100);
  assert.equal((await fetchUrl(old)).status, 403, 'a retired key verifies nothing');
  assert.equal((await fetchUrl(fresh)).status, 200);
});

test('deep zoom tiles come from the master', async () => {
  const t = await s.api(`/api/v1/assets/${photo}/tiles/11/0_0.jpg`, { as: 'viewer' });
  assert.equal(t.status, 200, t.text);
  assert.deepEqual(header(t.bytes), { width: 256, height: 256, bands: 3 });
  const top = await s.api(`/api/v1/assets/${photo}/tiles/0/0_0.jpg`, { as: 'viewer' });
  assert.deepEqual(header(top.bytes), { width: 1, height: 1, bands: 3 });
  const edge = await s.api(`/api/v1/assets/${photo}/tiles/11/4_3.jpg`, { as: 'viewer' });
  assert.deepEqual(header(edge.bytes), { width: 1200 - 4 * 256, height: 800 - 3 * 256, bands: 3 });
  assertErrorShape(await s.api(`/api/v1/assets/${photo}/tiles/11/5_0.jpg`, { as: 'viewer' }), 404);
  assertErrorShape(await s.api(`/api/v1/assets/${photo}/tiles/12/0_0.jpg`, { as: 'viewer' }), 404);
});

test('presets-only mode refuses arbitrary transforms but serves presets', async () => {
  const p = await startServer({ conf: '[delivery]\npresets_only = true' });
  try {
    const id = (await p.upload('photo2.jpg', fixture('photo2.jpg'), 'contributor')).asset_id;
    await p.waitProcessed(id);
    const mk = async (q) => (await p.api(`/api/v1/assets/${id}/links?${q}`, { as: 'editor' })).json.url;
    const t = await fetchUrl(await mk('options=w_100'));
    assert.equal(t.status, 403);
    assert.match(JSON.parse(t.text).error.message, /presets only/);
    const ok = await fetchUrl(await mk('preset=jd'));
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(header(ok.bytes), { width: 800, height: 800, bands: 3 });
  } finally {
    await p.stop();
  }
});

test('dam render and dam url give what the server delivers', async () => {
  const out = path.join(tmpDir(), 'r.jpg');
  cli(s.lib, ['render', photo, 'tmall', '-o', out]);
  assert.deepEqual(header(fs.readFileSync(out)), { width: 800, height: 800, bands: 3 });
  const url = cli(s.lib, ['url', photo, 'tmall', '--expires', '7d', '--base', s.url]).trim();
  assert.match(url, new RegExp(`^${s.url}/t/[A-Za-z0-9_-]{22}/p_tmall,exp_\\d+/${photo}$`));
  const r = await fetchUrl(url);
  assert.equal(r.status, 200);
  assert.ok(r.bytes.equals(fs.readFileSync(out)), 'dam render writes the delivered bytes');
  assert.throws(() => cli(s.lib, ['render', photo, 'nope', '-o', out]), /unknown preset|no preset/);
});

// Sources too small for a channel (issue 11, point 4): one upscaling rule
// per fit (docs/delivery.md "Enlarging"), exactly the promised size or a
// clear refusal, the enlargement recorded on each preset rendition, and
// warnings in the renditions and links JSON. Sizes are read by vipsheader
// from the bytes delivered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, fixture, tmpDir, sleep, T } from './lib/server.mjs';

let s, photo, small;

function size(bytes) {
  const f = path.join(tmpDir(), 'img');
  fs.writeFileSync(f, bytes);
  const field = (n) => Number(execFileSync('vipsheader', ['-f', n, f], { encoding: 'utf8' }).trim());
  return `${field('width')}x${field('height')}`;
}
async function link(id, q) {
  const r = await s.api(`/api/v1/assets/${id}/links?${q}`, { as: 'editor' });
  assert.equal(r.status, 200, r.text);
  return r.json;
}
async function get(id, options) {
  const { url } = await link(id, 'options=' + encodeURIComponent(options));
  const r = await fetch(url, { signal: AbortSignal.timeout(T(60000)) });
  const bytes = Buffer.from(await r.arrayBuffer());
  return { status: r.status, bytes, json: r.status >= 400 ? JSON.parse(bytes.toString('utf8')) : null };
}
async function renditions(id, want) {
  const until = Date.now() + T(90000);
  for (;;) {
    const r = await s.api(`/api/v1/assets/${id}/renditions`, { as: 'viewer' });
    assert.equal(r.status, 200, r.text);
    if (r.json.items.some((x) => x.name === want)) return r.json;
    if (Date.now() > until) throw new Error(`no ${want} on ${id}: ${r.text}`);
    await sleep(200);
  }
}

before(async () => {
  s = await startServer();
  photo = (await s.upload('photo.jpg', fixture('photo.jpg'), 'contributor')).asset_id; // 1200x800
  small = (await s.upload('image.tif', fixture('image.tif'), 'contributor')).asset_id; // 300x200
  await s.waitProcessed(photo);
  await s.waitProcessed(small);
});
after(async () => { await s.stop(); });

test('each fit with a small source: exactly the promised size, or a refusal saying by how much', async () => {
  // inside: never enlarged unless up_N allows it, and then at most N times
  assert.equal(size((await get(small, 'w_900,h_900,f_png')).bytes), '300x200');
  assert.equal(size((await get(small, 'w_900,h_900,up_2,f_png')).bytes), '600x400');
  // contain: always the box; the image is not enlarged, the rest is padding
  const c = await get(small, 'w_900,h_900,fit_contain,bg_ffffff,f_png');
  assert.equal(size(c.bytes), '900x900');
  // cover: the box within up_N, refused beyond it
  assert.equal(size((await get(small, 'w_540,h_960,fit_cover,up_5,f_jpeg')).bytes), '540x960');
  const refused = await get(small, 'w_1080,h_1920,fit_cover,f_jpeg');
  assert.equal(refused.status, 409);
  assert.equal(refused.json.error.field, 'up');
  assert.match(refused.json.error.message, /300x200, too small for fit cover 1080x1920: it would have to be enlarged 9\.60x/);
  // fill: stretched to exactly the box (each axis on its own)
  assert.equal(size((await get(photo, 'w_1500,h_500,fit_fill,up_2,f_jpeg')).bytes), '1500x500');
  assert.equal((await get(photo, 'w_3000,h_500,fit_fill,f_jpeg')).status, 409);
});

test('presets: marketplaces pad without enlarging, 9:16 enlarges up to 2x or refuses; renditions record it', async () => {
  const j = await renditions(photo, 'preset:instagram-square');
  const by = Object.fromEntries(j.items.map((r) => [r.name, r]));
  // Amazon 2000x2000 of a 1200x800 photo: the canvas, not a 1.7x blow-up
  assert.equal(`${by['preset:amazon'].width}x${by['preset:amazon'].height}`, '2000x2000');
  assert.equal(by['preset:amazon'].enlarged, 1);
  assert.equal(`${by['preset:instagram-square'].width}x${by['preset:instagram-square'].height}`, '1080x1080');
  assert.ok(Math.abs(by['preset:instagram-square'].enlarged - 1.35) < 0.01, JSON.stringify(by['preset:instagram-square']));
  assert.equal(`${by['preset:instagram-portrait'].width}x${by['preset:instagram-portrait'].height}`, '1080x1350');
  assert.ok(Math.abs(by['preset:instagram-portrait'].enlarged - 1.6875) < 0.01);
  // TikTok 1080x1920 needs 2.4x: no rendition, a refusal in the warnings
  assert.equal(by['preset:tiktok'], undefined);
  const w = j.warnings.filter((x) => x.preset === 'tiktok').map((x) => x.kind).sort();
  assert.deepEqual(w, ['refused', 'too_small']);
  // the Amazon padding is pure white around the unscaled photo
  const { url } = await link(photo, 'preset=amazon');
  const r = await fetch(url);
  assert.equal(r.status, 200);
  const f = path.join(tmpDir(), 'a.jpg');
  fs.writeFileSync(f, Buffer.from(await r.arrayBuffer()));
  const px = execFileSync('vips', ['getpoint', f, '1000', '500'], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  for (const v of px) assert.ok(v >= 250, `padding above the photo is white: ${px}`);
  // the preset link of a refused preset is refused too, and its links JSON says why
  const tl = await link(photo, 'preset=tiktok');
  assert.deepEqual(tl.warnings.map((x) => x.kind).sort(), ['refused', 'too_small']);
  assert.equal((await fetch(tl.url)).status, 409);
});

test('warnings in the API: the channel\'s own size rule, per preset', async () => {
  const j = await renditions(small, 'preset:amazon');
  const amazon = j.warnings.filter((x) => x.preset === 'amazon');
  assert.deepEqual(amazon.map((x) => x.kind), ['too_small']);
  assert.equal(amazon[0].min_long, 1000);
  assert.match(amazon[0].message, /Amazon enables zoom only for images of at least 1000 px on the longest side/);
  const lk = await link(small, 'preset=amazon');
  assert.deepEqual(lk.warnings, amazon);
  // an image that meets the rule has no Amazon warning
  const p = await renditions(photo, 'preset:amazon');
  assert.deepEqual(p.warnings.filter((x) => x.preset === 'amazon'), []);
  // a link with options (no preset) has none
  assert.deepEqual((await link(small, 'options=w_100')).warnings, []);
});

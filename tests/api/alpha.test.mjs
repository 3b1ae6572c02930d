// Images with alpha through upload and delivery (issue 11, point 1): an
// RGBA PNG, a 16-bit RGBA PNG and a transparent SVG are processed (every
// job done, the ahead-of-time presets rendered) and delivered with
// crop_smart, the smart crop that used to unref an image twice inside
// `dam serve`. The server runs with G_DEBUG=fatal-warnings (lib/server.mjs),
// so such a critical would kill it; stop() also fails on any critical in
// its stderr. Pixels are read with libvips's command-line tools.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, fixture, tmpDir, sleep, T } from './lib/server.mjs';

let s;
const ids = {};

function file(bytes) {
  const f = path.join(tmpDir(), 'img');
  fs.writeFileSync(f, bytes);
  return f;
}
const vips = (...a) => execFileSync('vips', a, { encoding: 'utf8' }).trim();
const head = (f, n) => Number(execFileSync('vipsheader', ['-f', n, f], { encoding: 'utf8' }).trim());
const point = (f, x, y) => vips('getpoint', f, String(x), String(y)).split(/\s+/).map(Number);
function near(px, want, tol, what) {
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(px[i] - want[i]) <= tol, `${what}: ${px} vs ${want} (+-${tol})`);
}

async function deliver(id, options) {
  const l = await s.api(`/api/v1/assets/${id}/links?options=${encodeURIComponent(options)}`, { as: 'editor' });
  assert.equal(l.status, 200, l.text);
  const r = await fetch(l.json.url, { signal: AbortSignal.timeout(T(60000)) });
  const bytes = Buffer.from(await r.arrayBuffer());
  assert.equal(r.status, 200, `${options}: ${bytes.toString('utf8', 0, 300)}`);
  return file(bytes);
}

async function waitJobsDone(id) {
  const until = Date.now() + T(90000);
  for (;;) {
    const r = await s.api(`/api/v1/jobs?limit=500`, { as: 'admin' });
    const jobs = (r.json.jobs || r.json.items || []).filter((j) => j.asset_id === id);
    const open = jobs.filter((j) => j.state === 'queued' || j.state === 'running');
    if (jobs.some((j) => j.kind === 'renditions') && !open.length) return jobs;
    if (Date.now() > until) throw new Error(`jobs of ${id} not finished: ${r.text}`);
    await sleep(200);
  }
}

before(async () => {
  s = await startServer();
  for (const n of ['alpha.png', 'deep16.png', 'clear.svg'])
    ids[n] = (await s.upload(n, fixture(n), 'contributor')).asset_id;
  for (const id of Object.values(ids)) assert.equal((await s.waitProcessed(id)).versions[0].status, 'ready');
});
after(async () => { await s.stop(); });

test('RGBA, 16-bit and transparent SVG uploads: every job done, presets rendered', async () => {
  for (const [n, id] of Object.entries(ids)) {
    const jobs = await waitJobsDone(id);
    assert.deepEqual(jobs.filter((j) => j.state !== 'done').map((j) => `${j.kind}: ${j.error}`), [], n);
    const r = await s.api(`/api/v1/assets/${id}/renditions`, { as: 'admin' });
    const names = (r.json.items || []).map((x) => x.name);
    for (const want of ['master', 'preset:tmall', 'preset:amazon'])
      assert.ok(names.includes(want), `${n} has ${want}: ${names}`);
  }
});

test('alpha.png with crop_smart: PNG keeps the alpha, JPEG is flattened on white', async () => {
  // 256x256: transparent corners, an opaque disc (220,80,40) of radius 90
  // in the middle; cover 60x120 scales it to 120x120 and keeps a window of
  // 60 px that the attention search puts on the disc
  const png = await deliver(ids['alpha.png'], 'w_60,h_120,fit_cover,crop_smart,f_png');
  assert.deepEqual([head(png, 'width'), head(png, 'height'), head(png, 'bands')], [60, 120, 4]);
  assert.equal(point(png, 30, 2)[3], 0, 'the top is transparent');
  near(point(png, 30, 60), [220, 80, 40, 255], 3, 'the disc');
  const jpg = await deliver(ids['alpha.png'], 'w_60,h_120,fit_cover,crop_smart,f_jpeg,q_95');
  assert.deepEqual([head(jpg, 'width'), head(jpg, 'height'), head(jpg, 'bands')], [60, 120, 3]);
  near(point(jpg, 30, 2), [255, 255, 255], 6, 'transparent becomes white');
  near(point(jpg, 30, 60), [220, 80, 40], 10, 'the disc');
});

test('deep16.png (16-bit RGBA) with crop_smart: 8-bit colours of the 16-bit source', async () => {
  // 300x200 vertical gradient #0d47a1 -> #ffcc80, opaque but for a disc at
  // 40 % in the middle; cover 100x200 keeps a 100 px wide window
  const png = await deliver(ids['deep16.png'], 'w_100,h_200,fit_cover,crop_smart,f_png');
  assert.deepEqual([head(png, 'width'), head(png, 'height'), head(png, 'bands')], [100, 200, 4]);
  const top = point(png, 50, 1);
  near(top, [13, 71, 161, 255], 6, 'top of the gradient, opaque');
  const alpha = path.join(tmpDir(), 'a.v');
  vips('extract_band', png, alpha, '3');
  near([Number(vips('min', alpha))], [100], 3, 'the disc keeps its 40 % alpha (25700/65535 -> 100)');
  const jpg = await deliver(ids['deep16.png'], 'w_100,h_200,fit_cover,crop_smart,f_jpeg,q_95');
  assert.deepEqual([head(jpg, 'width'), head(jpg, 'height'), head(jpg, 'bands')], [100, 200, 3]);
  near(point(jpg, 50, 1), [13, 71, 161], 8, 'top of the gradient');
});

test('clear.svg (transparent) with crop_smart: clear stays clear, shapes are drawn', async () => {
  const png = await deliver(ids['clear.svg'], 'w_100,h_200,fit_cover,crop_smart,f_png');
  assert.deepEqual([head(png, 'width'), head(png, 'height'), head(png, 'bands')], [100, 200, 4]);
  assert.equal(point(png, 50, 3)[3], 0, 'above the shapes is transparent');
  const alpha = path.join(tmpDir(), 'a.v');
  vips('extract_band', png, alpha, '3');
  assert.equal(Number(vips('max', alpha)), 255, 'an opaque shape is in the window');
  const jpg = await deliver(ids['clear.svg'], 'w_100,h_200,fit_cover,crop_smart,f_jpeg,q_95');
  assert.equal(head(jpg, 'bands'), 3);
  near(point(jpg, 50, 3), [255, 255, 255], 6, 'transparent becomes white');
  assert.ok(Number(vips('min', jpg)) < 150, 'the shapes are drawn');
});

// Deep Zoom tile addresses (issue 11, point 14): a coordinate too large for
// 32 bits is refused with 400, never wrapped onto a real tile (sscanf's %d
// read 4294967296 as 0 and served tile 0_0).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, assertErrorShape } from './lib/server.mjs';

let s, photo;

before(async () => {
  s = await startServer();
  photo = (await s.upload('photo.jpg', fixture('photo.jpg'), 'contributor')).asset_id;
  await s.waitProcessed(photo);
});

after(async () => {
  if (s) await s.stop();
});

const tile = (p) => s.api(`/api/v1/assets/${photo}/tiles/${p}`, { as: 'viewer' });

test('tile coordinates in range are served', async () => {
  const r = await tile('11/0_0.jpg');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('content-type'), 'image/jpeg');
  const last = await tile('11/2147483647_0.jpg');
  assertErrorShape(last, 404); // a valid number, just no such tile
});

test('tile coordinates beyond 32 bits are 400, not a wrapped tile', async () => {
  for (const [p, what] of [
    ['11/4294967296_0.jpg', 'column'],
    ['11/0_4294967296.jpg', 'row'],
    ['4294967307/0_0.jpg', 'level'],
    ['11/4294967300_4294967299.jpg', 'column'],
    ['11/2147483648_0.jpg', 'column'],
    ['11/99999999999999999999999_0.jpg', 'column'],
  ]) {
    const r = await tile(p);
    assertErrorShape(r, 400, 'invalid_parameter', p);
    assert.equal(r.json.error.field, 'tile', p);
    assert.match(r.json.error.message, new RegExp(`tile ${what} must be a whole number from 0 to 2147483647`), p);
  }
});

test('malformed tile addresses stay 404', async () => {
  for (const p of ['11/-1_0.jpg', '11/+1_0.jpg', '11/1_0.png', '11/10.jpg', 'x/0_0.jpg', '11/_0.jpg', '11/0_.jpg']) {
    assertErrorShape(await tile(p), 404, undefined, p);
  }
});

test('version numbers in paths do not wrap either', async () => {
  // 4294967297 is 1 modulo 2^32: a wrapping parser would answer version 1.
  for (const p of ['versions/4294967297', 'versions/4294967297/original', 'versions/18446744073709551617']) {
    assertErrorShape(await s.api(`/api/v1/assets/${photo}/${p}`, { as: 'viewer' }), 404, undefined, p);
  }
  const r = await s.api(`/api/v1/assets/${photo}/versions/4294967297/restore`, { method: 'POST', as: 'editor' });
  assertErrorShape(r, 404, undefined, 'restore');
  assert.equal((await s.api(`/api/v1/assets/${photo}/versions/1`, { as: 'viewer' })).status, 200);
});

// Downloads: originals and renditions with ranges, validators, HEAD and
// Content-Disposition.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, assertErrorShape, sha256 } from './lib/server.mjs';

let s, id, uid, pdf, etag;
const data = fixture('photo.jpg');
before(async () => {
  s = await startServer();
  id = (await s.upload('photo.jpg', data, 'contributor')).asset_id;
  uid = (await s.upload('白色运动鞋 "x".jpg', fixture('photo2.jpg'), 'contributor')).asset_id;
  pdf = (await s.upload('colours.pdf', fixture('pages.pdf'), 'contributor')).asset_id;
});
after(async () => { await s.stop(); });
const get = (p, headers = {}, method = 'GET') => s.api(p, { as: 'viewer', headers, method });

test('the full original equals the fixture byte for byte', async () => {
  const r = await get(`/api/v1/assets/${id}/original`);
  assert.equal(r.status, 200);
  assert.equal(sha256(r.bytes), sha256(data));
  assert.equal(r.headers.get('content-type'), 'image/jpeg');
  assert.equal(r.headers.get('content-length'), String(data.length));
  assert.equal(r.headers.get('accept-ranges'), 'bytes');
  assert.ok(r.headers.get('last-modified'));
  etag = r.headers.get('etag');
  assert.equal(etag, `"${sha256(data)}"`);
  assert.match(r.headers.get('content-disposition'), /^attachment; filename="photo\.jpg"; filename\*=UTF-8''photo\.jpg$/);
  const v = await get(`/api/v1/assets/${id}/versions/1/original`);
  assert.ok(v.bytes.equals(data));
  const q = await get(`/api/v1/assets/${id}/original?version=1`);
  assert.ok(q.bytes.equals(data));
  assertErrorShape(await get(`/api/v1/assets/${id}/original?version=9`), 404);
  assertErrorShape(await get(`/api/v1/assets/${id}/original?version=abc`), 400, 'invalid_parameter');
});

test('Range: single range is 206 with Content-Range and exact Content-Length', async () => {
  for (const [range, a, b] of [['bytes=0-99', 0, 99], ['bytes=1000-', 1000, data.length - 1], ['bytes=-500', data.length - 500, data.length - 1],
    [`bytes=${data.length - 10}-${data.length + 1000}`, data.length - 10, data.length - 1]]) {
    const r = await get(`/api/v1/assets/${id}/original`, { range });
    assert.equal(r.status, 206, range);
    assert.equal(r.headers.get('content-range'), `bytes ${a}-${b}/${data.length}`);
    assert.equal(r.headers.get('content-length'), String(b - a + 1));
    assert.ok(r.bytes.equals(data.subarray(a, b + 1)), range);
  }
});

test('Range: multiple ranges give multipart/byteranges with both parts correct', async () => {
  const r = await get(`/api/v1/assets/${id}/original`, { range: 'bytes=0-9,500-599' });
  assert.equal(r.status, 206);
  const m = (r.headers.get('content-type') || '').match(/^multipart\/byteranges; boundary=(\S+)$/);
  assert.ok(m, r.headers.get('content-type'));
  assert.equal(Number(r.headers.get('content-length')), r.bytes.length);
  const body = r.bytes.toString('latin1');
  const parts = body.split(`--${m[1]}`).slice(1, -1);
  assert.equal(parts.length, 2);
  assert.ok(body.trimEnd().endsWith(`--${m[1]}--`));
  const want = [[0, 9], [500, 599]];
  parts.forEach((p, i) => {
    const [head, ...rest] = p.replace(/^\r\n/, '').split('\r\n\r\n');
    const bytes = Buffer.from(rest.join('\r\n\r\n').replace(/\r\n$/, ''), 'latin1');
    assert.match(head, new RegExp(`Content-Range: bytes ${want[i][0]}-${want[i][1]}/${data.length}`, 'i'));
    assert.match(head, /Content-Type: image\/jpeg/i);
    assert.ok(bytes.equals(data.subarray(want[i][0], want[i][1] + 1)), `part ${i} bytes`);
  });
});

test('Range beyond the end -> 416 with Content-Range bytes */size', async () => {
  const r = await get(`/api/v1/assets/${id}/original`, { range: `bytes=${data.length + 10}-` });
  assertErrorShape(r, 416, 'range_not_satisfiable');
  assert.equal(r.headers.get('content-range'), `bytes */${data.length}`);
});

test('If-None-Match with the ETag -> 304; If-Range stale -> 200 full; If-Range current -> 206', async () => {
  const n = await get(`/api/v1/assets/${id}/original`, { 'if-none-match': etag });
  assert.equal(n.status, 304);
  assert.equal(n.bytes.length, 0);
  assert.equal(n.headers.get('etag'), etag);
  const stale = await get(`/api/v1/assets/${id}/original`, { range: 'bytes=0-9', 'if-range': '"0000stale"' });
  assert.equal(stale.status, 200);
  assert.ok(stale.bytes.equals(data));
  const cur = await get(`/api/v1/assets/${id}/original`, { range: 'bytes=0-9', 'if-range': etag });
  assert.equal(cur.status, 206);
  assert.ok(cur.bytes.equals(data.subarray(0, 10)));
});

test('HEAD gives the headers only, with the right Content-Length', async () => {
  const r = await get(`/api/v1/assets/${id}/original`, {}, 'HEAD');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-length'), String(data.length));
  assert.equal(r.headers.get('etag'), etag);
  assert.equal(r.bytes.length, 0);
  const rr = await get(`/api/v1/assets/${id}/original`, { range: 'bytes=0-99' }, 'HEAD');
  assert.equal(rr.status, 206);
  assert.equal(rr.headers.get('content-length'), '100');
});

test('Content-Disposition carries filename*=UTF-8 for a unicode name and a safe ASCII fallback', async () => {
  const r = await get(`/api/v1/assets/${uid}/original`);
  assert.equal(r.status, 200);
  const cd = r.headers.get('content-disposition');
  const m = cd.match(/^attachment; filename="([^"]*)"; filename\*=UTF-8''(\S+)$/);
  assert.ok(m, cd);
  assert.equal(decodeURIComponent(m[2]), '白色运动鞋 "x".jpg');
  assert.match(m[1], /^[\x20-\x7e]+$/);
  assert.ok(!m[1].includes('"'));
});

test('rendition download (after processing) is image/webp', async () => {
  await s.waitProcessed(id, 'viewer');
  await s.waitJobsIdle(id); // the channel presets come after "ready"
  const a = await s.waitProcessed(id, 'viewer');
  assert.equal(a.versions[0].status, 'ready');
  const names = a.versions[0].renditions.map((r) => r.name).sort();
  assert.ok(names.includes('thumbnail') && names.includes('preview'), names.join());
  const list = await get(`/api/v1/assets/${id}/renditions`);
  assert.deepEqual(list.json.items.map((r) => r.name).sort(), names);
  for (const name of ['thumbnail', 'preview']) {
    const r = await get(`/api/v1/assets/${id}/renditions/${name}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/webp');
    assert.equal(r.bytes.subarray(0, 4).toString(), 'RIFF');
    assert.equal(r.bytes.subarray(8, 12).toString(), 'WEBP');
    const meta = a.versions[0].renditions.find((x) => x.name === name);
    assert.equal(r.bytes.length, meta.size);
    assert.equal(sha256(r.bytes), meta.hash);
    assert.equal(r.headers.get('content-disposition'), null, 'renditions are inline');
  }
  assertErrorShape(await get(`/api/v1/assets/${id}/renditions/poster`), 404);
  assertErrorShape(await get(`/api/v1/assets/00000000-0000-7000-8000-000000000000/renditions/preview`), 404);
});

test('a PDF has a rendition per further page (page-2, page-3), served as WebP, and its page count', async () => {
  const a = await s.waitProcessed(pdf, 'viewer');
  const v = a.versions[0];
  assert.equal(v.status, 'ready', v.error);
  assert.equal(v.metadata.pages, 3);
  const byName = Object.fromEntries(v.renditions.map((r) => [r.name, r]));
  assert.deepEqual(Object.keys(byName).filter((n) => n.startsWith('page-')).sort(), ['page-2', 'page-3']);
  assert.equal(byName.preview.spec.pages, 3);
  assert.equal(byName.preview.spec.pages_rendered, 3);
  assert.equal(byName.preview.spec.capped, false);
  const list = await get(`/api/v1/assets/${pdf}/renditions`);
  assert.ok(list.json.items.some((r) => r.name === 'page-3'));
  const seen = new Set([sha256((await get(`/api/v1/assets/${pdf}/renditions/preview`)).bytes)]);
  for (const name of ['page-2', 'page-3']) {
    const meta = byName[name];
    assert.equal(meta.spec.page, Number(name.slice(5)));
    assert.equal(meta.spec.pages, 3);
    assert.ok(Math.max(meta.width, meta.height) <= 1600 && meta.width > 0);
    const r = await get(`/api/v1/assets/${pdf}/renditions/${name}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/webp');
    assert.ok(r.bytes.length > 0);
    assert.equal(r.bytes.subarray(8, 12).toString(), 'WEBP');
    assert.equal(sha256(r.bytes), meta.hash);
    seen.add(meta.hash);
  }
  assert.equal(seen.size, 3, 'each page its own picture');
  assertErrorShape(await get(`/api/v1/assets/${pdf}/renditions/page-4`), 404);
  assertErrorShape(await get(`/api/v1/assets/${id}/renditions/page-2`), 404);
});

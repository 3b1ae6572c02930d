// Resumable uploads (tus 1.0: core, creation, termination) and requests cut
// off mid-body.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, fixture, assertErrorShape, rawRequest, sha256, sleep, T } from './lib/server.mjs';

let s;
before(async () => { s = await startServer(); });
after(async () => { await s.stop(); });

const b64 = (v) => Buffer.from(v).toString('base64');
const TUS = { 'tus-resumable': '1.0.0' };
async function create(length, meta = `filename ${b64('tus.bin')}`, as = 'contributor') {
  const r = await s.api('/api/v1/uploads', { method: 'POST', as, headers: { ...TUS, 'upload-length': String(length), 'upload-metadata': meta } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.headers.get('tus-resumable'), '1.0.0');
  assert.equal(r.headers.get('upload-offset'), '0');
  const loc = r.headers.get('location');
  assert.match(loc, /^\/api\/v1\/uploads\/[0-9a-f-]+$/);
  return loc;
}
const patch = (loc, offset, body, headers = {}, as = 'contributor') => s.api(loc, { method: 'PATCH', as, body,
  headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), ...headers } });

test('OPTIONS advertises tus 1.0.0 with creation and termination (authenticated)', async () => {
  assertErrorShape(await s.api('/api/v1/uploads', { method: 'OPTIONS' }), 401);
  const r = await s.api('/api/v1/uploads', { method: 'OPTIONS', as: 'viewer' });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('tus-resumable'), '1.0.0');
  assert.equal(r.headers.get('tus-version'), '1.0.0');
  assert.deepEqual(r.headers.get('tus-extension').split(',').sort(), ['creation', 'termination']);
  assert.ok(Number(r.headers.get('tus-max-size')) >= 1 << 30);
});

test('create, PATCH in 3 chunks, HEAD shows the offset, the last PATCH ingests; GET shows the result', async () => {
  const data = fixture('photo.jpg');
  const meta = `filename ${b64('运动鞋 tus.jpg')},tags ${b64('tus,resumable')},field.sku ${b64('TUS-1')}`;
  const before = await s.count();
  const loc = await create(data.length, meta);
  const cuts = [0, 30000, 60000, data.length];
  for (let i = 0; i < 3; i++) {
    const h = await s.api(loc, { method: 'HEAD', as: 'contributor', headers: TUS });
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('upload-offset'), String(cuts[i]));
    assert.equal(h.headers.get('upload-length'), String(data.length));
    assert.equal(h.headers.get('cache-control'), 'no-store');
    assert.equal(h.bytes.length, 0);
    const r = await patch(loc, cuts[i], data.subarray(cuts[i], cuts[i + 1]));
    assert.equal(r.status, 204, r.text);
    assert.equal(r.headers.get('upload-offset'), String(cuts[i + 1]));
    if (i < 2) {
      assert.equal(r.headers.get('dam-upload-status'), null);
      assert.equal(await s.count(), before, 'nothing is ingested before the last chunk');
    } else {
      assert.equal(r.headers.get('dam-upload-status'), 'added');
      assert.match(r.headers.get('dam-asset-id'), /^[0-9a-f-]{36}$/);
    }
  }
  const g = await s.api(loc, { as: 'contributor' });
  assert.equal(g.status, 200);
  assert.equal(g.json.offset, data.length);
  assert.equal(g.json.length, data.length);
  assert.equal(g.json.filename, '运动鞋 tus.jpg');
  assert.equal(g.json.result.status, 'added');
  assert.equal(g.json.result.hash, sha256(data));
  const id = g.json.result.asset_id;
  const a = await s.api(`/api/v1/assets/${id}`, { as: 'viewer' });
  assert.equal(a.json.name, '运动鞋 tus.jpg');
  assert.equal(a.json.fields.sku, 'TUS-1');
  assert.deepEqual(a.json.tags.filter((t) => t.source === 'user').map((t) => t.tag).sort(), ['resumable', 'tus']);
  const o = await s.api(`/api/v1/assets/${id}/original`, { as: 'viewer' });
  assert.equal(sha256(o.bytes), sha256(data));
  // the same bytes again through tus: duplicate
  const loc2 = await create(data.length, `filename ${b64('again.jpg')}`);
  const d = await patch(loc2, 0, data);
  assert.equal(d.headers.get('dam-upload-status'), 'duplicate');
  assert.equal(d.headers.get('dam-duplicate-of'), id);
});

test('wrong offset -> 409; wrong content type -> 415; no Tus-Resumable -> 412; others cannot see it', async () => {
  const loc = await create(100);
  assert.equal((await patch(loc, 0, Buffer.alloc(10, 1))).status, 204);
  assertErrorShape(await patch(loc, 0, Buffer.alloc(10, 1)), 409, 'offset_mismatch');
  assertErrorShape(await patch(loc, 50, Buffer.alloc(10, 1)), 409);
  assertErrorShape(await patch(loc, 10, Buffer.alloc(10, 1), { 'content-type': 'application/octet-stream' }), 415);
  const r = await s.api(loc, { method: 'PATCH', as: 'contributor', body: Buffer.alloc(10, 1),
    headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '10' } });
  assertErrorShape(r, 412, 'tus_version');
  assert.equal(r.headers.get('tus-version'), '1.0.0');
  assertErrorShape(await s.api('/api/v1/uploads', { method: 'POST', as: 'contributor', headers: { 'upload-length': '5', 'upload-metadata': `filename ${b64('x')}` } }), 412);
  assertErrorShape(await patch(loc, 10, Buffer.alloc(10, 1), { 'upload-offset': 'ten' }), 400);
  // more than Upload-Length
  assertErrorShape(await patch(loc, 10, Buffer.alloc(200, 1)), undefined);
  const h = await s.api(loc, { method: 'HEAD', as: 'contributor', headers: TUS });
  assert.equal(h.headers.get('upload-offset'), '10', 'refused PATCHes appended nothing');
  // another user does not see it
  assert.equal((await s.api(loc, { method: 'HEAD', as: 'editor', headers: TUS })).status, 404);
  assertErrorShape(await patch(loc, 10, Buffer.alloc(10, 1), {}, 'editor'), 404);
  // creation errors
  for (const [hdrs, code] of [
    [{ 'upload-length': '5' }, 'invalid_metadata'],
    [{ 'upload-length': '5', 'upload-metadata': 'filename !!notbase64' }, 'invalid_metadata'],
    [{ 'upload-length': '-1', 'upload-metadata': `filename ${b64('x')}` }, 'invalid'],
    [{ 'upload-metadata': `filename ${b64('x')}` }, 'invalid'],
    [{ 'upload-length': String(2 ** 41), 'upload-metadata': `filename ${b64('x')}` }, 'too_large'],
  ]) {
    const c = await s.api('/api/v1/uploads', { method: 'POST', as: 'contributor', headers: { ...TUS, ...hdrs } });
    assertErrorShape(c, code === 'too_large' ? 413 : 400, code, JSON.stringify(hdrs));
  }
  assertErrorShape(await s.api('/api/v1/uploads', { method: 'POST', as: 'viewer', headers: { ...TUS, 'upload-length': '5', 'upload-metadata': `filename ${b64('x')}` } }), 403, 'forbidden');
});

test('DELETE terminates an upload: then HEAD -> 404, PATCH -> 404, no asset', async () => {
  const before = await s.count();
  const loc = await create(20);
  assert.equal((await patch(loc, 0, Buffer.alloc(10, 7))).status, 204);
  assertErrorShape(await s.api(loc, { method: 'DELETE', as: 'contributor' }), 412);
  const d = await s.api(loc, { method: 'DELETE', as: 'contributor', headers: TUS });
  assert.equal(d.status, 204);
  assert.equal((await s.api(loc, { method: 'HEAD', as: 'contributor', headers: TUS })).status, 404);
  assertErrorShape(await s.api(loc, { as: 'contributor' }), 404);
  assertErrorShape(await patch(loc, 10, Buffer.alloc(10, 7)), 404);
  assertErrorShape(await s.api(loc, { method: 'DELETE', as: 'contributor', headers: TUS }), 404);
  assert.equal(await s.count(), before);
});

test('a cut-off tus upload (partial, never finished) leaves no asset', async () => {
  const before = await s.count();
  const data = crypto.randomBytes(50000);
  const loc = await create(data.length, `filename ${b64('cut.bin')}`);
  assert.equal((await patch(loc, 0, data.subarray(0, 20000))).status, 204);
  // a PATCH whose connection dies mid-body
  const id = loc.split('/').pop();
  await rawRequest(s.port, Buffer.concat([Buffer.from(`PATCH ${loc} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.tokens.contributor}\r\n` +
    `Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 20000\r\nContent-Length: 30000\r\n\r\n`),
  data.subarray(20000, 25000)]), { timeout: 300 });
  await sleep(T(300));
  const h = await s.api(loc, { method: 'HEAD', as: 'contributor', headers: TUS });
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('upload-offset'), '20000', `the cut PATCH appended nothing (${id})`);
  assert.equal(await s.count(), before);
  assert.equal((await s.api('/healthz')).status, 200);
});

test('a raw request cut off mid-body leaves no asset and the server keeps serving', async () => {
  const before = await s.count();
  const head = `POST /api/v1/assets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.tokens.contributor}\r\n` +
    `Content-Type: application/octet-stream\r\nX-Filename: cut.bin\r\nContent-Length: 100000\r\n\r\n`;
  const reply = await rawRequest(s.port, Buffer.concat([Buffer.from(head), crypto.randomBytes(100)]), { timeout: 300 });
  assert.equal(reply.length, 0, 'no response to an unfinished request');
  await sleep(T(300));
  assert.equal((await s.api('/healthz')).status, 200);
  assert.equal(await s.count(), before);
  const ok = await s.upload('after-cut.bin', crypto.randomBytes(1000), 'contributor');
  assert.equal(ok.status, 'added');
});

// Listing, filters, pagination, ETags and If-Match, delete and restore.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, uniqueText, assertErrorShape, sleep } from './lib/server.mjs';

let s;
const ids = {};
let t0;
before(async () => {
  s = await startServer();
  ids.img = (await s.upload('photo2.jpg', fixture('photo2.jpg'), 'contributor', { })).asset_id;
  await sleep(20);
  t0 = new Date().toISOString();
  await sleep(20);
  ids.txt = [];
  for (let i = 0; i < 5; i++) ids.txt.push((await s.upload(`page-${i}.txt`, uniqueText('page' + i), 'contributor')).asset_id);
  ids.vid = (await s.upload('clip.mp4', fixture('clip.mp4'), 'contributor')).asset_id;
  await s.api(`/api/v1/assets/${ids.txt[1]}`, { method: 'PATCH', as: 'editor', json: { tags: { add: ['spring-2026'] }, fields: { sku: 'S-1' } } });
  await s.api(`/api/v1/assets/${ids.txt[3]}`, { method: 'PATCH', as: 'editor', json: { tags: { add: ['spring-2026'] }, fields: { sku: 'S-2' } } });
});
after(async () => { await s.stop(); });
const list = async (q) => {
  const r = await s.api(`/api/v1/assets${q}`, { as: 'viewer' });
  assert.equal(r.status, 200, r.text);
  return r.json;
};

test('pagination with limit=2 and next_cursor: no overlap, every asset found once', async () => {
  const all = (await list('?limit=1000')).items.map((a) => a.id);
  assert.equal(all.length, 7);
  const seen = [];
  let cursor = null, pages = 0;
  do {
    const page = await list(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.ok(page.items.length <= 2);
    seen.push(...page.items.map((a) => a.id));
    cursor = page.next_cursor;
    assert.ok(++pages < 10);
  } while (cursor);
  assert.equal(new Set(seen).size, seen.length, 'no asset on two pages');
  assert.deepEqual(seen, all);
  assertErrorShape(await s.api('/api/v1/assets?cursor=garbage', { as: 'viewer' }), 400, 'invalid_parameter');
  for (const l of ['0', '1001', 'x', '-1']) assertErrorShape(await s.api(`/api/v1/assets?limit=${l}`, { as: 'viewer' }), 400, 'invalid_parameter');
});

test('filters: type, tag, field, created_after/before, updated_after', async () => {
  assert.deepEqual((await list('?type=video')).items.map((a) => a.id), [ids.vid]);
  assert.deepEqual((await list('?type=image')).items.map((a) => a.id), [ids.img]);
  assert.deepEqual((await list('?tag=spring-2026')).items.map((a) => a.id).sort(), [ids.txt[1], ids.txt[3]].sort());
  assert.deepEqual((await list('?field=sku%3DS-2')).items.map((a) => a.id), [ids.txt[3]]);
  assert.deepEqual((await list('?tag=spring-2026&field=sku%3DS-1')).items.map((a) => a.id), [ids.txt[1]]);
  assert.equal((await list('?tag=nope')).items.length, 0);
  const after = (await list(`?created_after=${encodeURIComponent(t0)}`)).items.map((a) => a.id);
  assert.equal(after.length, 6);
  assert.ok(!after.includes(ids.img));
  assert.deepEqual((await list(`?created_before=${encodeURIComponent(t0)}`)).items.map((a) => a.id), [ids.img]);
  assert.equal((await list('?created_after=2999-01-01')).items.length, 0);
  assert.equal((await list('?created_before=2000-01-01')).items.length, 0);
  assert.equal((await list(`?updated_after=${encodeURIComponent(t0)}`)).items.length, 6);
  for (const q of ['type=pdf', 'field=nokey', 'created_after=yesterday', 'updated_before=31/01/2026'])
    assertErrorShape(await s.api(`/api/v1/assets?${q}`, { as: 'viewer' }), 400, 'invalid_parameter', q);
  const item = (await list('?type=image')).items[0];
  for (const k of ['id', 'name', 'kind', 'size', 'status', 'created_at', 'updated_at', 'mime']) assert.ok(k in item, k);
});

test('GET asset has an ETag; If-None-Match -> 304; PATCH with If-Match current -> 200 + new ETag; stale -> 412', async () => {
  const id = ids.txt[0];
  // The job worker changes the asset when it processes it (status,
  // metadata): let it finish first, or a slow run sees a genuine 412.
  await s.waitProcessed(id, 'editor');
  const g = await s.api(`/api/v1/assets/${id}`, { as: 'editor' });
  assert.equal(g.status, 200);
  const etag = g.headers.get('etag');
  assert.match(etag, /^"[^"]+"$/);
  assert.equal((await s.api(`/api/v1/assets/${id}`, { as: 'editor', headers: { 'if-none-match': etag } })).status, 304);
  const p = await s.api(`/api/v1/assets/${id}`, { method: 'PATCH', as: 'editor', headers: { 'if-match': etag }, json: { fields: { title: 'one' } } });
  assert.equal(p.status, 200, p.text);
  const etag2 = p.headers.get('etag');
  assert.ok(etag2 && etag2 !== etag, 'a new ETag');
  assert.equal((await s.api(`/api/v1/assets/${id}`, { as: 'editor' })).headers.get('etag'), etag2);
  const stale = await s.api(`/api/v1/assets/${id}`, { method: 'PATCH', as: 'editor', headers: { 'if-match': etag }, json: { fields: { title: 'two' } } });
  assertErrorShape(stale, 412, 'precondition_failed');
  assertErrorShape(await s.api(`/api/v1/assets/${id}`, { method: 'PATCH', as: 'editor', headers: { 'if-match': 'garbage' }, json: { fields: { title: 'two' } } }), 412);
  assert.equal((await s.api(`/api/v1/assets/${id}`, { as: 'editor' })).json.fields.title, 'one', 'the refused PATCH changed nothing');
  assert.equal((await s.api(`/api/v1/assets/${id}`, { method: 'PATCH', as: 'editor', headers: { 'if-match': '*' }, json: { fields: { title: 'three' } } })).status, 200);
});

test('DELETE: gone from the list, listed with ?deleted=true; restore brings it back', async () => {
  const id = ids.txt[4];
  const d = await s.api(`/api/v1/assets/${id}`, { method: 'DELETE', as: 'editor' });
  assert.equal(d.status, 204);
  assert.equal(d.bytes.length, 0);
  assert.ok(!(await list('?limit=1000')).items.some((a) => a.id === id));
  assert.ok((await list('?deleted=true')).items.some((a) => a.id === id));
  const g = await s.api(`/api/v1/assets/${id}`, { as: 'viewer' });
  assert.ok(g.status === 404 || g.json.deleted === true, `GET a deleted asset: ${g.status}`);
  assertErrorShape(await s.api(`/api/v1/assets/${id}`, { method: 'DELETE', as: 'editor' }), 409);
  const r = await s.api(`/api/v1/assets/${id}/restore`, { method: 'POST', as: 'editor' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.id, id);
  assert.equal(r.json.deleted, false);
  assert.ok((await list('?limit=1000')).items.some((a) => a.id === id));
  assert.ok(!(await list('?deleted=true')).items.some((a) => a.id === id));
  assertErrorShape(await s.api(`/api/v1/assets/${id}/restore`, { method: 'POST', as: 'editor' }), 409);
});

test('unknown asset ids are 404 on every asset route', async () => {
  const nid = '01a20000-0000-7000-8000-000000000000';
  for (const [m, p] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['POST', '/restore'], ['GET', '/original'], ['GET', '/versions'],
    ['GET', '/versions/1'], ['GET', '/versions/1/original'], ['GET', '/renditions'], ['GET', '/renditions/preview']]) {
    const r = await s.api(`/api/v1/assets/${nid}${p}`, { method: m, as: 'admin', json: m === 'PATCH' ? { fields: {} } : undefined });
    assertErrorShape(r, 404, 'not_found', `${m} ${p}`);
  }
  const bad = await s.api('/api/v1/assets/not-an-id', { as: 'admin' });
  assert.ok(bad.status === 400 || bad.status === 404, `malformed id: ${bad.status}`);
});

test('versions list and one version', async () => {
  const v = await s.api(`/api/v1/assets/${ids.img}/versions`, { as: 'viewer' });
  assert.equal(v.status, 200);
  assert.equal(v.json.items.length, 1);
  assert.equal(v.json.items[0].number, 1);
  const one = await s.api(`/api/v1/assets/${ids.img}/versions/1`, { as: 'viewer' });
  assert.deepEqual(one.json.id, v.json.items[0].id);
  assert.equal(one.json.filename, 'photo2.jpg');
});

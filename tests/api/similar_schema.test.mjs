// Search by image and the metadata schema over HTTP: similar assets, search
// by an uploaded picture, the near-duplicate flag; field validation with the
// allowed values, templates at upload, file-name patterns, bulk edits and the
// incomplete report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, fixture, FIXTURES, tmpDir, assertErrorShape, uniqueText, multipart } from './lib/server.mjs';

let s, photo, photo2, alpha, copy, copyBytes;
before(async () => {
  s = await startServer({ workers: 1 });
  photo = (await s.upload('photo.jpg', fixture('photo.jpg'))).asset_id;
  photo2 = (await s.upload('photo2.jpg', fixture('photo2.jpg'))).asset_id;
  alpha = (await s.upload('alpha.png', fixture('alpha.png'))).asset_id;
  for (const id of [photo, photo2, alpha]) await s.waitProcessed(id);
  // A resized (60%), re-encoded (q=55) and slightly cropped (3% a side) copy.
  const d = tmpDir();
  execFileSync('vips', ['resize', path.join(FIXTURES, 'photo.jpg'), path.join(d, 'small.v'), '0.6']);
  execFileSync('vips', ['crop', path.join(d, 'small.v'), path.join(d, 'copy.jpg[Q=55]'), '22', '14', '676', '452']);
  copyBytes = fs.readFileSync(path.join(d, 'copy.jpg'));
  copy = (await s.upload('copy-of-photo.jpg', copyBytes)).asset_id;
  await s.waitProcessed(copy);
});
after(async () => { await s.stop(); });

test('a resized, re-encoded and cropped copy: photo.jpg is the top similar hit; unrelated images are beyond the threshold', async () => {
  const r = await s.api(`/api/v1/assets/${copy}/similar`, { as: 'viewer' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.analysed, true);
  assert.ok(r.json.items.length >= 1, r.text);
  assert.equal(r.json.items[0].id, photo);
  assert.ok(r.json.items[0].distance <= 10, `distance ${r.json.items[0].distance}`);
  const ids = r.json.items.map((x) => x.id);
  assert.ok(!ids.includes(copy), 'the asset itself is not listed');
  assert.ok(!ids.includes(photo2) && !ids.includes(alpha), `unrelated images beyond max_distance: ${r.text}`);
  const text = await s.upload('notes.txt', uniqueText('sim'));
  const none = await s.api(`/api/v1/assets/${text.asset_id}/similar`, { as: 'viewer' });
  assert.equal(none.status, 200);
  assert.equal(none.json.analysed, false);
  assert.deepEqual(none.json.items, []);
});

test('the copy was flagged as a near duplicate of photo.jpg at ingest', async () => {
  const a = (await s.api(`/api/v1/assets/${copy}`, { as: 'viewer' })).json;
  const nd = a.versions[0].metadata.near_duplicate;
  assert.ok(nd, JSON.stringify(a.versions[0].metadata));
  assert.equal(nd.asset_id, photo);
  assert.ok(nd.distance <= 10);
  const p2 = (await s.api(`/api/v1/assets/${photo2}`, { as: 'viewer' })).json;
  assert.equal(p2.versions[0].metadata.near_duplicate, undefined);
});

test('search by an uploaded image finds photo.jpg and its copy first; not an image -> 4xx', async () => {
  const r = await s.api('/api/v1/search/image?limit=5', { method: 'POST', as: 'viewer', body: copyBytes,
    headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(r.status, 200, r.text);
  const top = r.json.items.slice(0, 2).map((x) => x.id).sort();
  assert.deepEqual(top, [photo, copy].sort());
  assertErrorShape(await s.api('/api/v1/search/image', { method: 'POST', as: 'viewer', body: uniqueText('x') }), 400);
  assertErrorShape(await s.api('/api/v1/search/image', { method: 'POST', as: 'viewer', body: fixture('bomb.png') }), 422);
  assertErrorShape(await s.api('/api/v1/search/image', { method: 'POST' }), 401);
});

test('automatic tags carry source and confidence; a removed one stays removed after a new version', async () => {
  let a = (await s.api(`/api/v1/assets/${photo}`, { as: 'viewer' })).json;
  const auto = a.tags.filter((t) => t.source === 'automatic');
  assert.ok(auto.some((t) => t.tag === 'landscape' && t.confidence === 1), JSON.stringify(auto));
  assert.ok(auto.some((t) => t.tag === 'kind:image'));
  const blue = auto.find((t) => t.tag === '蓝色');
  assert.ok(blue && blue.confidence > 0.1 && blue.confidence <= 1, JSON.stringify(auto));
  const r = await s.api(`/api/v1/assets/${photo}`, { method: 'PATCH', as: 'editor', json: { tags: { remove: ['landscape'] } } });
  assert.equal(r.status, 200, r.text);
  const v = await s.api(`/api/v1/assets/${photo}/versions`, { method: 'POST', as: 'editor', body: Buffer.concat([fixture('photo.jpg'), Buffer.from('x')]),
    headers: { 'content-type': 'application/octet-stream', 'x-filename': 'photo.jpg' } });
  assert.equal(v.status, 201, v.text);
  for (const until = Date.now() + 60000 * (Number(process.env.DAM_TEST_SLOW) || 1); ;) {
    a = (await s.api(`/api/v1/assets/${photo}`, { as: 'viewer' })).json;
    if (a.versions[1] && a.versions[1].status !== 'pending') break;
    assert.ok(Date.now() < until, 'version 2 processed');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(a.versions.length, 2);
  assert.equal(a.versions[1].status, 'ready');
  assert.ok(!a.tags.some((t) => t.tag === 'landscape'), 'removed automatic tag did not come back');
  assert.ok(a.tags.some((t) => t.tag === 'kind:image' && t.source === 'automatic'));
});

test('schema: a vocabulary field refuses other values, naming the allowed ones; synonyms are accepted', async () => {
  assert.equal((await s.api('/api/v1/vocabularies', { method: 'POST', as: 'admin', json: { name: 'colors' } })).status, 201);
  for (const [term, syn] of [['blue', ['navy blue']], ['red', []]]) {
    const r = await s.api(`/api/v1/vocabularies/colors/terms/${encodeURIComponent(term)}`, { method: 'PUT', as: 'admin', json: { synonyms: syn } });
    assert.equal(r.status, 200, r.text);
  }
  const f = await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key: 'colour', type: 'choice', vocab: 'colors', facetable: true } });
  assert.equal(f.status, 201, f.text);
  assertErrorShape(await s.api('/api/v1/fields', { method: 'POST', as: 'editor', json: { key: 'x', type: 'text' } }), 403);
  const bad = await s.api(`/api/v1/assets/${photo2}`, { method: 'PATCH', as: 'editor', json: { fields: { colour: 'bleu' } } });
  const e = assertErrorShape(bad, 400);
  assert.match(e.message, /blue/);
  assert.match(e.message, /red/);
  assert.equal(e.field, 'colour');
  const ok = await s.api(`/api/v1/assets/${photo2}`, { method: 'PATCH', as: 'editor', json: { fields: { colour: 'navy blue' } } });
  assert.equal(ok.status, 200, ok.text);
  const n = await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key: 'count', type: 'number' } });
  assert.equal(n.status, 201);
  assertErrorShape(await s.api(`/api/v1/assets/${photo2}`, { method: 'PATCH', as: 'editor', json: { fields: { count: 'many' } } }), 400);
});

test('schema: templates at upload, file-name patterns, bulk edit, incomplete report', async () => {
  let r = await s.api('/api/v1/templates', { method: 'POST', as: 'admin', json: { name: 'ss26', fields: { season: 'SS26' }, tags: ['spring 2026'] } });
  assert.equal(r.status, 201, r.text);
  r = await s.api('/api/v1/name-patterns', { method: 'POST', as: 'admin', json: { pattern: '{sku}_{view}_{n}.{ext}' } });
  assert.equal(r.status, 201, r.text);
  const form = multipart([{ name: 'template', data: 'ss26' }, { name: 'file', filename: 'ABC123_front_1.txt', data: uniqueText('pattern') }]);
  r = await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: form.body, headers: { 'content-type': form.type } });
  assert.equal(r.status, 201, r.text);
  const id = r.json.results[0].asset_id;
  let a = (await s.api(`/api/v1/assets/${id}`, { as: 'viewer' })).json;
  assert.equal(a.fields.sku, 'ABC123');
  assert.equal(a.fields.view, 'front');
  assert.equal(a.fields.season, 'SS26');
  assert.ok(a.tags.some((t) => t.tag === 'spring 2026'));
  const bulk = await s.api('/api/v1/assets/bulk', { method: 'POST', as: 'editor', json: { ids: [photo, photo2], fields: { campaign: 'launch' }, tags: { add: ['bulk'] } } });
  assert.equal(bulk.status, 200, bulk.text);
  assert.equal(bulk.json.changed, 2);
  for (const x of [photo, photo2]) {
    a = (await s.api(`/api/v1/assets/${x}`, { as: 'viewer' })).json;
    assert.equal(a.fields.campaign, 'launch');
    assert.ok(a.tags.some((t) => t.tag === 'bulk'));
  }
  const req = await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key: 'owner', type: 'text', required: true } });
  assert.equal(req.status, 201, req.text);
  const inc = await s.api('/api/v1/incomplete', { as: 'viewer' });
  assert.equal(inc.status, 200, inc.text);
  assert.ok(inc.json, inc.text);
  const missing = inc.json.assets.find((x) => x.id === photo);
  assert.ok(missing && JSON.stringify(missing.missing).includes('owner'), inc.text);
  const fix = await s.api('/api/v1/assets/bulk', { method: 'POST', as: 'editor', json: { ids: inc.json.assets.map((x) => x.id), fields: { owner: 'studio' } } });
  assert.equal(fix.status, 200, fix.text);
  const after2 = await s.api('/api/v1/incomplete', { as: 'viewer' });
  assert.equal(after2.json.count, 0, after2.text);
  const found = await s.api('/api/v1/search?q=sku:ABC123&facets=false', { as: 'viewer' });
  assert.deepEqual(found.json.items.map((x) => x.id), [id]);
});

// Restoring an earlier version, and bulk downloads as zip files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, uniqueText, assertErrorShape, sha256, cli } from './lib/server.mjs';
import { readZip } from './lib/zip.mjs';

let s;
before(async () => { s = await startServer(); });
after(async () => { await s.stop(); });

test('restoring version 1 adds version 3 with v1\'s bytes, metadata and renditions, ready at once', async () => {
  const v1 = await s.upload('restore.jpg', fixture('photo2.jpg'), 'editor');
  const id = v1.asset_id;
  await s.waitProcessed(id);
  const up = await s.api(`/api/v1/assets/${id}/versions`, {
    method: 'POST', as: 'editor', body: fixture('alpha.png'), headers: { 'x-filename': 'restore-v2.png' },
  });
  assert.equal(up.status, 201, up.text);
  let a;
  for (const until = Date.now() + 30000; ; await new Promise((r) => setTimeout(r, 100))) {
    a = (await s.api(`/api/v1/assets/${id}`, { as: 'viewer' })).json;
    if (a.versions.every((v) => v.status === 'ready')) break;
    assert.ok(Date.now() < until, 'both versions processed');
  }
  // v1 may gain its channel presets after "ready": read it once they are done
  await s.waitJobsIdle(id);
  a = (await s.api(`/api/v1/assets/${id}`, { as: 'viewer' })).json;
  const before1 = a.versions.find((v) => v.number === 1);

  const r = await s.api(`/api/v1/assets/${id}/versions/1/restore`, { method: 'POST', as: 'editor' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.version, 3);
  assert.equal(r.json.restored_from, 1);
  a = r.json.asset;
  assert.equal(a.current_version_id, r.json.version_id);
  const v3 = a.versions.find((v) => v.number === 3);
  assert.equal(v3.hash, before1.hash);
  assert.equal(v3.status, 'ready', 'ready at once');
  assert.equal(v3.mime, 'image/jpeg');
  assert.equal(v3.metadata.width, before1.metadata.width);
  assert.deepEqual(v3.renditions.map((x) => x.name).sort(), before1.renditions.map((x) => x.name).sort());
  assert.deepEqual(v3.renditions.map((x) => x.hash).sort(), before1.renditions.map((x) => x.hash).sort());
  assert.equal(a.versions.length, 3, 'history keeps every version');
  // the current original and thumbnail are v1's again
  const orig = await s.api(`/api/v1/assets/${id}/original`, { as: 'viewer' });
  assert.equal(sha256(orig.bytes), sha256(fixture('photo2.jpg')));
  const thumb = await s.api(`/api/v1/assets/${id}/renditions/thumbnail`, { as: 'viewer' });
  assert.equal(sha256(thumb.bytes), before1.renditions.find((x) => x.name === 'thumbnail').hash);
  // search sees the JPEG again
  const found = await s.api(`/api/v1/search?q=${encodeURIComponent('format:jpeg restore')}`, { as: 'viewer' });
  assert.ok(found.json.items.some((x) => x.id === id), 'search follows the restored version');
  // audit row in the trail; blobs consistent
  assert.match(cli(s.lib, ['audit', 'verify']), /intact/);
  assert.match(cli(s.lib, ['fsck']), /0 wrong reference counts/);
  assert.match(cli(s.lib, ['show', id]), /^version 3 .* ready/m);
  // the queued job brings the automatic tags back to v1's content (a green
  // landscape JPEG, not v2's transparent square PNG)
  const until = Date.now() + 30000;
  for (;;) {
    const tags = (await s.api(`/api/v1/assets/${id}`, { as: 'viewer' })).json.tags.filter((t) => t.source === 'automatic').map((t) => t.tag);
    if (tags.includes('green') && !tags.includes('transparent')) break;
    assert.ok(Date.now() < until, `automatic tags follow the restored version: ${tags}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

test('restore refusals: current version 409, unknown 404, deleted asset 409, roles 403', async () => {
  const a = await s.upload('refuse.txt', uniqueText('refuse'), 'contributor');
  const id = a.asset_id;
  await s.api(`/api/v1/assets/${id}/versions`, { method: 'POST', as: 'contributor', body: uniqueText('refuse v2'), headers: { 'x-filename': 'refuse2.txt' } });
  assertErrorShape(await s.api(`/api/v1/assets/${id}/versions/2/restore`, { method: 'POST', as: 'editor' }), 409);
  assertErrorShape(await s.api(`/api/v1/assets/${id}/versions/9/restore`, { method: 'POST', as: 'editor' }), 404);
  assertErrorShape(await s.api(`/api/v1/assets/${id}/versions/x/restore`, { method: 'POST', as: 'editor' }), 404);
  assertErrorShape(await s.api(`/api/v1/assets/${id}/versions/1/restore`, { method: 'POST', as: 'viewer' }), 403);
  const other = await s.upload('other.txt', uniqueText('other'), 'editor');
  await s.api(`/api/v1/assets/${other.asset_id}/versions`, { method: 'POST', as: 'editor', body: uniqueText('other v2'), headers: { 'x-filename': 'o2.txt' } });
  assertErrorShape(await s.api(`/api/v1/assets/${other.asset_id}/versions/1/restore`, { method: 'POST', as: 'contributor' }), 403);
  // the contributor may restore on its own asset
  assert.equal((await s.api(`/api/v1/assets/${id}/versions/1/restore`, { method: 'POST', as: 'contributor' })).status, 201);
  assert.equal((await s.api(`/api/v1/assets/${id}`, { method: 'DELETE', as: 'editor' })).status, 204);
  assertErrorShape(await s.api(`/api/v1/assets/${id}/versions/2/restore`, { method: 'POST', as: 'editor' }), 409);
  assertErrorShape(await s.api(`/api/v1/assets/${id}/versions/1/restore`, { method: 'POST' }), 401);
});

test('zip by GET and POST holds each current original under a unique name', async () => {
  const names = ['same.txt', 'same.txt', 'SAME.txt', 'other.bin'];
  const ups = [];
  for (const n of names) {
    const bytes = uniqueText('zip ' + n);
    ups.push({ id: (await s.upload(n, bytes, 'editor')).asset_id, bytes });
  }
  const ids = ups.map((u) => u.id);
  const g = await s.api(`/api/v1/downloads/zip?ids=${ids.join(',')}`, { as: 'viewer' });
  assert.equal(g.status, 200, g.text);
  assert.equal(g.headers.get('content-type'), 'application/zip');
  assert.match(g.headers.get('content-disposition'), /^attachment; filename="dam-\d{8}-\d{6}\.zip"$/);
  let entries = readZip(g.bytes);
  assert.deepEqual(entries.map((e) => e.name), ['same.txt', 'same (2).txt', 'SAME (3).txt', 'other.bin']);
  entries.forEach((e, i) => {
    assert.equal(e.method, 0, 'stored, not compressed');
    assert.ok(e.data.equals(ups[i].bytes), `${e.name} holds its asset's bytes`);
  });
  // POST with a JSON body, repeats dropped, prefixes accepted
  const p = await s.api('/api/v1/downloads/zip', { method: 'POST', as: 'viewer', json: { ids: [ids[3], ids[3], ids[0].slice(0, 34)] } });
  assert.equal(p.status, 200, p.text);
  entries = readZip(p.bytes);
  assert.deepEqual(entries.map((e) => e.name), ['other.bin', 'same.txt']);
  // a new version: the zip holds the current one
  const v2 = uniqueText('zip v2');
  await s.api(`/api/v1/assets/${ids[3]}/versions`, { method: 'POST', as: 'editor', body: v2, headers: { 'x-filename': 'other-v2.bin' } });
  entries = readZip((await s.api(`/api/v1/downloads/zip?ids=${ids[3]}`, { as: 'viewer' })).bytes);
  assert.ok(entries[0].data.equals(v2));
});

test('zip refusals: no ids 400, unknown or deleted 404 naming it, anonymous 401, too many 400', async () => {
  const a = await s.upload('z.txt', uniqueText('z'), 'editor');
  assertErrorShape(await s.api('/api/v1/downloads/zip', { as: 'viewer' }), 400);
  assertErrorShape(await s.api('/api/v1/downloads/zip?ids=', { as: 'viewer' }), 400);
  const e = assertErrorShape(await s.api('/api/v1/downloads/zip?ids=01a20000-0000-7000-8000-000000000000', { as: 'viewer' }), 404);
  assert.equal(e.field, 'ids');
  assert.match(e.message, /01a20000-0000-7000-8000-000000000000/);
  assertErrorShape(await s.api(`/api/v1/downloads/zip?ids=${a.asset_id}`), 401);
  assertErrorShape(await s.api('/api/v1/downloads/zip', { method: 'POST', as: 'viewer', json: { ids: [] } }), 400);
  assertErrorShape(await s.api('/api/v1/downloads/zip', { method: 'POST', as: 'viewer', json: { ids: [1] } }), 400);
  assertErrorShape(await s.api('/api/v1/downloads/zip', { method: 'POST', as: 'viewer', json: { ids: Array(1001).fill(a.asset_id) } }), 400);
  assert.equal((await s.api(`/api/v1/assets/${a.asset_id}`, { method: 'DELETE', as: 'editor' })).status, 204);
  assertErrorShape(await s.api(`/api/v1/downloads/zip?ids=${a.asset_id}`, { as: 'viewer' }), 404);
});

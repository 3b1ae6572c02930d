// Single-request uploads: multipart and raw; duplicates; refused names;
// truncated bodies; the size cap; PATCH body validation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, fixture, uniqueText, multipart, assertErrorShape, sha256 } from './lib/server.mjs';

let s;
before(async () => { s = await startServer(); });
after(async () => { await s.stop(); });

const post = (mp, as = 'contributor', p = '/api/v1/assets') =>
  s.api(p, { method: 'POST', as, body: mp.body, headers: { 'content-type': mp.type } });

test('multipart with two files, tags and field.sku: both added with tags and field', async () => {
  const mp = multipart([
    { name: 'file', filename: 'photo.jpg', data: fixture('photo.jpg'), type: 'image/jpeg' },
    { name: 'file', filename: 'alpha.png', data: fixture('alpha.png'), type: 'image/png' },
    { name: 'tag', data: 'spring' },
    { name: 'tag', data: 'hero' },
    { name: 'tags', data: 'red, blue' },
    { name: 'field.sku', data: 'ABC-123' },
  ]);
  const r = await post(mp);
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.summary, { added: 2, versions: 0, duplicates: 0, failed: 0 });
  assert.deepEqual(r.json.results.map((x) => [x.status, x.name, x.mime, x.kind]),
    [['added', 'photo.jpg', 'image/jpeg', 'image'], ['added', 'alpha.png', 'image/png', 'image']]);
  assert.equal(r.json.results[0].hash, sha256(fixture('photo.jpg')));
  assert.equal(r.json.results[0].size, fixture('photo.jpg').length);
  assert.equal(r.json.results[0].version, 1);
  for (const res of r.json.results) {
    const a = await s.api(`/api/v1/assets/${res.asset_id}`, { as: 'viewer' });
    assert.equal(a.status, 200);
    const userTags = a.json.tags.filter((t) => t.source === 'user').map((t) => t.tag).sort();
    assert.deepEqual(userTags, ['blue', 'hero', 'red', 'spring']);
    assert.equal(a.json.fields.sku, 'ABC-123');
    assert.equal(a.json.created_by, (await s.api('/api/v1/session', { as: 'contributor' })).json.user_id);
  }
});

test('raw upload with a percent-encoded UTF-8 X-Filename keeps the name', async () => {
  const name = '白色运动鞋.jpg';
  const r = await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: fixture('photo2.jpg'),
    headers: { 'content-type': 'application/octet-stream', 'x-filename': encodeURIComponent(name) } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.results[0].name, name);
  const a = await s.api(`/api/v1/assets/${r.json.results[0].asset_id}`, { as: 'viewer' });
  assert.equal(a.json.name, name);
  assert.equal(a.json.versions[0].filename, name);
});

test('a duplicate upload reports status "duplicate" and duplicate_of, and creates nothing', async () => {
  const bytes = uniqueText('dup');
  const first = await s.upload('dup-a.txt', bytes, 'contributor');
  assert.equal(first.status, 'added');
  const before = await s.count();
  const r = await s.api('/api/v1/assets', { method: 'POST', as: 'editor', body: bytes, headers: { 'x-filename': 'dup-b.txt' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.results[0].status, 'duplicate');
  assert.equal(r.json.results[0].duplicate_of, first.asset_id);
  assert.equal(r.json.summary.duplicates, 1);
  assert.equal(await s.count(), before);
});

test('a truncated multipart body (no final boundary) is 400 and creates no asset', async () => {
  const before = await s.count();
  const mp = multipart([{ name: 'file', filename: 'trunc.txt', data: uniqueText('trunc') }, { name: 'tag', data: 'x' }]);
  const cut = mp.body.subarray(0, mp.body.lastIndexOf(`--${mp.boundary}--`));
  const r = await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: cut, headers: { 'content-type': mp.type } });
  assertErrorShape(r, 400);
  // cut in the middle of the file data
  const cut2 = mp.body.subarray(0, 150);
  assertErrorShape(await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: cut2, headers: { 'content-type': mp.type } }), 400);
  assert.equal(await s.count(), before);
});

test('file names with .., absolute paths, NUL, control characters or invalid UTF-8 are 400', async () => {
  const before = await s.count();
  const bad = ['../evil.txt', 'a/../../evil.txt', '/etc/passwd', '..', 'a/..'];
  const rawOnly = ['\\windows\\evil.txt', '..\\evil.txt']; // in a multipart quoted-string "\\" is an escape
  for (const name of rawOnly) {
    const raw = await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: uniqueText(name), headers: { 'x-filename': encodeURIComponent(name) } });
    assertErrorShape(raw, 400, 'invalid_filename', `raw ${name}`);
  }
  for (const name of bad) {
    const mp = multipart([{ name: 'file', filename: name, data: uniqueText(name) }]);
    const e = assertErrorShape(await post(mp), 400, 'invalid_filename', `multipart ${name}`);
    assert.equal(e.field, 'filename');
    const raw = await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: uniqueText(name), headers: { 'x-filename': encodeURIComponent(name) } });
    assertErrorShape(raw, 400, 'invalid_filename', `raw ${name}`);
  }
  for (const enc of ['evil%00.txt', 'a%0Ab.txt', 'bad%FF%FE.txt', 'x%C3.txt', '%2E%2E%2Fup.txt', '%2Fabs.txt']) {
    const raw = await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: uniqueText(enc), headers: { 'x-filename': enc } });
    assertErrorShape(raw, 400, 'invalid_filename', `raw ${enc}`);
  }
  for (const fn of [Buffer.from([0x62, 0xff, 0xfe, 0x2e, 0x74]), Buffer.from('a\x01b.txt', 'latin1')]) {
    const mp = multipart([{ name: 'file', filename: fn, data: uniqueText('fn') }]);
    assertErrorShape(await post(mp), 400, undefined, `multipart raw name ${fn.toString('hex')}`);
  }
  // one bad name among good files refuses the whole request: nothing stored
  const mixed = multipart([{ name: 'file', filename: 'good.txt', data: uniqueText('good') }, { name: 'file', filename: '../bad.txt', data: uniqueText('bad') }]);
  assertErrorShape(await post(mixed), 400, 'invalid_filename', 'good + bad name');
  // a bad escape in X-Filename
  assertErrorShape(await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: uniqueText('esc'), headers: { 'x-filename': 'a%zz.txt' } }), 400, 'invalid_filename');
  assert.equal(await s.count(), before, 'no refused upload created an asset');
});

test('a multipart filename with a NUL byte is 400, not silently truncated', async () => {
  const before = await s.count();
  for (const mp of [
    multipart([{ name: 'file', filename: Buffer.from('a\x00b.txt', 'latin1'), data: uniqueText('nul1') }]),
  ]) {
    // Refused while parsing the part headers, before any name is used.
    const body = assertErrorShape(await post(mp), 400, 'invalid_multipart', 'filename="a\\0b.txt"');
    assert.match(JSON.stringify(body), /NUL/);
  }
  assert.equal(await s.count(), before);
});

test('other upload mistakes are 400 with the error shape', async () => {
  const before = await s.count();
  assertErrorShape(await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: uniqueText('nf') }), 400, 'no_filename');
  assertErrorShape(await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', headers: { 'x-filename': 'e.txt' } }), 400);
  assertErrorShape(await post(multipart([{ name: 'tag', data: 'only-a-tag' }])), 400, 'no_file');
  assertErrorShape(await post(multipart([{ name: 'file', filename: 'u.txt', data: uniqueText('u') }, { name: 'bogus', data: '1' }])), 400, 'unknown_field');
  assertErrorShape(await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: 'x', headers: { 'content-type': 'multipart/form-data' } }), 400, 'invalid_multipart');
  const two = multipart([{ name: 'file', filename: 'a.txt', data: uniqueText('v1') }, { name: 'file', filename: 'b.txt', data: uniqueText('v2') }]);
  const id = (await s.upload('target.txt', uniqueText('target'), 'contributor')).asset_id;
  assertErrorShape(await post(two, 'contributor', `/api/v1/assets/${id}/versions`), 400, 'too_many_files');
  assert.equal(await s.count(), before + 1);
  const v = await s.api(`/api/v1/assets/${id}/versions`, { as: 'viewer' });
  assert.equal(v.json.items.length, 1, 'the refused version upload added nothing');
});

test('new version via multipart: status "version", number 2, original is the new bytes', async () => {
  const id = (await s.upload('vv.txt', uniqueText('vv1'), 'contributor')).asset_id;
  const v2 = uniqueText('vv2');
  const r = await post(multipart([{ name: 'file', filename: 'vv.txt', data: v2 }]), 'contributor', `/api/v1/assets/${id}/versions`);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.results[0].status, 'version');
  assert.equal(r.json.results[0].version, 2);
  assert.equal(r.json.results[0].asset_id, id);
  const o = await s.api(`/api/v1/assets/${id}/original`, { as: 'viewer' });
  assert.ok(o.bytes.equals(v2));
  const o1 = await s.api(`/api/v1/assets/${id}/versions/1/original`, { as: 'viewer' });
  assert.equal(o1.status, 200);
  assert.ok(!o1.bytes.equals(v2));
  assertErrorShape(await s.api(`/api/v1/assets/${id}/versions/3`, { as: 'viewer' }), 404);
  assertErrorShape(await s.api(`/api/v1/assets/${id}/versions/x/original`, { as: 'viewer' }), 404);
  assertErrorShape(await s.api(`/api/v1/assets/${crypto.randomUUID()}/versions`, { method: 'POST', as: 'editor', body: uniqueText('nv'), headers: { 'x-filename': 'n.txt' } }), 404);
});

test('PATCH asset: malformed JSON, wrong types, unknown fields, duplicate keys -> 400 with the error shape', async () => {
  const id = (await s.upload('patch.txt', uniqueText('patch'), 'contributor')).asset_id;
  const before = (await s.api(`/api/v1/assets/${id}`, { as: 'admin' })).json;
  const cases = [
    ['{"fields":', 'invalid_json'],
    ['not json', 'invalid_json'],
    ['[]', 'invalid_json'],
    ['"str"', 'invalid_json'],
    ['', 'invalid_json'],
    ['{"fields":{"a":1}}', 'invalid'],
    ['{"fields":{"a":true}}', 'invalid'],
    ['{"fields":{"a":{"b":"c"}}}', 'invalid'],
    ['{"fields":"a=b"}', 'invalid'],
    ['{"tags":["a"]}', 'invalid'],
    ['{"tags":{"add":"a"}}', 'invalid'],
    ['{"tags":{"add":[1]}}', 'invalid'],
    ['{"tags":{"add":["a"],"drop":["b"]}}', 'unknown_field'],
    ['{"name":"x"}', 'unknown_field'],
    ['{"fields":{"a":"1"},"fields":{"a":"2"}}', 'invalid_json'],
    ['{"fields":{"a":"1","a":"2"}}', 'invalid_json'],
    [Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 'invalid_json'],
  ];
  for (const [body, code] of cases) {
    const r = await s.api(`/api/v1/assets/${id}`, { method: 'PATCH', as: 'contributor', body, headers: { 'content-type': 'application/json' } });
    assertErrorShape(r, 400, code, `PATCH ${body}`);
  }
  const r = await s.api(`/api/v1/assets/${id}`, { method: 'PATCH', as: 'contributor', body: '{"fields":{}}', headers: { 'content-type': 'text/plain' } });
  assertErrorShape(r, 415);
  const afterAll = (await s.api(`/api/v1/assets/${id}`, { as: 'admin' })).json;
  assert.deepEqual(afterAll.fields, before.fields);
  assert.deepEqual(afterAll.tags, before.tags);
  // and a valid one works: set, then remove with null
  let ok = await s.api(`/api/v1/assets/${id}`, { method: 'PATCH', as: 'contributor', json: { fields: { title: 'Blue', sku: 'S1' }, tags: { add: ['x', 'y'] } } });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json.fields, { title: 'Blue', sku: 'S1' });
  ok = await s.api(`/api/v1/assets/${id}`, { method: 'PATCH', as: 'contributor', json: { fields: { sku: null }, tags: { remove: ['x'] } } });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json.fields, { title: 'Blue' });
  assert.deepEqual(ok.json.tags.map((t) => t.tag), ['y']);
});

test('oversize single-request upload -> 413 (server with --max-upload 1)', async () => {
  const t = await startServer({ args: ['--max-upload', '1'] });
  try {
    const before = await t.count();
    const big = crypto.randomBytes(2_000_000);
    const r = await t.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: big, headers: { 'x-filename': 'big.bin' } });
    const e = assertErrorShape(r, 413, 'too_large');
    assert.match(e.message, /tus|resumable/i);
    // well beyond the cap: still a JSON 413 (or the connection is closed), never stored
    let r2;
    try {
      r2 = await t.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: crypto.randomBytes(5 << 20), headers: { 'x-filename': 'bigger.bin' } });
    } catch (err) {
      r2 = null; // a server may close the connection on an oversize body
    }
    if (r2) assertErrorShape(r2, 413);
    const mp = multipart([{ name: 'file', filename: 'big.bin', data: big }]);
    assertErrorShape(await t.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: mp.body, headers: { 'content-type': mp.type } }), 413);
    // just under the cap works
    const ok = await t.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: crypto.randomBytes(1_000_000), headers: { 'x-filename': 'ok.bin' } });
    assert.equal(ok.status, 201);
    assert.equal(await t.count(), before + 1);
  } finally {
    await t.stop();
  }
});

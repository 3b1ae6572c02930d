// Names and types at upload (issue #11 points 11-13): one check of every
// stored file name (multipart, X-Filename, tus), the detected type of a file
// whose extension lies, and the tus creation URL with a trailing slash.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, assertErrorShape, multipart, sha256 } from './lib/server.mjs';

let s;
before(async () => { s = await startServer(); });
after(async () => { await s.stop(); });

const b64 = (v) => Buffer.from(v).toString('base64');
const TUS = { 'tus-resumable': '1.0.0' };
const RLO = '\u202e', LRI = '\u2066';
const LONG = 'a'.repeat(70000) + '.jpg';

async function postForm(name) {
  const m = multipart([{ name: 'file', filename: Buffer.from(name), data: fixture('photo.jpg') }]);
  return s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: m.body, headers: { 'content-type': m.type } });
}
const postRaw = (name) => s.api('/api/v1/assets', {
  method: 'POST', as: 'contributor', body: fixture('photo.jpg'),
  headers: { 'content-type': 'application/octet-stream', 'x-filename': encodeURIComponent(name) },
});
const tusCreate = (meta, path = '/api/v1/uploads') => s.api(path, {
  method: 'POST', as: 'contributor', headers: { ...TUS, 'upload-length': '10', 'upload-metadata': meta },
});

test('bidirectional overrides and isolates are refused on every upload path, saying so', async () => {
  const before = await s.count();
  for (const name of [`invoice${RLO}gpj.exe`, `a${LRI}b.jpg`, `x\u202ay.jpg`, `x\u2069y.jpg`]) {
    const cp = [...name].find((c) => c.codePointAt(0) >= 0x2000).codePointAt(0).toString(16).toUpperCase();
    for (const [path, r] of [['multipart', await postForm(name)], ['X-Filename', await postRaw(name)],
      ['tus', await tusCreate(`filename ${b64(name)}`)]]) {
      assertErrorShape(r, 400, path === 'tus' ? 'invalid_metadata' : 'invalid_filename', `${path} ${cp}`);
      assert.match(r.json.error.message, new RegExp(`bidirectional control character \\(U\\+${cp} at character \\d+\\)`), `${path}: ${r.json.error.message}`);
    }
  }
  assert.equal(await s.count(), before, 'nothing stored');
});

test('a tus filename with a NUL is refused like on the other paths', async () => {
  const r = await tusCreate(`filename ${b64('a\0b.jpg')}`);
  assertErrorShape(r, 400, 'invalid_metadata');
  assert.match(r.json.error.message, /the file name contains a NUL byte \(at byte 2\)/);
  // the other values too: a NUL would otherwise cut them short silently
  const t = await tusCreate(`filename ${b64('ok.jpg')},tags ${b64('a\0b')}`);
  assertErrorShape(t, 400, 'invalid_metadata');
  assert.match(t.json.error.message, /tags contains a NUL byte/);
  // X-Filename says NUL too (not "bad percent escape"); multipart refuses
  // control bytes in its headers
  const raw = await postRaw('a\0b.jpg');
  assertErrorShape(raw, 400, 'invalid_filename');
  assert.equal(raw.json.error.message, 'the file name contains a NUL byte');
  const form = await postForm('a\0b.jpg');
  assertErrorShape(form, 400);
  assert.match(form.json.error.message, /NUL/);
});

test('a 70,000-character name is "too long (max 255 bytes)" on every path, not "not UTF-8"', async () => {
  const raw = await postRaw(LONG);
  assertErrorShape(raw, 400, 'invalid_filename');
  assert.equal(raw.json.error.message, 'the file name is too long (70004 bytes, max 255 bytes)');
  const form = await postForm(LONG);
  assertErrorShape(form, 400, 'invalid_filename');
  assert.equal(form.json.error.message, 'the file name is too long (max 255 bytes)');
  const tus = await tusCreate(`filename ${b64(LONG)}`);
  assertErrorShape(tus, 400, 'invalid_metadata');
  assert.equal(tus.json.error.message, 'the file name is too long (70004 bytes, max 255 bytes)');
  // 255 bytes is fine, 256 is not; invalid UTF-8 is still called that
  const ok = await postRaw('b'.repeat(251) + '.jpg');
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.results[0].name.length, 255);
  assert.match((await postRaw('b'.repeat(252) + '.jpg')).json.error.message, /too long \(256 bytes, max 255 bytes\)/);
  const bad = await tusCreate(`filename ${Buffer.from([0x61, 0xff, 0x62]).toString('base64')}`);
  assert.equal(bad.json.error.message, 'the file name is not valid UTF-8 (byte 2)');
  const ctl = await tusCreate(`filename ${b64('a\x07b.jpg')}`);
  assert.equal(ctl.json.error.message, 'the file name contains a control character (U+0007 at character 2)');
});

test('text saved as .jpg is reported at upload with the detected type', async () => {
  const text = Buffer.from('just some notes and not a picture\n'.repeat(20));
  const want = 'the content is text/plain, but the name ends in .jpg';
  const raw = await s.upload('notes-as.jpg', text, 'contributor');
  assert.equal(raw.status, 'added');
  assert.equal(raw.detected_type, 'text/plain');
  assert.equal(raw.warning, want);
  // multipart
  const m = multipart([{ name: 'file', filename: 'png-as.jpg', data: fixture('alpha.png') }]);
  const form = await s.api('/api/v1/assets', { method: 'POST', as: 'contributor', body: m.body, headers: { 'content-type': m.type } });
  assert.equal(form.status, 201, form.text);
  assert.equal(form.json.results[0].detected_type, 'image/png');
  assert.equal(form.json.results[0].extension_mismatch, 'png');
  assert.equal(form.json.results[0].warning, 'the content is image/png, but the name ends in .jpg; .png would fit');
  // tus: the result kept for the client
  const text2 = Buffer.concat([text, Buffer.from('tus\n')]);
  const c = await s.api('/api/v1/uploads', { method: 'POST', as: 'contributor', headers: { ...TUS, 'upload-length': String(text2.length), 'upload-metadata': `filename ${b64('tus-notes.jpg')}` } });
  assert.equal(c.status, 201, c.text);
  const loc = c.headers.get('location');
  const p = await s.api(loc, { method: 'PATCH', as: 'contributor', body: text2, headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' } });
  assert.equal(p.status, 204, p.text);
  const g = await s.api(loc, { as: 'contributor' });
  assert.equal(g.json.result.detected_type, 'text/plain');
  assert.equal(g.json.result.warning, want);
  // a true JPEG carries no warning; the asset keeps the detected type
  const ok = await s.upload('fine.jpg', fixture('photo.jpg'), 'contributor');
  assert.equal(ok.warning, undefined);
  assert.equal(ok.detected_type, undefined);
  const a = await s.waitProcessed(raw.asset_id);
  assert.equal(a.versions[0].mime, 'text/plain');
  assert.equal(a.versions[0].extension_mismatch, true);
});

test('/api/v1/uploads/ with a trailing slash works like /api/v1/uploads (OPTIONS, POST, the Location)', async () => {
  const o = await s.api('/api/v1/uploads/', { method: 'OPTIONS', as: 'viewer' });
  assert.equal(o.status, 204, o.text);
  assert.equal(o.headers.get('tus-resumable'), '1.0.0');
  assert.equal(o.headers.get('tus-version'), '1.0.0');
  assert.match(o.headers.get('tus-extension'), /creation/);
  const data = fixture('photo2.jpg');
  const c = await s.api('/api/v1/uploads/', { method: 'POST', as: 'contributor', headers: { ...TUS, 'upload-length': String(data.length), 'upload-metadata': `filename ${b64('slash.jpg')}` } });
  assert.equal(c.status, 201, c.text);
  const loc = c.headers.get('location');
  assert.match(loc, /^\/api\/v1\/uploads\/[0-9a-f-]+$/);
  const h = await s.api(loc, { method: 'HEAD', as: 'contributor', headers: TUS });
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('upload-offset'), '0');
  const half = data.length >> 1;
  let p = await s.api(loc, { method: 'PATCH', as: 'contributor', body: data.subarray(0, half), headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' } });
  assert.equal(p.status, 204, p.text);
  // the upload's own URL with a trailing slash is the same upload
  p = await s.api(loc + '/', { method: 'PATCH', as: 'contributor', body: data.subarray(half), headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(half) } });
  assert.equal(p.status, 204, p.text);
  assert.equal(p.headers.get('dam-upload-status'), 'added');
  const id = p.headers.get('dam-asset-id');
  const orig = await s.api(`/api/v1/assets/${id}/original`, { as: 'viewer' });
  assert.equal(sha256(orig.bytes), sha256(data));
  // one slash only, and unknown paths stay 404; method mismatch stays 405
  assertErrorShape(await s.api('/api/v1/uploads//', { method: 'OPTIONS', as: 'viewer' }), 404);
  assertErrorShape(await s.api('/api/v1/nothing/', { as: 'viewer' }), 404);
  assertErrorShape(await s.api('/api/v1/uploads/', { method: 'PUT', as: 'viewer' }), 405);
});

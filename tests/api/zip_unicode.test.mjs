// Zip downloads (issue #11 point 10): UTF-8 names that every unzipper reads
// (flag bit 11 and the Info-ZIP Unicode Path field 0x7075 on every entry),
// and zips of a preset's renditions with the assets that have none listed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer, fixture, tmpDir, sha256, cli, assertErrorShape } from './lib/server.mjs';
import { readZip } from './lib/zip.mjs';

let s, shoe, shoe2, ascii, pdf, png, video;
const NAMES = ['运动鞋.jpg', 'Ünïcødé façade.jpg', 'plain.jpg', '说明书.pdf', 'ロゴ.png'];
before(async () => {
  s = await startServer();
  shoe = (await s.upload(NAMES[0], fixture('photo.jpg'), 'editor')).asset_id;
  shoe2 = (await s.upload(NAMES[1], fixture('photo2.jpg'), 'editor')).asset_id;
  ascii = (await s.upload(NAMES[2], fixture('rotated.jpg'), 'editor')).asset_id;
  pdf = (await s.upload(NAMES[3], fixture('doc.pdf'), 'editor')).asset_id;
  png = (await s.upload(NAMES[4], fixture('alpha.png'), 'editor')).asset_id;
  video = (await s.upload('广告片.mp4', fixture('clip.mp4'), 'editor')).asset_id;
  for (const id of [shoe, shoe2, ascii, pdf, png, video]) await s.waitProcessed(id);
});
after(async () => { await s.stop(); });

/** Names as Python's zipfile reads them. */
function pythonNames(bytes) {
  const f = path.join(tmpDir(), 'z.zip');
  fs.writeFileSync(f, bytes);
  const out = execFileSync('python3', ['-c', 'import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print(json.dumps([i.filename for i in z.infolist()])); z.testzip() is None or sys.exit(3)', f]);
  return JSON.parse(out.toString('utf8'));
}

function assertUnicodeEntries(entries) {
  for (const e of entries) {
    assert.equal(e.flags & 0x0800, 0x0800, `${e.name}: central flag bit 11`);
    assert.equal(e.local.flags & 0x0800, 0x0800, `${e.name}: local flag bit 11`);
    for (const [where, extras] of [['central', e.extras], ['local', e.local.extras]]) {
      const up = extras.get(0x7075);
      assert.ok(up, `${e.name}: ${where} Unicode Path extra field 0x7075`);
      assert.equal(up[0], 1, 'version 1');
      assert.equal(up.readUInt32LE(1), zlib.crc32(e.rawName), 'CRC-32 of the header name');
      assert.equal(up.subarray(5).toString('utf8'), e.name, `${where} 0x7075 holds the UTF-8 name`);
    }
    assert.deepEqual(e.local.name, e.rawName, 'local and central names agree');
  }
}

test('zip of originals: every entry has flag bit 11 and the 0x7075 field; Python reads the exact names', async () => {
  const ids = [shoe, shoe2, ascii, pdf, png];
  const r = await s.api(`/api/v1/downloads/zip?ids=${ids.join(',')}`, { as: 'viewer' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('dam-zip-skipped'), '0');
  const entries = readZip(r.bytes);
  assert.deepEqual(entries.map((e) => e.name), NAMES);
  assertUnicodeEntries(entries);
  assert.equal(sha256(entries[0].data), sha256(fixture('photo.jpg')), 'the original bytes');
  assert.equal(entries[0].crc, entries[0].local.crc, 'CRC patched into the local header');
  assert.deepEqual(pythonNames(r.bytes), NAMES, 'python3 zipfile lists the exact Unicode names (and testzip passes)');
  // unzip (Info-ZIP) agrees and finds no CRC error
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'a.zip'), r.bytes);
  execFileSync('python3', ['-m', 'zipfile', '-e', path.join(dir, 'a.zip'), path.join(dir, 'out')]);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'out')).sort(), [...NAMES].sort());
});

test('zip of a preset: renditions at the preset size, named after the assets; the video is listed in SKIPPED.txt', async () => {
  const r = await s.api('/api/v1/downloads/zip', { method: 'POST', as: 'viewer', json: { ids: [shoe, video, pdf, png, shoe2], preset: 'tmall' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('dam-zip-skipped'), '1');
  const entries = readZip(r.bytes);
  // the PDF's rendition is its first page (PDFs have a delivery master)
  const want = ['运动鞋.jpg', '说明书.jpg', 'ロゴ.jpg', 'Ünïcødé façade.jpg', 'SKIPPED.txt'];
  assert.deepEqual(entries.map((e) => e.name), want);
  assertUnicodeEntries(entries);
  assert.deepEqual(pythonNames(r.bytes), want);
  const dir = tmpDir();
  for (const e of entries.slice(0, 4)) {
    const f = path.join(dir, e.name);
    fs.writeFileSync(f, e.data);
    assert.equal(execFileSync('vipsheader', ['-f', 'width', f]).toString().trim(), '800', `${e.name} width`);
    assert.equal(execFileSync('vipsheader', ['-f', 'height', f]).toString().trim(), '800', `${e.name} height`);
    assert.equal(e.data.subarray(0, 3).toString('hex'), 'ffd8ff', 'JPEG bytes');
  }
  // exactly the bytes the delivery serves for that preset
  const render = path.join(dir, 'r.jpg');
  cli(s.lib, ['render', shoe, 'p_tmall', '-o', render]);
  assert.equal(sha256(entries[0].data), sha256(fs.readFileSync(render)));
  const skipped = entries[4].data.toString('utf8');
  assert.equal(skipped, `1 of 5 assets are not in this zip:\n广告片.mp4 (asset ${video}): asset ${video} is a video; transforms and presets apply to images\n`);
  // GET with ?preset= gives the same entries
  const g = await s.api(`/api/v1/downloads/zip?ids=${shoe},${video}&preset=tmall`, { as: 'viewer' });
  assert.deepEqual(readZip(g.bytes).map((e) => e.name), ['运动鞋.jpg', 'SKIPPED.txt']);
  // "original" is the default
  const o = await s.api(`/api/v1/downloads/zip?ids=${shoe}&preset=original`, { as: 'viewer' });
  assert.equal(sha256(readZip(o.bytes)[0].data), sha256(fixture('photo.jpg')));
});

test('zip of a preset: unknown preset and nothing to include are clear 400s', async () => {
  const u = await s.api('/api/v1/downloads/zip', { method: 'POST', as: 'viewer', json: { ids: [shoe], preset: 'nope' } });
  assertErrorShape(u, 400, 'invalid_parameter');
  assert.match(u.json.error.message, /unknown preset "nope"/);
  const none = await s.api('/api/v1/downloads/zip', { method: 'POST', as: 'viewer', json: { ids: [video], preset: 'tmall' } });
  assertErrorShape(none, 400);
  assert.match(none.json.error.message, /^nothing to put in the zip: 广告片\.mp4 .*is a video; transforms and presets apply to images$/);
  assertErrorShape(await s.api('/api/v1/downloads/zip', { method: 'POST', as: 'viewer', json: { ids: [shoe], preset: 3 } }), 400);
});

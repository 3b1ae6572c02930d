// The audit trail over HTTP: GET /api/v1/audit (admin only) and an asset's
// history (anyone who may read it); filters, keyset pages, CSV, no secrets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertErrorShape, uniqueText } from './lib/server.mjs';

let s, assetA, assetB, tokenSecret, userPassword;
const NOTE = 'say "hi", then\nleave =1+1';

before(async () => {
  s = await startServer();
  assetA = (await s.upload('a.txt', uniqueText('a'), 'editor')).asset_id;
  assetB = (await s.upload('b.txt', uniqueText('b'), 'contributor')).asset_id;
  await s.waitProcessed(assetA);
  await s.waitProcessed(assetB);
  let r = await s.api(`/api/v1/assets/${assetA}`, { method: 'PATCH', as: 'editor', json: { fields: { note: NOTE } } });
  assert.equal(r.status, 200);
  r = await s.api(`/api/v1/assets/${assetA}`, { method: 'PATCH', as: 'admin', json: { tags: { add: ['checked'] } } });
  assert.equal(r.status, 200);
  userPassword = 'pw-' + 'x'.repeat(20) + Date.now();
  r = await s.api('/api/v1/users', { method: 'POST', as: 'admin', json: { username: 'audited', role: 'viewer', password: userPassword } });
  assert.equal(r.status, 201, r.text);
  r = await s.api('/api/v1/tokens', { method: 'POST', as: 'admin', json: { user: 'audited', label: 'ci' } });
  assert.equal(r.status, 201, r.text);
  tokenSecret = r.json.secret;
  assert.ok(tokenSecret);
});
after(async () => { await s.stop(); });

/** Every row of a filtered query, following the cursor. */
async function all(q, as = 'admin', limit = 2) {
  const rows = [];
  let cursor = null;
  for (let i = 0; i < 500; i++) {
    const r = await s.api(`/api/v1/audit?limit=${limit}${q ? '&' + q : ''}${cursor ? `&cursor=${cursor}` : ''}`, { as });
    assert.equal(r.status, 200, r.text);
    rows.push(...r.json.items);
    cursor = r.json.next;
    if (!cursor) return rows;
    assert.equal(r.json.items.length, limit, 'a page with a next cursor is full');
  }
  throw new Error('too many pages');
}

/** A minimal RFC 4180 reader: records of fields. */
function parseCsv(text) {
  const recs = [];
  let rec = [], f = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { rec.push(f); f = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { rec.push(f); recs.push(rec); rec = []; f = ''; i++; }
    else f += c;
  }
  assert.equal(f, '', 'the file ends with CRLF');
  return recs;
}

test('only admins read the whole trail; anyone who may read an asset reads its history', async () => {
  for (const role of ['viewer', 'contributor', 'editor']) {
    assertErrorShape(await s.api('/api/v1/audit', { as: role }), 403, 'forbidden');
    assertErrorShape(await s.api('/api/v1/audit?format=csv', { as: role }), 403, 'forbidden');
  }
  assertErrorShape(await s.api('/api/v1/audit'), 401);
  assertErrorShape(await s.api(`/api/v1/assets/${assetA}/audit`), 401);
  const r = await s.api('/api/v1/audit', { as: 'admin' });
  assert.equal(r.status, 200);
  assert.ok(r.json.items.length >= 6);
  const seqs = r.json.items.map((x) => x.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest first');
  for (const role of ['viewer', 'contributor', 'editor', 'admin']) {
    const h = await s.api(`/api/v1/assets/${assetA}/audit`, { as: role });
    assert.equal(h.status, 200, role);
    assert.deepEqual(h.json.items.map((x) => x.action), ['asset.update', 'asset.update', 'version.processed', 'asset.create']);
    assert.ok(h.json.items.every((x) => x.object_id === assetA));
    assert.equal(h.json.next, null);
  }
  assertErrorShape(await s.api('/api/v1/assets/0190aaaa-0000-7000-8000-000000000000/audit', { as: 'viewer' }), 404);
});

test('filters: actor, action prefix, asset, since/until', async () => {
  const everything = await all('');
  const byEditor = await all('actor=user:editor1');
  assert.deepEqual(byEditor.map((x) => x.action), ['asset.update', 'asset.create']);
  assert.ok(byEditor.every((x) => x.actor === 'user:editor1'));
  const assets = await all('action=asset.');
  assert.deepEqual(assets.map((x) => x.action).sort(), ['asset.create', 'asset.create', 'asset.update', 'asset.update']);
  const updates = await all('action=asset.update&actor=user:admin');
  assert.equal(updates.length, 1);
  assert.deepEqual(updates[0].object_id, assetA);
  const ofB = await all(`asset=${assetB}`);
  assert.deepEqual(ofB.map((x) => [x.action, x.actor]), [['version.processed', 'worker'], ['asset.create', 'user:contributor1']]);
  // since is inclusive, until exclusive: split the trail at one row's time
  const pivot = everything.find((x) => x.action === 'user.add');
  const later = await all(`since=${encodeURIComponent(pivot.at)}`);
  const earlier = await all(`until=${encodeURIComponent(pivot.at)}`);
  assert.ok(later.some((x) => x.seq === pivot.seq));
  assert.ok(!earlier.some((x) => x.seq === pivot.seq));
  assert.ok(later.every((x) => x.at >= pivot.at) && earlier.every((x) => x.at < pivot.at));
  assert.equal(later.length + earlier.length, everything.length);
  assert.deepEqual(await all('actor=user:nobody'), []);
  // an age: everything here happened in the last day
  assert.equal((await all('since=1d', 'admin', 1000)).length, everything.length);
});

test('keyset pages cover the trail once, and rows added meanwhile do not shift them', async () => {
  const first = await s.api('/api/v1/audit?limit=3', { as: 'admin' });
  assert.equal(first.json.items.length, 3);
  assert.match(first.json.next, /^\d+$/);
  // a change between pages
  await s.api(`/api/v1/assets/${assetB}`, { method: 'PATCH', as: 'admin', json: { tags: { add: ['between'] } } });
  const second = await s.api(`/api/v1/audit?limit=3&cursor=${first.json.next}`, { as: 'admin' });
  assert.equal(second.json.items[0].seq, first.json.items[2].seq - 1);
  const seen = new Set();
  for (const x of await all('', 'admin', 4)) {
    assert.ok(!seen.has(x.seq), 'no row twice');
    seen.add(x.seq);
  }
  const max = Math.max(...seen);
  assert.equal(seen.size, max, 'every row once (seq 1..n)');
});

test('bad filters are refused with the parameter named', async () => {
  for (const [q, field] of [['since=yesterday', 'since'], ['until=2026-13-45', 'until'], ['cursor=abc', 'cursor'],
    ['cursor=-4', 'cursor'], ['limit=0', 'limit'], ['limit=1001', 'limit'], ['format=xml', 'format'],
    ['since=2026-12-02&until=2026-12-01', 'since']]) {
    const r = await s.api(`/api/v1/audit?${q}`, { as: 'admin' });
    assertErrorShape(r, 400, 'invalid_parameter', q);
    assert.equal(r.json.error.field, field, q);
  }
  assertErrorShape(await s.api('/api/v1/audit?asset=0190aaaa-0000-7000-8000-000000000000', { as: 'admin' }), 404);
  assertErrorShape(await s.api('/api/v1/audit?asset=nosuchasset', { as: 'admin' }), 400);
});

test('CSV: Accept: text/csv or format=csv, the columns, quoting', async () => {
  const json = await all(`asset=${assetA}`);
  const byAccept = await s.api(`/api/v1/audit?asset=${assetA}`, { as: 'admin', headers: { accept: 'text/csv' } });
  assert.equal(byAccept.status, 200);
  assert.equal(byAccept.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.match(byAccept.headers.get('content-disposition'), /^attachment; filename="audit\.csv"$/);
  const byParam = await s.api(`/api/v1/audit?asset=${assetA}&format=csv`, { as: 'admin' });
  assert.equal(byParam.text, byAccept.text);
  const recs = parseCsv(byAccept.text);
  assert.deepEqual(recs[0], ['seq', 'at', 'actor', 'action', 'object_type', 'object_id', 'before', 'after', 'hash']);
  assert.equal(recs.length - 1, json.length);
  for (let i = 0; i < json.length; i++) {
    const [seq, at, actor, action, otype, oid, beforeText, afterText, hash] = recs[i + 1];
    const j = json[i];
    assert.deepEqual([Number(seq), at, actor, action, otype, oid, hash], [j.seq, j.at, j.actor, j.action, j.object_type, j.object_id, j.hash]);
    assert.deepEqual(afterText ? JSON.parse(afterText) : undefined, j.after);
    assert.deepEqual(beforeText ? JSON.parse(beforeText) : undefined, j.before);
  }
  // the note with quotes, a comma and a newline survived the round trip
  assert.ok(byAccept.text.includes('""say \\""hi\\"", then\\nleave =1+1""'), byAccept.text);
  // an asset's history as CSV, for a viewer
  const h = await s.api(`/api/v1/assets/${assetA}/audit?format=csv`, { as: 'viewer' });
  assert.equal(h.status, 200);
  assert.match(h.headers.get('content-disposition'), new RegExp(`filename="audit-${assetA}\\.csv"`));
  assert.equal(h.text, byAccept.text);
  // with limit, CSV is one page
  const one = await s.api('/api/v1/audit?format=csv&limit=1', { as: 'admin' });
  assert.equal(parseCsv(one.text).length, 2);
});

test('no secret reaches the trail: passwords and token secrets never appear', async () => {
  const json = (await s.api('/api/v1/audit?limit=1000', { as: 'admin' })).text;
  const csv = (await s.api('/api/v1/audit?format=csv', { as: 'admin' })).text;
  for (const text of [json, csv]) {
    assert.ok(!text.includes(userPassword), 'password');
    assert.ok(!text.includes(tokenSecret), 'token secret');
    assert.ok(!text.includes(tokenSecret.slice(4, 24)), 'part of the token secret');
    assert.ok(!text.includes('$argon2'), 'password hash');
  }
  const rows = JSON.parse(json).items;
  const add = rows.find((x) => x.action === 'user.add' && x.after?.username === 'audited');
  assert.ok(add, 'user.add is recorded');
  const tok = rows.find((x) => x.action === 'token.create' && x.after?.label === 'ci');
  assert.ok(tok, 'token.create is recorded');
});

// Users (admin) and API tokens (one's own; admins everyone's) over HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertErrorShape } from './lib/server.mjs';

let s;
before(async () => { s = await startServer(); });
after(async () => { await s.stop(); });

const login = (username, password) => s.api('/api/v1/session', { method: 'POST', json: { username, password } });

test('only admins manage users', async () => {
  for (const role of ['viewer', 'contributor', 'editor']) {
    assertErrorShape(await s.api('/api/v1/users', { as: role }), 403, 'forbidden');
    assertErrorShape(await s.api('/api/v1/users', { method: 'POST', as: role, json: { username: 'x' + role, role: 'viewer' } }), 403);
    assertErrorShape(await s.api('/api/v1/users/viewer1', { method: 'PATCH', as: role, json: { role: 'admin' } }), 403);
  }
  assertErrorShape(await s.api('/api/v1/users'), 401);
  const r = await s.api('/api/v1/users', { as: 'admin' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.items.map((u) => u.username).sort(), ['admin', 'contributor1', 'editor1', 'viewer1']);
  const v = r.json.items.find((u) => u.username === 'viewer1');
  assert.equal(v.role, 'viewer');
  assert.equal(v.disabled, false);
  assert.ok(!('password_hash' in v) && !JSON.stringify(r.json).includes('argon2'), 'no hashes');
});

test('admin adds a user with a generated password, who can then log in', async () => {
  const r = await s.api('/api/v1/users', { method: 'POST', as: 'admin', json: { username: 'carol', role: 'editor' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.username, 'carol');
  assert.equal(r.json.role, 'editor');
  assert.match(r.json.password, /^\S{20}$/);
  assert.equal((await login('carol', r.json.password)).status, 201);
  // given password; duplicate names (any case) conflict; bad input is 400 naming the field
  const d = await s.api('/api/v1/users', { method: 'POST', as: 'admin', json: { username: 'dave', role: 'viewer', password: 'a long password' } });
  assert.equal(d.status, 201);
  assert.ok(!('password' in d.json), 'a given password is not echoed');
  assert.equal((await login('dave', 'a long password')).status, 201);
  assertErrorShape(await s.api('/api/v1/users', { method: 'POST', as: 'admin', json: { username: 'CAROL', role: 'viewer' } }), 409);
  assert.equal(assertErrorShape(await s.api('/api/v1/users', { method: 'POST', as: 'admin', json: { username: 'erin', role: 'boss' } }), 400).field, 'role');
  assert.equal(assertErrorShape(await s.api('/api/v1/users', { method: 'POST', as: 'admin', json: { role: 'viewer' } }), 400).field, 'username');
  assertErrorShape(await s.api('/api/v1/users', { method: 'POST', as: 'admin', json: { username: 'bad name!', role: 'viewer' } }), 400);
  assertErrorShape(await s.api('/api/v1/users', { method: 'POST', as: 'admin', json: { username: 'frank', role: 'viewer', password: 'short' } }), 400);
  assertErrorShape(await s.api('/api/v1/users', { method: 'POST', as: 'admin', json: { username: 'gina', role: 'viewer', admin: true } }), 400, 'unknown_field');
});

test('admin changes roles, disables and enables, sets passwords; the last admin stays', async () => {
  const add = await s.api('/api/v1/users', { method: 'POST', as: 'admin', json: { username: 'henk', role: 'viewer', password: 'henk password 1' } });
  assert.equal(add.status, 201);
  let p = await s.api('/api/v1/users/henk', { method: 'PATCH', as: 'admin', json: { role: 'contributor' } });
  assert.equal(p.status, 200);
  assert.equal(p.json.role, 'contributor');
  const tok = await s.api('/api/v1/tokens', { method: 'POST', as: 'admin', json: { user: 'henk', label: 'henk-ci' } });
  assert.equal(tok.status, 201, tok.text);
  assert.equal(tok.json.role, 'contributor');
  const up = await s.api('/api/v1/assets', { method: 'POST', as: tok.json.secret, headers: { 'x-filename': 'h.txt' }, body: Buffer.from('henk ' + Date.now()) });
  assert.equal(up.status, 201, up.text);
  // disabled: login refused, token refused; enabled again: both work
  p = await s.api('/api/v1/users/henk', { method: 'PATCH', as: 'admin', json: { disabled: true } });
  assert.equal(p.json.disabled, true);
  assert.equal((await login('henk', 'henk password 1')).status, 401);
  assert.equal((await s.api('/api/v1/assets', { as: tok.json.secret })).status, 401);
  p = await s.api('/api/v1/users/henk', { method: 'PATCH', as: 'admin', json: { disabled: false, password: 'henk password 2' } });
  assert.equal(p.status, 200);
  assert.equal(p.json.disabled, false);
  assert.equal((await login('henk', 'henk password 1')).status, 401, 'old password no longer works');
  assert.equal((await login('henk', 'henk password 2')).status, 201);
  assert.equal((await s.api('/api/v1/assets', { as: tok.json.secret })).status, 200);
  // demoted: the token is capped at once
  await s.api('/api/v1/users/henk', { method: 'PATCH', as: 'admin', json: { role: 'viewer' } });
  assertErrorShape(await s.api('/api/v1/assets', { method: 'POST', as: tok.json.secret, headers: { 'x-filename': 'h2.txt' }, body: Buffer.from('henk2 ' + Date.now()) }), 403);
  // refusals
  assertErrorShape(await s.api('/api/v1/users/admin', { method: 'PATCH', as: 'admin', json: { role: 'viewer' } }), 409);
  assertErrorShape(await s.api('/api/v1/users/admin', { method: 'PATCH', as: 'admin', json: { disabled: true } }), 409);
  assertErrorShape(await s.api('/api/v1/users/nobody', { method: 'PATCH', as: 'admin', json: { role: 'viewer' } }), 404);
  assertErrorShape(await s.api('/api/v1/users/henk', { method: 'PATCH', as: 'admin', json: { disabled: 'yes' } }), 400);
  assertErrorShape(await s.api('/api/v1/users/henk', { method: 'PATCH', as: 'admin', json: { role: 'root' } }), 400);
});

test('everyone lists, creates and revokes their own tokens; secrets are shown once', async () => {
  const c = await s.api('/api/v1/tokens', { method: 'POST', as: 'viewer', json: { label: 'laptop', expires_in_days: 30 } });
  assert.equal(c.status, 201, c.text);
  assert.match(c.json.secret, /^dam_[A-Za-z0-9_-]{43}$/);
  assert.equal(c.json.label, 'laptop');
  assert.equal(c.json.role, 'viewer');
  assert.equal(c.json.user, 'viewer1');
  const days = (Date.parse(c.json.expires_at) - Date.now()) / 86400000;
  assert.ok(days > 29.9 && days < 30.1, `expires in 30 days (${days})`);
  assert.equal((await s.api('/api/v1/session', { as: c.json.secret })).json.username, 'viewer1');

  const l = await s.api('/api/v1/tokens', { as: 'viewer' });
  assert.equal(l.status, 200);
  assert.ok(l.json.items.every((t) => t.user === 'viewer1'), 'only one\'s own tokens');
  assert.ok(l.json.items.some((t) => t.id === c.json.id));
  assert.ok(!l.text.includes(c.json.secret), 'the list never shows a secret');

  // a token may not exceed its user's role; others' tokens are out of reach
  assertErrorShape(await s.api('/api/v1/tokens', { method: 'POST', as: 'viewer', json: { role: 'admin' } }), 400);
  assertErrorShape(await s.api('/api/v1/tokens', { method: 'POST', as: 'viewer', json: { user: 'editor1' } }), 403);
  assertErrorShape(await s.api('/api/v1/tokens?all=true', { as: 'editor' }), 403);
  assertErrorShape(await s.api('/api/v1/tokens', { method: 'POST', as: 'viewer', json: { expires_in_days: 0 } }), 400);
  const mine = await s.api('/api/v1/tokens', { method: 'POST', as: 'editor', json: { label: 'editor-ci' } });
  assertErrorShape(await s.api(`/api/v1/tokens/${mine.json.id}`, { method: 'DELETE', as: 'viewer' }), 404);

  // revoke one's own: the secret stops working; twice is a conflict
  assert.equal((await s.api(`/api/v1/tokens/${c.json.id}`, { method: 'DELETE', as: 'viewer' })).status, 204);
  assert.equal((await s.api('/api/v1/session', { as: c.json.secret })).status, 401);
  assertErrorShape(await s.api(`/api/v1/tokens/${c.json.id}`, { method: 'DELETE', as: 'viewer' }), 409);
  assertErrorShape(await s.api('/api/v1/tokens/01a20000-0000-7000-8000-000000000000', { method: 'DELETE', as: 'viewer' }), 404);

  // admins see and revoke everyone's
  const all = await s.api('/api/v1/tokens?all=true', { as: 'admin' });
  assert.ok(new Set(all.json.items.map((t) => t.user)).size >= 4);
  assert.equal((await s.api(`/api/v1/tokens/${mine.json.id}`, { method: 'DELETE', as: 'admin' })).status, 204);
  assert.ok((await s.api('/api/v1/tokens', { as: 'editor' })).json.items.find((t) => t.id === mine.json.id).revoked);
});

test('a cookie session needs the CSRF token to create tokens', async () => {
  const r = await login(s.users.editor.name, s.users.editor.password);
  const cookie = (r.headers.get('set-cookie') || '').split(';')[0];
  assertErrorShape(await s.api('/api/v1/tokens', { method: 'POST', headers: { cookie }, json: { label: 'x' } }), 403, 'csrf');
  const ok = await s.api('/api/v1/tokens', { method: 'POST', headers: { cookie, 'x-csrf-token': r.json.csrf_token }, json: { label: 'x' } });
  assert.equal(ok.status, 201);
});

// Browser sessions: login cookie, CSRF, logout, uniform failure message,
// throttling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, assertErrorShape, uniqueText, tmpDir } from './lib/server.mjs';

let s;
before(async () => { s = await startServer(); });
after(async () => { await s.stop(); });

const login = (username, password) => s.api('/api/v1/session', { method: 'POST', json: { username, password } });
const cookieOf = (r) => (r.headers.get('set-cookie') || '').split(';')[0];

test('login sets an HttpOnly SameSite=Lax cookie (no Secure over http) and returns the user', async () => {
  const r = await login(s.users.editor.name, s.users.editor.password);
  assert.equal(r.status, 201);
  const sc = r.headers.get('set-cookie');
  assert.match(sc, /^dam_session=[0-9a-f]{64};/);
  assert.match(sc, /;\s*HttpOnly/i);
  assert.match(sc, /;\s*SameSite=Lax/i);
  assert.match(sc, /;\s*Path=\//);
  assert.doesNotMatch(sc, /Secure/i);
  assert.equal(r.json.username, s.users.editor.name);
  assert.equal(r.json.role, 'editor');
  assert.match(r.json.csrf_token, /^[0-9a-f]{64}$/);
});

test('cookie session: GET session gives csrf_token; CSRF enforced on state changes; logout ends it', async () => {
  const r = await login(s.users.editor.name, s.users.editor.password);
  const cookie = cookieOf(r);
  const who = await s.api('/api/v1/session', { headers: { cookie } });
  assert.equal(who.status, 200);
  assert.equal(who.json.authenticated_by, 'session');
  assert.equal(who.json.role, 'editor');
  const csrf = who.json.csrf_token;
  assert.match(csrf, /^[0-9a-f]{64}$/);
  // reads need no CSRF token
  assert.equal((await s.api('/api/v1/assets', { headers: { cookie } })).status, 200);

  const id = (await s.upload('sess.txt', uniqueText('sess'), 'admin')).asset_id;
  const patch = (headers) => s.api(`/api/v1/assets/${id}`, { method: 'PATCH', headers: { cookie, ...headers }, json: { tags: { add: ['via-cookie'] } } });
  let p = await patch({});
  const e = assertErrorShape(p, 403, 'csrf');
  assert.equal(e.field, 'X-CSRF-Token');
  p = await patch({ 'x-csrf-token': 'f'.repeat(64) });
  assertErrorShape(p, 403, 'csrf');
  let a = await s.api(`/api/v1/assets/${id}`, { as: 'admin' });
  assert.ok(!a.json.tags.some((t) => t.tag === 'via-cookie'), 'refused requests changed nothing');
  p = await patch({ 'x-csrf-token': csrf });
  assert.equal(p.status, 200);
  assert.ok(p.json.tags.some((t) => t.tag === 'via-cookie'));
  // uploads too
  const up = await s.api('/api/v1/assets', { method: 'POST', headers: { cookie, 'x-filename': 'c.txt' }, body: uniqueText('c') });
  assertErrorShape(up, 403, 'csrf');
  const up2 = await s.api('/api/v1/assets', { method: 'POST', headers: { cookie, 'x-filename': 'c.txt', 'x-csrf-token': csrf }, body: uniqueText('c2') });
  assert.equal(up2.status, 201);

  // logout: needs CSRF too
  assertErrorShape(await s.api('/api/v1/session', { method: 'DELETE', headers: { cookie } }), 403, 'csrf');
  const out = await s.api('/api/v1/session', { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
  assert.equal(out.status, 204);
  const cleared = out.headers.get('set-cookie');
  assert.match(cleared, /^dam_session=;/);
  assert.match(cleared, /Max-Age=0/);
  const old = await s.api('/api/v1/session', { headers: { cookie } });
  assert.equal(old.status, 401);
  assertErrorShape(old, 401);
  assert.equal((await s.api('/api/v1/assets', { headers: { cookie } })).status, 401);
});

test('bearer token session info has no csrf_token; DELETE session without a cookie is 400', async () => {
  const r = await s.api('/api/v1/session', { as: 'viewer' });
  assert.equal(r.status, 200);
  assert.equal(r.json.authenticated_by, 'token');
  assert.equal(r.json.csrf_token, undefined);
  assertErrorShape(await s.api('/api/v1/session', { method: 'DELETE', as: 'viewer' }), 400);
});

test('a cookie session with a bearer token needs no CSRF token', async () => {
  const id = (await s.upload('tok.txt', uniqueText('tok'), 'admin')).asset_id;
  const r = await s.api(`/api/v1/assets/${id}`, { method: 'PATCH', as: 'editor', json: { fields: { a: 'b' } } });
  assert.equal(r.status, 200);
});

test('login failure: same status and message for unknown user and wrong password', async () => {
  const a = await login('nobody-here', 'whatever-password');
  const b = await login(s.users.viewer.name, 'wrong-password-1');
  assertErrorShape(a, 401);
  assertErrorShape(b, 401);
  assert.deepEqual(a.json, b.json);
  assert.equal(a.headers.get('set-cookie'), null);
  // malformed bodies
  assertErrorShape(await s.api('/api/v1/session', { method: 'POST', json: '{"username":"x"' }), 400, 'invalid_json');
  assertErrorShape(await s.api('/api/v1/session', { method: 'POST', json: { username: 'x', password: 'y', extra: 1 } }), 400, 'unknown_field');
  assertErrorShape(await s.api('/api/v1/session', { method: 'POST', json: { username: 'x', password: 5 } }), 400);
});

test('throttling: after 5 failures for one username -> 429 with Retry-After', async () => {
  // A server of its own: the failures also count against 127.0.0.1.
  const t = await startServer();
  try {
    const name = t.users.contributor.name;
    for (let i = 0; i < 5; i++) {
      const r = await t.api('/api/v1/session', { method: 'POST', json: { username: name, password: `wrong-${i}-xxxxx` } });
      assertErrorShape(r, 401, 'invalid_credentials');
    }
    const r = await t.api('/api/v1/session', { method: 'POST', json: { username: name, password: t.users.contributor.password } });
    assertErrorShape(r, 429, 'too_many_attempts');
    const ra = Number(r.headers.get('retry-after'));
    assert.ok(Number.isInteger(ra) && ra > 0, `Retry-After is a positive integer: ${r.headers.get('retry-after')}`);
    assert.equal(r.headers.get('set-cookie'), null);
    // tokens keep working meanwhile
    assert.equal((await t.api('/api/v1/assets', { as: 'contributor' })).status, 200);
  } finally {
    await t.stop();
  }
});

// A server that believes X-Forwarded-For from the test (so each request can
// come from an address of its choice) and whose clock the test moves
// through DAM_TEST_CLOCK_FILE (milliseconds added to the real time).
async function throttleServer() {
  const clock = path.join(tmpDir(), 'clock');
  fs.writeFileSync(clock, '0');
  const saved = process.env.DAM_TEST_CLOCK_FILE;
  process.env.DAM_TEST_CLOCK_FILE = clock;
  let t;
  try {
    t = await startServer({ args: ['--trusted-proxies', '127.0.0.1'] });
  } finally {
    if (saved === undefined) delete process.env.DAM_TEST_CLOCK_FILE;
    else process.env.DAM_TEST_CLOCK_FILE = saved;
  }
  let shift = 0;
  t.advance = (ms) => { shift += ms; fs.writeFileSync(clock, String(shift)); };
  t.loginFrom = (addr, username, password) => t.api('/api/v1/session', {
    method: 'POST', headers: { 'x-forwarded-for': addr }, json: { username, password },
  });
  return t;
}

const retryAfter = (r) => Number(r.headers.get('retry-after'));
// A lock lasts until the first counted failure (at t0, Date.now()) is
// 15 min old: Retry-After is 900 s less the time since, rounded up.
function assertLockedSince(r, t0) {
  assertErrorShape(r, 429, 'too_many_attempts');
  const ra = retryAfter(r), since = (Date.now() - t0) / 1000;
  assert.ok(Number.isInteger(ra) && ra <= 900 && ra >= 900 - since - 1, `Retry-After ${ra} s, ${since} s after the first failure`);
}

test('office: an attacker guessing one account locks only that account from that address', async () => {
  const t = await throttleServer();
  try {
    const office = '10.1.1.1';
    const ed = t.users.editor;
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) assertErrorShape(await t.loginFrom(office, ed.name, `guess-${i}-xxxxx`), 401, 'invalid_credentials');
    // the attacker's next try, even with the right password: refused for the window
    let r = await t.loginFrom(office, ed.name, ed.password);
    assertLockedSince(r, t0);
    assert.equal(r.headers.get('set-cookie'), null);
    // a colleague at the same office address logs in
    r = await t.loginFrom(office, t.users.viewer.name, t.users.viewer.password);
    assert.equal(r.status, 201);
    // the owner from home logs in
    r = await t.loginFrom('10.2.2.2', ed.name, ed.password);
    assert.equal(r.status, 201);
    assert.equal(r.json.username, ed.name);
    // past the window the office may try the account again
    t.advance(901 * 1000);
    assert.equal((await t.loginFrom(office, ed.name, ed.password)).status, 201);
  } finally {
    await t.stop();
  }
});

test('office: an address failing on many accounts gets an exponential delay, not a lockout', async () => {
  const t = await throttleServer();
  try {
    const office = '10.1.1.1';
    const col = t.users.viewer;
    // ten failures on ten accounts are free
    let tFail;
    const guess = async (name) => {
      tFail = Date.now();
      assertErrorShape(await t.loginFrom(office, name, 'spray-password-1'), 401, 'invalid_credentials');
    };
    for (let i = 0; i < 10; i++) await guess(`user${i}`);
    // then everyone there waits 1, 2, 4 s after the address's last failure
    // (exactly, unless a whole second passed since it on a slow machine)
    for (const [failures, wait] of [[10, 1], [11, 2], [12, 4]]) {
      const r = await t.loginFrom(office, col.name, col.password);
      assertErrorShape(r, 429, 'too_many_attempts');
      const ra = retryAfter(r), since = Math.floor((Date.now() - tFail) / 1000);
      assert.ok(ra <= wait && ra >= Math.max(1, wait - since), `delay after ${failures} failures: ${ra} s, want ${wait}`);
      assert.match(r.json.error.message, new RegExp(`try again in ${ra} s`));
      // nobody elsewhere waits
      assert.equal((await t.loginFrom('10.9.9.9', col.name, col.password)).status, 201);
      t.advance(wait * 1000);
      // the attacker's next guess, the moment the delay is over
      if (failures < 12) await guess(`user${failures}`);
    }
    // the delay over, a colleague whose account is not throttled gets in
    const r = await t.loginFrom(office, col.name, col.password);
    assert.equal(r.status, 201);
    assert.equal(r.json.username, col.name);
  } finally {
    await t.stop();
  }
});

test('per account: a flood from many addresses locks the account everywhere', async () => {
  const t = await throttleServer();
  try {
    const c = t.users.contributor;
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) assertErrorShape(await t.loginFrom(`10.3.0.${i}`, c.name, `guess-${i}-xxxxx`), 401, 'invalid_credentials');
    const r = await t.loginFrom('10.4.4.4', c.name, c.password);
    assertLockedSince(r, t0);
    // other accounts from those addresses are not affected
    assert.equal((await t.loginFrom('10.3.0.1', t.users.editor.name, t.users.editor.password)).status, 201);
    t.advance(901 * 1000);
    assert.equal((await t.loginFrom('10.4.4.4', c.name, c.password)).status, 201);
  } finally {
    await t.stop();
  }
});

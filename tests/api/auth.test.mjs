// The auth matrix: each role (and anonymous) x each action, per the policy
// in src/core/auth.h (viewer < contributor < editor < admin; contributors
// may edit only assets they created).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, uniqueText, assertErrorShape, ROLES } from './lib/server.mjs';

const RANK = { anonymous: 0, viewer: 1, contributor: 2, editor: 3, admin: 4 };
let s;
const ctx = {};

before(async () => {
  s = await startServer();
  ctx.other = (await s.upload('other.jpg', fixture('photo2.jpg'), 'admin')).asset_id; // admin's asset
  ctx.corrupt = (await s.upload('corrupt.jpg', fixture('corrupt.jpg'), 'admin')).asset_id;
  ctx.own = {};
  for (const role of ['contributor', 'editor', 'admin'])
    ctx.own[role] = (await s.upload(`own-${role}.txt`, uniqueText('own-' + role), role)).asset_id;
  ctx.own.viewer = ctx.other; // a viewer cannot own assets
  ctx.own.anonymous = ctx.other;
  ctx.del = {};
  ctx.restore = {};
  for (const who of [...ROLES, 'anonymous']) {
    ctx.del[who] = (await s.upload(`del-${who}.txt`, uniqueText('del-' + who), 'admin')).asset_id;
    ctx.restore[who] = (await s.upload(`restore-${who}.txt`, uniqueText('restore-' + who), 'admin')).asset_id;
    const r = await s.api(`/api/v1/assets/${ctx.restore[who]}`, { method: 'DELETE', as: 'admin' });
    assert.equal(r.status, 204);
  }
  await s.waitProcessed(ctx.other);
  const c = await s.waitProcessed(ctx.corrupt);
  assert.equal(c.versions[0].status, 'failed', 'corrupt.jpg fails processing');
  const jobs = await s.api('/api/v1/jobs?state=failed', { as: 'admin' });
  ctx.failedJob = jobs.json.items.find((j) => j.asset_id === ctx.corrupt).id;
});
after(async () => { await s.stop(); });

// action: [least role, success status, request(who)]
const ACTIONS = {
  list: ['viewer', 200, () => ['/api/v1/assets']],
  get: ['viewer', 200, () => [`/api/v1/assets/${ctx.other}`]],
  'download original': ['viewer', 200, () => [`/api/v1/assets/${ctx.other}/original`]],
  'download rendition': ['viewer', 200, () => [`/api/v1/assets/${ctx.other}/renditions/thumbnail?version=1`]],
  upload: ['contributor', 201, (who) => ['/api/v1/assets', {
    method: 'POST', body: uniqueText('up-' + who), headers: { 'x-filename': `up-${who}.txt` } }]],
  'new version': ['editor', 201, (who) => [`/api/v1/assets/${ctx.other}/versions`, {
    method: 'POST', body: uniqueText('ver-' + who), headers: { 'x-filename': `ver-${who}.txt` } }]],
  'patch own asset': ['contributor', 200, (who) => [`/api/v1/assets/${ctx.own[who]}`, {
    method: 'PATCH', json: { fields: { note: who } } }]],
  "patch other's asset": ['editor', 200, (who) => [`/api/v1/assets/${ctx.other}`, {
    method: 'PATCH', json: { tags: { add: [`by-${who}`] } } }]],
  delete: ['editor', 204, (who) => [`/api/v1/assets/${ctx.del[who]}`, { method: 'DELETE' }]],
  restore: ['editor', 200, (who) => [`/api/v1/assets/${ctx.restore[who]}/restore`, { method: 'POST' }]],
  'jobs list': ['editor', 200, () => ['/api/v1/jobs']],
  'job retry': ['admin', 200, () => [`/api/v1/jobs/${ctx.failedJob}/retry`, { method: 'POST' }]],
  metrics: ['admin', 200, () => ['/metrics']],
};

for (const who of ['anonymous', ...ROLES]) {
  test(`auth matrix: ${who}`, async (t) => {
    for (const [action, [least, ok, req]] of Object.entries(ACTIONS)) {
      await t.test(`${who} ${action}`, async () => {
        const [p, o = {}] = req(who);
        const r = await s.api(p, { ...o, as: who === 'anonymous' ? undefined : who });
        const want = who === 'anonymous' ? 401 : RANK[who] >= RANK[least] ? ok : 403;
        assert.equal(r.status, want, `${who} ${action}: ${r.status} ${r.text.slice(0, 300)}`);
        if (want === 401) {
          assertErrorShape(r, 401, 'unauthenticated');
          assert.match(r.headers.get('www-authenticate') || '', /^Bearer/);
        }
        if (want === 403) assertErrorShape(r, 403, 'forbidden');
        if (want === 200 && action === 'job retry') assert.equal(r.json.requeued, 1);
      });
    }
  });
}

test('a contributor may add a version to and edit its own asset, not to others', async () => {
  let r = await s.api(`/api/v1/assets/${ctx.own.contributor}/versions`, {
    method: 'POST', as: 'contributor', body: uniqueText('own-v2'), headers: { 'x-filename': 'own-v2.txt' } });
  assert.equal(r.status, 201);
  assert.equal(r.json.results[0].status, 'version');
  assert.equal(r.json.results[0].version, 2);
  r = await s.api(`/api/v1/assets/${ctx.own.editor}`, { method: 'PATCH', as: 'contributor', json: { fields: { x: 'y' } } });
  assertErrorShape(r, 403, 'forbidden');
  // and the refused edit changed nothing
  r = await s.api(`/api/v1/assets/${ctx.own.editor}`, { as: 'admin' });
  assert.equal(r.json.fields.x, undefined);
});

test('a bad, revoked or malformed token is 401', async () => {
  for (const authz of ['Bearer dam_nope', 'Basic YWRtaW46eA==', 'Bearer ']) {
    const r = await s.api('/api/v1/assets', { headers: { authorization: authz } });
    const body = r.json;
    assert.equal(r.status, 401, authz);
    assert.equal(body.error.code, 'unauthenticated');
  }
  const u = s.addUser('revokee', 'viewer');
  let r = await s.api('/api/v1/assets', { as: u.token });
  assert.equal(r.status, 200);
  const { execFileSync } = await import('node:child_process');
  const { damBinary } = await import('./lib/server.mjs');
  const list = JSON.parse(execFileSync(damBinary(), ['--library', s.lib, 'token', 'list', '--user', 'revokee', '--json'], { encoding: 'utf8' }));
  const id = (Array.isArray(list) ? list : list.tokens || list.items)[0].id;
  execFileSync(damBinary(), ['--library', s.lib, 'token', 'revoke', id], { stdio: 'ignore' });
  r = await s.api('/api/v1/assets', { as: u.token });
  assertErrorShape(r, 401, 'unauthenticated');
});

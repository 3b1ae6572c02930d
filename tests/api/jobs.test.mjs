// The job queue: list by state, retry a failed job, cancel rules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, assertErrorShape, uniqueText } from './lib/server.mjs';

let s, corrupt, good;
before(async () => {
  s = await startServer();
  corrupt = (await s.upload('corrupt.jpg', fixture('corrupt.jpg'), 'contributor')).asset_id;
  good = (await s.upload('photo2.jpg', fixture('photo2.jpg'), 'contributor')).asset_id;
  await s.waitProcessed(corrupt);
  await s.waitProcessed(good);
});
after(async () => { await s.stop(); });

test('jobs list by state', async () => {
  const all = await s.api('/api/v1/jobs', { as: 'editor' });
  assert.equal(all.status, 200);
  for (const k of ['queued', 'running', 'done', 'failed', 'cancelled']) assert.equal(typeof all.json.counts[k], 'number');
  assert.equal(all.json.counts.failed, 1);
  assert.ok(all.json.counts.done >= 1);
  const failed = await s.api('/api/v1/jobs?state=failed', { as: 'editor' });
  assert.equal(failed.json.items.length, 1);
  const j = failed.json.items[0];
  assert.equal(j.state, 'failed');
  assert.equal(j.asset_id, corrupt);
  assert.equal(j.kind, 'process');
  assert.ok(j.error.length > 0, 'the failure reason is recorded');
  const done = await s.api('/api/v1/jobs?state=done', { as: 'editor' });
  assert.ok(done.json.items.every((x) => x.state === 'done'));
  assert.ok(done.json.items.some((x) => x.asset_id === good));
  assertErrorShape(await s.api('/api/v1/jobs?state=bogus', { as: 'editor' }), 400, 'invalid_parameter');
  assertErrorShape(await s.api('/api/v1/jobs?limit=0', { as: 'editor' }), 400, 'invalid_parameter');
  const a = await s.api(`/api/v1/assets/${corrupt}`, { as: 'viewer' });
  assert.equal(a.json.versions[0].status, 'failed');
  assert.ok(a.json.versions[0].error);
});

test('retry of a failed job by admin -> 200 requeued; it runs (and fails) again', async () => {
  const job = (await s.api('/api/v1/jobs?state=failed', { as: 'admin' })).json.items[0];
  const r = await s.api(`/api/v1/jobs/${job.id}/retry`, { method: 'POST', as: 'admin' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { requeued: 1 });
  const after = await s.waitProcessed(corrupt);
  assert.equal(after.versions[0].status, 'failed');
  // retrying a job that is not failed: 404
  const done = (await s.api('/api/v1/jobs?state=done', { as: 'admin' })).json.items[0];
  assertErrorShape(await s.api(`/api/v1/jobs/${done.id}/retry`, { method: 'POST', as: 'admin' }), 404, 'not_found');
  assertErrorShape(await s.api('/api/v1/jobs/01a20000-0000-7000-8000-000000000000/retry', { method: 'POST', as: 'admin' }), 404);
});

test('cancel of a non-queued (done or failed) job -> 404; editors may not cancel', async () => {
  const done = (await s.api('/api/v1/jobs?state=done', { as: 'admin' })).json.items[0];
  assertErrorShape(await s.api(`/api/v1/jobs/${done.id}/cancel`, { method: 'POST', as: 'admin' }), 404, 'not_found');
  const failed = (await s.api('/api/v1/jobs?state=failed', { as: 'admin' })).json.items[0];
  assertErrorShape(await s.api(`/api/v1/jobs/${failed.id}/cancel`, { method: 'POST', as: 'admin' }), 404);
  assertErrorShape(await s.api(`/api/v1/jobs/${done.id}/cancel`, { method: 'POST', as: 'editor' }), 403, 'forbidden');
});

test('cancel a queued job (server without job workers)', async () => {
  const q = await startServer({ workers: -1 });
  try {
    const id = (await q.upload('q.txt', uniqueText('queued'), 'admin')).asset_id;
    const job = (await q.api('/api/v1/jobs?state=queued', { as: 'admin' })).json.items.find((j) => j.asset_id === id);
    assert.ok(job);
    const c = await q.api(`/api/v1/jobs/${job.id}/cancel`, { method: 'POST', as: 'admin' });
    assert.equal(c.status, 204);
    const after = await q.api('/api/v1/jobs?state=cancelled', { as: 'admin' });
    assert.ok(after.json.items.some((j) => j.id === job.id));
    assertErrorShape(await q.api(`/api/v1/jobs/${job.id}/cancel`, { method: 'POST', as: 'admin' }), 404);
  } finally {
    await q.stop();
  }
});

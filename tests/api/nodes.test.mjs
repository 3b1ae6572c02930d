// Many nodes (issue 12): an API-only server (`dam serve --no-workers`) whose
// jobs a separate `dam worker` process runs, and /readyz answering for the
// node's database and store each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, fixture, cli, sleep, T, assertNoGlibWarnings } from './lib/server.mjs';
import { validateResponse } from './lib/openapi.mjs';
import { S3, createBucket, deleteBucket } from './lib/s3.mjs';

test('--no-workers: an upload stays queued until a separate dam worker runs it', async () => {
  const s = await startServer({ args: ['--no-workers'] });
  try {
    const up = await s.upload('photo2.jpg', fixture('photo2.jpg'), 'contributor');
    // Long enough for a server worker (were there one) to claim and finish it.
    await sleep(T(1500));
    let jobs = await s.api('/api/v1/jobs', { as: 'admin' });
    assert.equal(jobs.status, 200);
    assert.deepEqual([jobs.json.counts.queued, jobs.json.counts.running, jobs.json.counts.done], [1, 0, 0]);
    const before = await s.api(`/api/v1/assets/${up.asset_id}`, { as: 'viewer' });
    assert.equal(before.json.versions[0].status, 'pending');

    cli(s.lib, ['worker', '--until-idle', '--processes', '1']);
    const after = await s.waitProcessed(up.asset_id);
    assert.equal(after.versions[0].status, 'ready');
    assert.ok(after.versions[0].renditions.some((r) => r.name === 'thumbnail'), 'the worker made the thumbnail');
    jobs = await s.api('/api/v1/jobs', { as: 'admin' });
    assert.equal(jobs.json.counts.queued, 0);
    assert.equal(jobs.json.counts.running, 0);
    assert.ok(jobs.json.counts.done >= 1);
  } finally {
    await s.stop();
  }
});

/* /readyz through plain fetch: checkedFetch refuses any 5xx, and a 503 is
 * this probe's documented answer; the body is still checked against the spec. */
async function readyz(s) {
  const res = await fetch(s.url + '/readyz');
  const bytes = Buffer.from(await res.arrayBuffer());
  validateResponse('GET', '/readyz', res, bytes);
  return { status: res.status, json: JSON.parse(bytes.toString('utf8')) };
}

/* Takes the library's store away and back: its objects/ folder renamed, or
 * on S3 its bucket (still empty: no upload yet) deleted and made again.
 * Returns the pattern the 503's store message must match, and what a
 * public answer must not name (the folder's path; the bucket, the
 * gateway's address). */
function storeGone(s) {
  if (!s.bucket) {
    const objects = path.join(s.lib, 'objects');
    return {
      away: () => fs.renameSync(objects, objects + '.away'),
      back: () => { if (fs.existsSync(objects + '.away')) fs.renameSync(objects + '.away', objects); },
      message: /objects folder is not reachable/,
      hidden: [s.lib],
    };
  }
  let gone = false;
  return {
    away: () => { assert.equal(deleteBucket(s.bucket), 204, 'the empty bucket deleted'); gone = true; },
    back: () => { if (gone) createBucket(s.bucket); gone = false; },
    message: /^the bucket does not answer: HTTP 404 NoSuchBucket/,
    hidden: [s.bucket, new URL(S3.S3_ENDPOINT).host],
  };
}

test('/readyz: 200 with each part ok; 503 naming the store when its folder or bucket is gone', async () => {
  const s = await startServer({ args: ['--no-workers'] });
  const store = storeGone(s);
  try {
    let r = await readyz(s);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ready', database: 'ok', store: 'ok' });

    store.away();
    r = await readyz(s);
    assert.equal(r.status, 503);
    assert.equal(r.json.status, 'not_ready');
    assert.equal(r.json.database, 'ok');
    assert.match(r.json.store, store.message);
    for (const h of store.hidden) assert.ok(!r.json.store.includes(h), `a public answer does not name ${h}: ${r.json.store}`);

    store.back();
    r = await readyz(s);
    assert.equal(r.status, 200);
    assert.equal(r.json.store, 'ok');
  } finally {
    store.back();
    // stop() would refuse the 503s we asked for; check the rest by hand.
    await s.stop({ check: false });
  }
  assert.equal(s.signal, null);
  assert.equal(s.exitCode, 0);
  const bad = s.accessLog.filter((l) => l.status >= 500 && l.path !== '/readyz');
  assert.deepEqual(bad, [], '5xx other than the probe');
  assert.equal(s.accessLog.filter((l) => l.path === '/readyz' && l.status === 503).length, 1);
  assertNoGlibWarnings(s.stderr);
});

// A real Varnish in front of `dam serve`: delivery responses are cached at
// the edge, and dam's purge hook (BAN by surrogate key) makes the edge drop
// them when the asset's delivered bytes change or it must stop being served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startServer, checkedFetch, libSql, fixture, sha256, tmpDir, sleep, T, damBinary as damPath } from './lib/server.mjs';

const VARNISHD = ['/usr/sbin/varnishd', '/usr/bin/varnishd'].find((p) => fs.existsSync(p));

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let s, varnish, edge, workdir;

/** varnishd in the foreground on `port`, with the VCL of docs/delivery.md
 * ("Varnish") pointed at dam on `backendPort`. */
async function startVarnish(port, backendPort) {
  workdir = tmpDir();
  const vcl = path.join(workdir, 'dam.vcl');
  const doc = fs.readFileSync(new URL('../../docs/delivery.md', import.meta.url), 'utf8');
  const m = doc.match(/```vcl\n([\s\S]*?)```/);
  assert.ok(m, 'docs/delivery.md has a VCL example');
  fs.writeFileSync(vcl, m[1].replace(/\.port = "\d+"/, `.port = "${backendPort}"`));
  const proc = spawn(VARNISHD, ['-F', '-f', vcl, '-a', `127.0.0.1:${port}`, '-n', path.join(workdir, 'n'),
    '-s', 'malloc,64m', '-p', 'ban_lurker_sleep=0.05', '-j', 'none'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  proc.stdout.on('data', (d) => { err += d; });
  const until = Date.now() + T(30000);
  for (;;) {
    try {
      const r = await checkedFetch(`http://127.0.0.1:${port}/healthz`);
      if (r.status === 200) break;
    } catch { /* not up yet */ }
    if (proc.exitCode !== null || Date.now() > until) throw new Error('varnishd did not start: ' + err);
    await sleep(100);
  }
  return { proc, url: `http://127.0.0.1:${port}` };
}

before(async () => {
  assert.ok(VARNISHD, 'varnishd is installed (scripts/deps.sh installs the varnish package)');
  // The edge port must be known before dam starts: pick it first.
  const edgePort = await freePort();
  s = await startServer({ conf: `[delivery]\npurge_edges = http://127.0.0.1:${edgePort}\npurge_method = BAN\ntimeout_ms = 2000` });
  varnish = await startVarnish(edgePort, s.port);
  edge = varnish.url;
});

after(async () => {
  if (varnish) {
    varnish.proc.kill('SIGTERM');
    await new Promise((r) => (varnish.proc.exitCode !== null ? r() : varnish.proc.on('exit', r)));
  }
  if (s) await s.stop();
});

async function viaEdge(p) {
  return checkedFetch(edge + p);
}

/** The path of a fresh signed link (no host). */
async function linkPath(id, q) {
  const r = await s.api(`/api/v1/assets/${id}/links?${q}`, { as: 'editor' });
  assert.equal(r.status, 200, r.text);
  return new URL(r.json.url).pathname;
}

/** Waits until dam has sent every queued purge, so a purge of an earlier
 * change cannot land between two requests of a test. Rows kept for their
 * second send (sent_at set) come due only after the delivery timeout
 * (timeout_ms = 2000 here, so resend_s = 4): waited for too. */
async function purgesSent() {
  const until = Date.now() + T(30000);
  for (;;) {
    const n = libSql(s.lib, 'SELECT count(*) FROM purge_outbox');
    if (n === '0') return;
    if (Date.now() > until) throw new Error(`purges still queued: ${n}`);
    await sleep(100);
  }
}

const served = (s2) => s2.accessLog.filter((l) => l.path && l.path.startsWith('/t/')).length;

/** Fetches p through the edge twice and asserts the second answer is the
 * edge's cached copy of the first (a hit carries two transaction ids). */
async function cachedAtEdge(p) {
  const first = await viaEdge(p);
  assert.equal(first.status, 200, first.bytes.toString());
  const second = await viaEdge(p);
  assert.equal(second.status, 200);
  assert.ok(second.bytes.equals(first.bytes));
  assert.match(second.headers.get('x-varnish') || '', /^\d+ \d+$/, 'the second request is a cache hit');
  return first;
}

/** Polls the edge until done(answer) holds: the purge thread sends each
 * queued purge within a few seconds (settle_s 2 + one drain period). */
async function untilEdge(p, done, what) {
  const until = Date.now() + T(30000);
  for (;;) {
    const r = await viaEdge(p);
    if (done(r)) return r;
    if (Date.now() > until) throw new Error(`${what} (edge still answers ${r.status}, x-varnish ${r.headers.get('x-varnish')})`);
    await sleep(200);
  }
}

function widthOf(bytes) {
  const f = path.join(tmpDir(), 'w.img');
  fs.writeFileSync(f, bytes);
  return Number(execFileSync('vipsheader', ['-f', 'width', f], { encoding: 'utf8' }).trim());
}

const signingKey = () => JSON.parse(execFileSync(damPath(), ['--library', s.lib, 'key', 'list'], { encoding: 'utf8' })).find((k) => k.signing).id;
const damCli = (args) => execFileSync(damPath(), ['--library', s.lib, ...args], { encoding: 'utf8' });

let shared;
/** One processed image for the preset tests. */
async function sharedAsset() {
  if (!shared) {
    shared = (await s.upload('image.webp', fixture('image.webp'), 'contributor')).asset_id;
    await s.waitProcessed(shared);
    await purgesSent();
  }
  return shared;
}

test('the edge caches deliveries and drops them when a new version is uploaded', async () => {
  const id = (await s.upload('photo.jpg', fixture('photo.jpg'), 'contributor')).asset_id;
  await s.waitProcessed(id);
  await purgesSent();
  const p = await linkPath(id, 'options=' + encodeURIComponent('w_320,f_jpeg'));
  const first = await viaEdge(p);
  assert.equal(first.status, 200);
  await sleep(300); // the access log arrives on dam's stdout asynchronously
  const origin = served(s);
  const second = await viaEdge(p);
  await sleep(300);
  assert.ok(second.bytes.equals(first.bytes));
  assert.equal(served(s), origin, 'the second request is answered by the edge, not by dam');
  assert.match(second.headers.get('x-varnish') || '', /\d+ \d+/, 'a cache hit carries two transaction ids');

  // A new current version changes the delivered bytes: dam purges the edge.
  const v = await s.api(`/api/v1/assets/${id}/versions`, {
    method: 'POST', as: 'contributor', body: fixture('photo2.jpg'),
    headers: { 'content-type': 'application/octet-stream', 'x-filename': 'photo2.jpg' },
  });
  assert.equal(v.status, 201, v.text);
  await s.waitProcessed(id);
  const until = Date.now() + T(30000);
  let third;
  for (;;) {
    third = await viaEdge(p);
    if (!third.bytes.equals(first.bytes)) break;
    if (Date.now() > until) throw new Error('the edge still serves the old bytes after the new version');
    await sleep(200);
  }
  assert.equal(third.status, 200);
  assert.notEqual(sha256(third.bytes), sha256(first.bytes));
  const f = path.join(tmpDir(), 'n.jpg');
  fs.writeFileSync(f, third.bytes);
  assert.equal(execFileSync('vipsheader', ['-f', 'height', f], { encoding: 'utf8' }).trim(), '240',
    'the new version (640x480 scaled to 320 wide) is what the edge serves now');
});

test('deleting an asset makes the edge stop serving it', async () => {
  const id = (await s.upload('rotated.jpg', fixture('rotated.jpg'), 'contributor')).asset_id;
  await s.waitProcessed(id);
  await purgesSent();
  const p = await linkPath(id, 'options=w_100');
  await cachedAtEdge(p);
  assert.equal((await s.api(`/api/v1/assets/${id}`, { method: 'DELETE', as: 'editor' })).status, 204);
  const until = Date.now() + T(30000);
  for (;;) {
    const r = await viaEdge(p);
    if (r.status === 404) break;
    if (Date.now() > until) throw new Error(`the edge still serves a deleted asset (${r.status})`);
    await sleep(200);
  }
});

// Issue 11, point 3: every change that can make an answer already served
// wrong purges it, through the surrogate keys each answer carries.

test('retiring a signing key makes the edge stop serving links signed with it', async () => {
  const id = (await s.upload('alpha.png', fixture('alpha.png'), 'contributor')).asset_id;
  await s.waitProcessed(id);
  await purgesSent();
  const k1 = signingKey();
  // Version-pinned: the edge may keep it for a year unless purged.
  const p = await linkPath(id, 'options=w_64&version=1');
  const first = await cachedAtEdge(p);
  assert.match(first.headers.get('cache-control'), /immutable/);
  assert.ok(first.headers.get('surrogate-key').split(' ').includes(`key-${k1}`), first.headers.get('surrogate-key'));
  damCli(['key', 'rotate']);
  damCli(['key', 'retire', k1]);
  const r = await untilEdge(p, (a) => a.status === 403, 'links signed with a retired key are still served by the edge');
  assert.match(r.bytes.toString(), /signature/);
  // Links signed with the new key are served (and cached) as before.
  const fresh = await linkPath(id, 'options=w_64&version=1');
  assert.notEqual(fresh, p);
  await cachedAtEdge(fresh);
});

test('changing a preset makes the edge drop answers made with the old one', async () => {
  const id = await sharedAsset();
  const c = await s.api('/api/v1/presets', { method: 'POST', as: 'admin', json: { name: 'cdn-change', spec: 'w_200,f_jpeg', ahead: false } });
  assert.equal(c.status, 201, c.text);
  await purgesSent();
  const p = await linkPath(id, 'preset=cdn-change');
  const first = await cachedAtEdge(p);
  assert.equal(widthOf(first.bytes), 200);
  assert.ok(first.headers.get('surrogate-key').split(' ').includes('preset-cdn-change'));
  const u = await s.api('/api/v1/presets/cdn-change', { method: 'PUT', as: 'admin', json: { spec: 'w_120,f_jpeg', ahead: false } });
  assert.equal(u.status, 200, u.text);
  const r = await untilEdge(p, (a) => a.status === 200 && !a.bytes.equals(first.bytes), 'the edge still serves the old preset');
  assert.equal(widthOf(r.bytes), 120, 'the edge now serves the changed preset');
});

test('removing a preset makes the edge stop serving it', async () => {
  const id = await sharedAsset();
  const c = await s.api('/api/v1/presets', { method: 'POST', as: 'admin', json: { name: 'cdn-gone', spec: 'w_90,f_jpeg', ahead: false } });
  assert.equal(c.status, 201, c.text);
  await purgesSent();
  const p = await linkPath(id, 'preset=cdn-gone');
  assert.equal(widthOf((await cachedAtEdge(p)).bytes), 90);
  assert.equal((await s.api('/api/v1/presets/cdn-gone', { method: 'DELETE', as: 'admin' })).status, 204);
  const r = await untilEdge(p, (a) => a.status === 400, 'the edge still serves a removed preset');
  assert.match(r.bytes.toString(), /unknown preset/);
});

test('purges name whole surrogate keys: purging one preset keeps a preset whose name extends it', async () => {
  const id = await sharedAsset();
  for (const [name, w] of [['cdn-web', 70], ['cdn-web-2', 80]]) {
    const c = await s.api('/api/v1/presets', { method: 'POST', as: 'admin', json: { name, spec: `w_${w},f_jpeg`, ahead: false } });
    assert.equal(c.status, 201, c.text);
  }
  await purgesSent();
  const short = await linkPath(id, 'preset=cdn-web');
  const long = await linkPath(id, 'preset=cdn-web-2');
  await cachedAtEdge(short);
  await cachedAtEdge(long);
  assert.equal((await s.api('/api/v1/presets/cdn-web', { method: 'PUT', as: 'admin', json: { spec: 'w_60,f_jpeg', ahead: false } })).status, 200);
  await untilEdge(short, (a) => a.status === 200 && widthOf(a.bytes) === 60, 'the changed preset is not purged');
  await purgesSent();
  const kept = await viaEdge(long);
  assert.match(kept.headers.get('x-varnish') || '', /^\d+ \d+$/, 'preset-cdn-web-2 was not banned by the purge of preset-cdn-web');
  assert.equal(widthOf(kept.bytes), 80);
});

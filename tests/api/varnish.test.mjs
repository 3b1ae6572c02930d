// A real Varnish in front of `dam serve`: delivery responses are cached at
// the edge, and dam's purge hook (BAN by surrogate key) makes the edge drop
// them when the asset's delivered bytes change or it must stop being served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startServer, checkedFetch, fixture, sha256, tmpDir, sleep, T } from './lib/server.mjs';

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
  s = await startServer({ conf: `[delivery]\npurge_edges = http://127.0.0.1:${edgePort}\npurge_method = BAN` });
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

/** Waits until dam has sent every queued purge (the outbox is empty), so a
 * purge of an earlier change cannot land between two requests of a test. */
async function purgesSent() {
  const until = Date.now() + T(30000);
  for (;;) {
    const n = execFileSync('sqlite3', [path.join(s.lib, 'dam.db'), 'SELECT count(*) FROM purge_outbox'], { encoding: 'utf8' }).trim();
    if (n === '0') return;
    if (Date.now() > until) throw new Error(`purges still queued: ${n}`);
    await sleep(100);
  }
}

const served = (s2) => s2.accessLog.filter((l) => l.path && l.path.startsWith('/t/')).length;

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
  assert.equal((await viaEdge(p)).status, 200);
  assert.equal((await viaEdge(p)).status, 200);
  assert.equal((await s.api(`/api/v1/assets/${id}`, { method: 'DELETE', as: 'editor' })).status, 204);
  const until = Date.now() + T(30000);
  for (;;) {
    const r = await viaEdge(p);
    if (r.status === 404) break;
    if (Date.now() > until) throw new Error(`the edge still serves a deleted asset (${r.status})`);
    await sleep(200);
  }
});

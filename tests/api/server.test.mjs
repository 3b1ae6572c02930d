// Server behaviour: health, metrics, request ids, security headers, errors,
// keep-alive, and graceful shutdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import { startServer, assertErrorShape, rawRequest, parseRaw, rawComplete, checkRaw, sleep, sha256, T, fixture } from './lib/server.mjs';

let s;
before(async () => { s = await startServer(); });
after(async () => { await s.stop(); });

test('/healthz 200 without auth; /readyz 200', async () => {
  const h = await s.api('/healthz');
  assert.equal(h.status, 200);
  assert.deepEqual(h.json, { status: 'ok' });
  const r = await s.api('/readyz');
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'ready');
});

test('/metrics (admin) has dam_http_requests_total with route labels and dam_jobs', async () => {
  await s.upload('m.jpg', fixture('photo2.jpg'), 'admin');
  await s.api('/api/v1/assets', { as: 'viewer' });
  const r = await s.api('/metrics', { as: 'admin' });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  assert.match(r.text, /^dam_http_requests_total\{route="healthz",status="200"\} \d+$/m);
  assert.match(r.text, /^dam_http_requests_total\{route="assets_list",status="200"\} \d+$/m);
  assert.match(r.text, /^dam_http_requests_total\{route="assets_create",status="201"\} \d+$/m);
  assert.match(r.text, /^# TYPE dam_jobs gauge$/m);
  assert.match(r.text, /^dam_jobs\{kind="process",state="\w+"\} \d+$/m);
  assert.match(r.text, /^dam_assets \d+$/m);
  // the heap beside RSS (bench/soak), and the hot cache's bytes
  assert.match(r.text, /^dam_heap_bytes\{state="in_use"\} \d+$/m);
  assert.match(r.text, /^dam_heap_bytes\{state="free"\} \d+$/m);
  assert.match(r.text, /^dam_delivery_hot_bytes \d+$/m);
  assertErrorShape(await s.api('/metrics', { as: 'editor' }), 403);
  assertErrorShape(await s.api('/metrics'), 401);
});

test('X-Request-Id is echoed when sent and generated otherwise', async () => {
  const a = await s.api('/healthz', { headers: { 'x-request-id': 'test-req-42' } });
  assert.equal(a.headers.get('x-request-id'), 'test-req-42');
  const b = await s.api('/healthz');
  const c = await s.api('/healthz');
  assert.match(b.headers.get('x-request-id'), /^[\w.:-]{8,}$/);
  assert.notEqual(b.headers.get('x-request-id'), c.headers.get('x-request-id'));
  const bad = await s.api('/healthz', { headers: { 'x-request-id': 'has spaces<script>' } });
  assert.notEqual(bad.headers.get('x-request-id'), 'has spaces<script>');
  // errors carry it too, and the access log records it
  const e = await s.api('/nope', { headers: { 'x-request-id': 'err-req-7' } });
  assert.equal(e.headers.get('x-request-id'), 'err-req-7');
  await sleep(100);
  assert.ok(s.accessLog.some((l) => l.request_id === 'err-req-7' && l.status === 404 && l.path === '/nope'));
});

test('security headers on every response', async () => {
  for (const r of [await s.api('/healthz'), await s.api('/api/v1/assets'), await s.api('/api/v1/assets', { as: 'viewer' })]) {
    assert.match(r.headers.get('content-security-policy') || '', /frame-ancestors 'none'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    assert.ok(r.headers.get('cache-control'));
    assert.equal(r.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
  }
});

test('errors: unknown route 404, wrong method 405 with Allow, bad paths and duplicate headers 400', async () => {
  assertErrorShape(await s.api('/nope', { as: 'admin' }), 404, 'not_found');
  assertErrorShape(await s.api('/api/v1/assetz', { as: 'admin' }), 404, 'not_found');
  assertErrorShape(await s.api('/api/v1/assets/x/y/z', { as: 'admin' }), 404);
  const m = await s.api('/api/v1/assets', { method: 'PUT', as: 'admin', body: 'x' });
  assertErrorShape(m, 405, 'method_not_allowed');
  assert.deepEqual(m.headers.get('allow').split(/,\s*/).sort(), ['GET', 'POST']);
  const m2 = await s.api('/healthz', { method: 'DELETE' });
  assertErrorShape(m2, 405);
  assert.match(m2.headers.get('allow'), /GET/);
  const m3 = await s.api('/api/v1/uploads', { method: 'GET', as: 'admin' });
  assertErrorShape(m3, 405);
  assert.deepEqual(m3.headers.get('allow').split(/,\s*/).sort(), ['OPTIONS', 'POST']);
  // malformed paths (sent raw: fetch would normalise them)
  for (const p of ['/api/v1/assets/%00', '/api/v1/../etc/passwd', '/api/v1/assets/%zz', '/api/v1/assets/%ff']) {
    const r = parseRaw(await rawRequest(s.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    assert.equal(r.status, 400, p);
    assert.equal(JSON.parse(r.body.toString()).error.code, 'bad_path');
  }
  const dup = parseRaw(await rawRequest(s.port, `GET /api/v1/assets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.tokens.admin}\r\nAuthorization: Bearer ${s.tokens.viewer}\r\nConnection: close\r\n\r\n`));
  assert.equal(dup.status, 400);
  assert.equal(JSON.parse(dup.body.toString()).error.code, 'duplicate_header');
  // a body on a route that takes none
  const nb = parseRaw(await rawRequest(s.port, `GET /api/v1/assets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.tokens.admin}\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`));
  assert.equal(nb.status, 413);
  assert.equal(JSON.parse(nb.body.toString()).error.code, 'too_large');
});

test('HTTP/1.1 keep-alive: several requests on one connection', async () => {
  const sock = net.connect(s.port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => { buf = Buffer.concat([buf, d]); });
  const one = async (p) => {
    buf = Buffer.alloc(0);
    sock.write(`GET ${p} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.tokens.viewer}\r\n\r\n`);
    const until = Date.now() + T(10000);
    while (!rawComplete(buf)) { assert.ok(Date.now() < until, 'response in time'); await sleep(10); }
    return checkRaw('GET', p, parseRaw(buf));
  };
  const a = await one('/healthz');
  const b = await one('/api/v1/assets');
  const c = await one('/readyz');
  assert.deepEqual([a.status, b.status, c.status], [200, 200, 200]);
  assert.notEqual(a.headers.connection, 'close');
  assert.ok(!sock.destroyed, 'the connection stays open');
  sock.destroy();
});

test('no 5xx in the access log so far', () => {
  assert.ok(s.accessLog.length > 10);
  for (const l of s.accessLog) {
    assert.ok(l.status < 500, JSON.stringify(l));
    for (const k of ['time', 'method', 'path', 'status', 'request_id']) assert.ok(k in l, k);
  }
});

function refused(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(false); });
    c.on('error', (e) => resolve(e.code === 'ECONNREFUSED'));
  });
}

test('graceful shutdown: a download in flight completes; new connections are refused; exit 0', async () => {
  const g = await startServer({ workers: -1, args: ['--stop-deadline', String(Math.ceil(30 * Math.max(1, T(1000) / 1000)))] });
  const big = crypto.randomBytes(24 << 20);
  const id = (await g.upload('big.bin', big, 'admin')).asset_id;
  const sock = net.connect(g.port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  const chunks = [];
  sock.write(`GET /api/v1/assets/${id}/original HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${g.tokens.viewer}\r\nConnection: close\r\n\r\n`);
  // read a little, then stop reading so the server is blocked mid-response
  await new Promise((r) => sock.once('data', (d) => { chunks.push(d); sock.pause(); r(); }));
  g.proc.kill('SIGTERM');
  await sleep(T(500));
  assert.equal(g.exitCode, undefined, 'still running while the download is in flight');
  assert.ok(await refused(g.port), 'new connections are refused after SIGTERM');
  const done = new Promise((r) => sock.on('end', r));
  sock.on('data', (d) => chunks.push(d));
  sock.resume();
  await done;
  const res = parseRaw(Buffer.concat(chunks));
  assert.equal(res.status, 200);
  assert.equal(res.body.length, big.length);
  assert.equal(sha256(res.body), sha256(big));
  await g.stop();
});

test('graceful shutdown: an upload in flight (body still arriving) completes with 201; exit 0', async () => {
  const g = await startServer({ workers: -1, args: ['--stop-deadline', String(Math.ceil(30 * Math.max(1, T(1000) / 1000)))] });
  const body = crypto.randomBytes(8 << 20);
  const sock = net.connect(g.port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  const chunks = [];
  sock.on('data', (d) => chunks.push(d));
  const closed = new Promise((r) => sock.on('close', r));
  sock.write(`POST /api/v1/assets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${g.tokens.contributor}\r\n` +
    `Content-Type: application/octet-stream\r\nX-Filename: slow.bin\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
  const piece = body.length / 8;
  for (let i = 0; i < 8; i++) {
    sock.write(body.subarray(i * piece, (i + 1) * piece));
    if (i === 2) {
      await sleep(T(200));
      g.proc.kill('SIGTERM');
    }
    await sleep(T(150));
  }
  await Promise.race([closed, sleep(T(30000))]);
  const raw = Buffer.concat(chunks);
  assert.ok(raw.length > 0, 'a response arrived for the upload in flight');
  const res = parseRaw(raw);
  assert.equal(res.status, 201, res.body.toString());
  assert.equal(JSON.parse(res.body.toString()).results[0].hash, sha256(body));
  await g.stop();
});

test('SIGTERM on an idle server with job workers exits promptly (workers stop on SIGTERM)', async () => {
  const g = await startServer({ users: false, workers: 1, args: ['--stop-deadline', String(Math.ceil(20 * SLOWF()))] });
  await sleep(T(1000)); // let the worker start
  const t0 = Date.now();
  await g.stop();
  const took = Date.now() - t0;
  assert.ok(took < T(8000), `stopping took ${took} ms (the worker ignored SIGTERM and was killed at --stop-deadline)`);
});
function SLOWF() { return Math.max(1, T(1000) / 1000); }

// Protocols and operations: HTTP/2 over cleartext (prior knowledge) and over
// TLS with ALPN, trusted proxies and X-Forwarded-For, the per-client
// connection limit, and SIGHUP reloading dam.conf.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, checkRaw, tmpDir, sleep, T } from './lib/server.mjs';

function h2get(url, pathname, headers = {}, opts = {}) {
  return new Promise((resolve, reject) => {
    const client = http2.connect(url, opts);
    client.on('error', reject);
    const req = client.request({ ':path': pathname, ...headers });
    let status, head = {};
    const chunks = [];
    req.on('response', (h) => { status = h[':status']; head = h; });
    req.on('data', (d) => { chunks.push(d); });
    req.on('end', () => {
      client.close();
      const body = Buffer.concat(chunks);
      try {
        checkRaw('GET', pathname, { status, headers: head, body });
      } catch (e) {
        reject(e);
        return;
      }
      resolve({ status, body: body.toString('utf8') });
    });
    req.on('error', reject);
    req.end();
  });
}

test('HTTP/2 with prior knowledge over cleartext (h2c)', async () => {
  const s = await startServer({ workers: -1 });
  try {
    const r = await h2get(s.url, '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
    const a = await h2get(s.url, '/api/v1/assets', { authorization: `Bearer ${s.tokens.viewer}` });
    assert.equal(a.status, 200);
    assert.ok(Array.isArray(JSON.parse(a.body).items));
  } finally {
    await s.stop();
  }
});

test('TLS: HTTPS with HTTP/2 negotiated by ALPN, and HTTP/1.1; the session cookie is Secure', async () => {
  const d = tmpDir();
  const key = path.join(d, 'key.pem'), cert = path.join(d, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const s = await startServer({ workers: -1, args: ['--tls-cert', cert, '--tls-key', key] });
  try {
    assert.match(s.url, /^https:\/\//);
    const r = await h2get(s.url, '/healthz', {}, { rejectUnauthorized: false });
    assert.equal(r.status, 200);
    const login = await new Promise((resolve, reject) => {
      const body = JSON.stringify({ username: 'admin', password: s.adminPassword });
      const req = https.request(`${s.url}/api/v1/session`, { method: 'POST', rejectUnauthorized: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => {
          try {
            checkRaw('POST', '/api/v1/session', { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) });
            resolve(res);
          } catch (e) {
            reject(e);
          }
        });
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(login.statusCode, 201);
    assert.equal(login.httpVersion, '1.1');
    const cookie = login.headers['set-cookie'].join(';');
    assert.match(cookie, /Secure/);
    assert.match(cookie, /HttpOnly/);
    assert.ok(login.headers['strict-transport-security']);
  } finally {
    await s.stop();
  }
});

test('X-Forwarded-For is believed only from a trusted proxy', async () => {
  const plain = await startServer({ workers: -1 });
  try {
    await plain.api('/healthz', { headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'xff-untrusted' } });
    await sleep(T(200));
    const line = plain.accessLog.find((l) => l.request_id === 'xff-untrusted');
    assert.equal(line.client, '127.0.0.1');
  } finally {
    await plain.stop();
  }
  const s = await startServer({ workers: -1, args: ['--trusted-proxies', '127.0.0.1'] });
  try {
    await s.api('/healthz', { headers: { 'x-forwarded-for': '198.51.100.2, 203.0.113.7', 'x-request-id': 'xff-trusted' } });
    await sleep(T(200));
    const line = s.accessLog.find((l) => l.request_id === 'xff-trusted');
    assert.equal(line.client, '203.0.113.7', 'the right-most untrusted address');
  } finally {
    await s.stop();
  }
});

test('connections per client address are limited', async () => {
  const s = await startServer({ workers: -1, args: ['--max-conns-per-client', '3'] });
  const socks = [];
  try {
    for (let i = 0; i < 3; i++) {
      const c = net.connect(s.port, '127.0.0.1');
      await new Promise((r) => c.on('connect', r));
      socks.push(c);
    }
    await sleep(T(200));
    const extra = net.connect(s.port, '127.0.0.1');
    const closed = await new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), T(3000));
      extra.on('close', () => { clearTimeout(t); resolve(true); });
      extra.on('error', () => {});
    });
    assert.ok(closed, 'the 4th connection is closed at once');
    for (const c of socks) c.destroy();
    await sleep(T(300));
    const r = await s.api('/healthz');
    assert.equal(r.status, 200, 'after the others closed, a new connection is served');
  } finally {
    for (const c of socks) c.destroy();
    await s.stop();
  }
});

test('SIGHUP reloads dam.conf; a bad file keeps the old configuration and the server goes on', async () => {
  const s = await startServer({ workers: -1 });
  try {
    const conf = path.join(s.lib, 'dam.conf');
    fs.appendFileSync(conf, '\n[limits]\nmax_dimension = 40000\n');
    s.proc.kill('SIGHUP');
    for (let i = 0; i < 50 && !s.stderr.some((l) => /configuration reloaded/.test(l)); i++) await sleep(T(100));
    assert.ok(s.stderr.some((l) => /configuration reloaded/.test(l)), s.stderr.join('\n'));
    fs.appendFileSync(conf, '\nbogus_key = 1\n');
    s.proc.kill('SIGHUP');
    for (let i = 0; i < 50 && !s.stderr.some((l) => /reload failed/.test(l)); i++) await sleep(T(100));
    assert.ok(s.stderr.some((l) => /reload failed, keeping the old configuration: .*bogus_key/.test(l)), s.stderr.join('\n'));
    assert.equal((await s.api('/healthz')).status, 200);
  } finally {
    await s.stop();
  }
});

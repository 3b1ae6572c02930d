// The web UI's files, embedded in the binary: the page for every /ui/ path,
// hashed static files cached for a year, strong ETags and 304, gzip when
// asked, no inline scripts (CSP), no login needed to load them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer, ROOT, rawRequest, parseRaw, rawComplete, checkRaw } from './lib/server.mjs';

let s;
before(async () => { s = await startServer({ users: false }); });
after(async () => { await s.stop(); });

/** A raw GET (no automatic decompression): {status, headers, body}. */
function raw(p, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request(s.url + p, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(checkRaw(method, p, { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

let page;
test('/ redirects to /ui/; every /ui/ path is the page, without login', async () => {
  const r = await raw('/');
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, '/ui/');
  page = await raw('/ui/');
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /^text\/html/);
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.match(page.headers.etag, /^"[0-9a-f]{32}"$/);
  for (const p of ['/ui/library', '/ui/asset/01a2/compare?a=1&b=2', '/ui/admin/users', '/ui/a/b/c/d']) {
    const x = await raw(p);
    assert.equal(x.status, 200, p);
    assert.ok(x.body.equals(page.body), `${p} is the page`);
  }
  assert.equal((await raw('/ui')).status, 404, 'only /ui/ and below');
});

test('the page has no inline script or style, and the CSP forbids them', async () => {
  const html = page.body.toString('utf8');
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(html), 'every script has a src');
  assert.ok(!/<style|\sstyle=|\son[a-z]+=/i.test(html), 'no inline style or event handler');
  const csp = page.headers['content-security-policy'];
  assert.match(csp, /script-src 'self';/);
  assert.match(csp, /style-src 'self'( 'sha256-[^']+')?;/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  assert.match(csp, /frame-ancestors 'none'/);
});

test('static files: right type, cached a year, ETag and 304, gzip when asked, HEAD', async () => {
  const html = page.body.toString('utf8');
  const refs = [...html.matchAll(/(?:src|href)="(\/ui\/static\/[^"]+)"/g)].map((m) => m[1]);
  assert.ok(refs.some((x) => /\/app-[A-Z0-9]+\.js$/.test(x)), `the page loads the app script: ${refs}`);
  assert.ok(refs.some((x) => /\/app-[A-Z0-9]+\.css$/.test(x)), 'and its styles');
  const dist = path.join(ROOT, 'web/dist');
  for (const ref of refs) {
    const r = await raw(ref);
    assert.equal(r.status, 200, ref);
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(r.headers['content-type'], ref.endsWith('.js') ? /^text\/javascript/ : ref.endsWith('.css') ? /^text\/css/ : /^image\/svg\+xml/);
    assert.equal(r.headers['content-encoding'], undefined, 'identity unless asked');
    if (fs.existsSync(dist))
      assert.ok(r.body.equals(fs.readFileSync(path.join(dist, ref.slice('/ui/'.length)))), `${ref} is web/dist's file (rebuild dam after building web/)`);
    const again = await raw(ref, { 'if-none-match': r.headers.etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    const gz = await raw(ref, { 'accept-encoding': 'br, gzip;q=0.8' });
    if (gz.headers['content-encoding'] === 'gzip') {
      assert.ok(zlib.gunzipSync(gz.body).equals(r.body), 'gzip variant holds the same bytes');
      assert.ok(gz.body.length < r.body.length);
      assert.notEqual(gz.headers.etag, r.headers.etag, 'its own strong ETag');
      assert.equal(gz.headers.vary, 'accept-encoding');
      assert.equal((await raw(ref, { 'accept-encoding': 'gzip', 'if-none-match': gz.headers.etag })).status, 304);
    } else {
      assert.ok(!ref.endsWith('.js'), 'scripts have a gzip variant');
    }
    assert.equal((await raw(ref, { 'accept-encoding': 'gzip;q=0' })).headers['content-encoding'], undefined, 'q=0 refuses gzip');
    const head = await raw(ref, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), r.body.length);
    assert.equal(head.body.length, 0);
  }
  const missing = await raw('/ui/static/app-NOPE.js');
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body).error.code, 'not_found');
  assert.equal((await raw('/ui/static/')).status, 404);
  const dots = parseRaw(await rawRequest(s.port, 'GET /ui/static/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', { until: rawComplete }));
  assert.equal(dots.status, 400, 'dot segments are refused');
});

// Shared helpers for the HTTP API tests: start a real `dam serve` on a free
// port with a fresh library, create one user (and API token) per role, talk
// to it, and stop it with SIGTERM (exit code 0 asserted).
//
//   DAM=build/dam FIXTURES=build/fixtures DAM_TEST_SLOW=3 tests/api/run.sh
//
// Only Node 20 built-ins are used.
import { spawn, execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { validateResponse, loadSpec, specOperations, sourceRoutes } from './openapi.mjs';
import { S3, newBucketStore } from './s3.mjs';

export { sourceRoutes };

// Every dam these tests start (and its job children) aborts on a GLib
// critical or warning, so a double unref or a loader's complaint fails the
// test that caused it (scripts/test.sh sets the same).
process.env.G_DEBUG ??= 'fatal-warnings';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SLOW = Number(process.env.DAM_TEST_SLOW || 1) || 1;
const DAM_SRC = path.resolve(ROOT, process.env.DAM || 'build/dam');
export const FIXTURES = path.resolve(ROOT, process.env.FIXTURES || 'build/fixtures');
export const ROLES = ['viewer', 'contributor', 'editor', 'admin'];

/** ms scaled by DAM_TEST_SLOW. */
export const T = (ms) => Math.round(ms * SLOW);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function fixture(name) {
  return fs.readFileSync(path.join(FIXTURES, name));
}
export const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

/** Bytes that are new to the library (dedup would otherwise merge uploads). */
export function uniqueText(label = 'x') {
  return Buffer.from(`dam api test ${label} ${crypto.randomUUID()}\n`);
}

let tmpRoot;
/** A private temp dir for this test file (removed at process exit). */
export function tmpDir() {
  if (!tmpRoot) {
    tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dam-api-'));
    process.on('exit', () => fs.rmSync(tmpRoot, { recursive: true, force: true }));
  }
  return fs.mkdtempSync(path.join(tmpRoot, 'd'));
}

let damCopy;
/* The binary is copied once per test file, so a concurrent rebuild of
 * build/dam cannot swap it out from under a running server (the server
 * spawns its job workers from its own executable). */
export function damBinary() {
  if (!damCopy) {
    if (!fs.existsSync(DAM_SRC)) throw new Error(`no dam binary at ${DAM_SRC} (set DAM=)`);
    if (!fs.existsSync(path.join(FIXTURES, 'photo.jpg')))
      throw new Error(`no fixtures in ${FIXTURES} (run tests/gen-fixtures.sh)`);
    damCopy = path.join(tmpDir(), 'dam');
    for (let i = 0; ; i++) {
      try {
        fs.copyFileSync(DAM_SRC, damCopy);
        fs.chmodSync(damCopy, 0o755);
        execFileSync(damCopy, ['--help'], { stdio: 'ignore' });
        break;
      } catch (e) {
        if (i > 20) throw e;
        execFileSync('sleep', ['0.5']);
      }
    }
  }
  return damCopy;
}

/** Runs the CLI against a library; returns stdout. */
export function cli(lib, args, input) {
  return execFileSync(damBinary(), ['--library', lib, ...args], {
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: T(60000),
  });
}

// DAM_TEST_PG_URL: every new library gets a fresh PostgreSQL database of
// its own on that server (tests/pg/api.sh starts one), made with psql
// through the URL's socket, instead of dam.db.
const PG_URL = process.env.DAM_TEST_PG_URL || '';
let pgDatabases = 0;

/** A URL of a fresh, empty database on DAM_TEST_PG_URL's server. */
export function newPgDatabase() {
  const m = PG_URL.match(/^(postgres(?:ql)?:\/\/[^/?]*\/)([^?]*)(.*)$/);
  if (!m) throw new Error(`DAM_TEST_PG_URL is not a postgres:// URL with a database: ${PG_URL}`);
  const name = `dam_${process.pid}_${++pgDatabases}`;
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${name}`, PG_URL],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: T(30000) });
  return m[1] + name + m[3];
}

/**
 * `dam init lib`, on a fresh PostgreSQL database when DAM_TEST_PG_URL is
 * set, and with its blobs in a new bucket of its own when DAM_TEST_S3_ENV
 * names a gateway (lib/s3.mjs; tests/pg/api.sh and tests/s3/run.sh set
 * it): the appended [store] wins over the one dam init wrote. Returns the
 * bucket's name, or null on the objects/ folder.
 */
export function initLibrary(lib) {
  const db = PG_URL ? ['--database', newPgDatabase()] : [];
  execFileSync(damBinary(), ['init', lib, ...db], { stdio: ['ignore', 'ignore', 'pipe'], timeout: T(30000) });
  if (!S3) return null;
  const { bucket, conf } = newBucketStore(tmpDir());
  fs.appendFileSync(path.join(lib, 'dam.conf'), '\n' + conf);
  return bucket;
}

/**
 * `dam config push` when the library's database holds shared settings (a
 * PostgreSQL library: dam init pushed them), so shared keys a test wrote
 * into dam.conf apply there as they do on an SQLite library that never
 * pushed (docs/configuration.md, "where it lives").
 */
export function pushSettingsIfStored(lib) {
  if (libSql(lib, 'SELECT count(*) FROM settings') === '0') return;
  execFileSync(damBinary(), ['--library', lib, 'config', 'push'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: T(30000) });
}

/** The database URL of a library made by initLibrary ('' for dam.db). */
function libraryDbUrl(lib) {
  const m = fs.readFileSync(path.join(lib, 'dam.conf'), 'utf8').match(/^url = (\S+)$/m);
  return m ? m[1] : '';
}

/**
 * Runs one read-only query on a library's database beside its running
 * server (sqlite3 on dam.db, waiting for the server's write lock, or psql
 * on its PostgreSQL database); returns the rows as text, columns joined by
 * '|', trimmed. Write the query in SQL both engines take.
 */
export function libSql(lib, query) {
  const url = libraryDbUrl(lib);
  if (url) {
    return execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', query, url],
      { encoding: 'utf8', timeout: T(30000) }).trim();
  }
  return execFileSync('sqlite3', ['-readonly', '-cmd', '.timeout 10000', path.join(lib, 'dam.db'), query],
    { encoding: 'utf8', timeout: T(30000) }).trim();
}

function lines(stream, onLine) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

/**
 * Starts `dam serve` on 127.0.0.1:0 with a fresh library.
 * opts.args: extra serve arguments; opts.users: false to skip creating users;
 * opts.conf: text appended to the library's dam.conf before the start;
 * opts.prepare(lib): called after `dam init`, before the start (e.g. a CLI ingest);
 * opts.reuse: the library of an earlier server to start again (no init, no users made).
 * Returns { url, lib, bucket, proc, adminPassword, users: {role: {name, password, token}},
 *           tokens: {role: secret}, accessLog: [], stdout: [], stderr: [],
 *           api(), stop(), exited } (bucket: the library's own on DAM_TEST_S3_ENV's
 *           gateway, null on the objects/ folder, undefined with opts.reuse).
 */
export async function startServer(opts = {}) {
  const dam = damBinary();
  const dir = tmpDir();
  const lib = opts.reuse || path.join(dir, 'lib');
  const bucket = opts.reuse ? undefined : initLibrary(lib);
  if (opts.prepare) opts.prepare(lib);
  if (opts.conf) {
    fs.appendFileSync(path.join(lib, 'dam.conf'), '\n' + opts.conf + '\n');
    pushSettingsIfStored(lib);
  }
  // A short stop deadline by default: job workers do not stop on SIGTERM
  // (see server.test.mjs), and each stop would otherwise take 20 s.
  const deadline = (opts.args || []).includes('--stop-deadline') ? [] : ['--stop-deadline', String(Math.ceil(3 * SLOW))];
  const args = ['--library', lib, 'serve', '--listen', '127.0.0.1:0', '--workers', String(opts.workers ?? 1), ...deadline, ...(opts.args || [])];
  const proc = spawn(dam, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const s = {
    lib, bucket, proc, url: null, adminPassword: null, users: {}, tokens: {},
    accessLog: [], stdout: [], stderr: [], exitCode: undefined, signal: undefined,
  };
  s.exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    s.exitCode = code;
    s.signal = signal;
    resolve({ code, signal });
  }));
  // DAM_TEST_SERVER_LOG=FILE: every server's stderr, and its access log
  // lines of 5xx answers, are also appended there (the errors behind a 500
  // "it has been logged", for a run to look back at).
  lines(proc.stderr, (l) => {
    s.stderr.push(l);
    if (process.env.DAM_TEST_SERVER_LOG) fs.appendFileSync(process.env.DAM_TEST_SERVER_LOG, l + '\n');
  });
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dam serve did not start: ' + s.stderr.join('\n'))), T(30000));
    lines(proc.stdout, (l) => {
      s.stdout.push(l);
      if (process.env.DAM_TEST_SERVER_LOG && l.includes('"status":5')) fs.appendFileSync(process.env.DAM_TEST_SERVER_LOG, l + '\n');
      let m;
      if ((m = l.match(/created administrator "admin" with password (\S+)/))) s.adminPassword = m[1];
      if ((m = l.match(/listening on (https?:\/\/\S+)/))) {
        clearTimeout(timer);
        resolve(m[1]);
      }
      if (l.startsWith('{')) {
        try { s.accessLog.push(JSON.parse(l)); } catch { /* not a log line */ }
      }
    });
    s.exited.then(({ code }) => reject(new Error(`dam serve exited ${code}: ${s.stderr.join('\n')}`)));
  });
  s.url = await listening;
  s.port = Number(new URL(s.url).port);
  // opts.reuse: a library started before, whose users already exist
  if (!opts.reuse) {
    assert.ok(s.adminPassword, 'first start prints the admin password');
    s.users.admin = { name: 'admin', password: s.adminPassword };
  }

  if (opts.users !== false && !opts.reuse) {
    for (const role of ['viewer', 'contributor', 'editor']) {
      const name = `${role}1`;
      const password = `pw-${role}-${crypto.randomBytes(6).toString('hex')}`;
      cli(lib, ['user', 'add', name, '--role', role, '--password-stdin'], password + '\n');
      s.users[role] = { name, password };
    }
    for (const role of ROLES) {
      const out = cli(lib, ['token', 'create', '--user', s.users[role].name]);
      const m = out.match(/^secret: (\S+)$/m);
      assert.ok(m, 'token create prints the secret: ' + out);
      s.users[role].token = m[1];
      s.tokens[role] = m[1];
    }
  }

  /** Adds a user with role and returns {name, password, token}. */
  s.addUser = (name, role) => {
    const password = `pw-${crypto.randomBytes(8).toString('hex')}`;
    cli(lib, ['user', 'add', name, '--role', role, '--password-stdin'], password + '\n');
    const m = cli(lib, ['token', 'create', '--user', name]).match(/^secret: (\S+)$/m);
    return { name, password, token: m[1] };
  };

  /**
   * fetch against the server. o.as: a role name (uses its token) or a raw
   * token; o.json: a value to send as JSON. Returns the Response with
   * .bytes (Buffer), .text and .json (parsed when JSON) filled in. Every
   * response is checked: never 5xx, and every error (>= 400) has the
   * {error:{code,message}} shape.
   */
  s.api = async (p, o = {}) => {
    const headers = { ...(o.headers || {}) };
    const tok = o.as ? (s.tokens[o.as] || o.as) : null;
    if (tok) headers.authorization = `Bearer ${tok}`;
    let body = o.body;
    if (o.json !== undefined) {
      body = typeof o.json === 'string' ? o.json : JSON.stringify(o.json);
      headers['content-type'] ??= 'application/json';
    }
    return checkedFetch(s.url + p, { method: o.method || 'GET', headers, body });
  };

  /** Uploads bytes as a raw body; returns the parsed response. */
  s.upload = async (name, bytes, as = 'admin', extra = {}) => {
    const r = await s.api('/api/v1/assets', {
      method: 'POST', as, body: bytes,
      headers: { 'content-type': 'application/octet-stream', 'x-filename': encodeURIComponent(name), ...extra },
    });
    assert.ok(r.status === 201 || r.status === 200, `upload ${name}: ${r.status} ${r.text}`);
    return r.json.results[0];
  };

  /** Waits until no job of the asset is queued or running: "ready" comes
   * before the channel presets' job, which adds renditions later. */
  s.waitJobsIdle = async (id) => {
    const until = Date.now() + T(60000);
    for (;;) {
      const r = await s.api('/api/v1/jobs?limit=500', { as: 'admin' });
      assert.equal(r.status, 200);
      const open = (r.json.items || []).filter((j) => j.asset_id === id && (j.state === 'queued' || j.state === 'running'));
      if (!open.length) return;
      if (Date.now() > until) throw new Error(`jobs of ${id} still open: ${JSON.stringify(open)}`);
      await sleep(100);
    }
  };

  /** Polls the asset until its current version is ready (or failed). */
  s.waitProcessed = async (id, as = 'admin', want = ['ready', 'failed']) => {
    const until = Date.now() + T(60000);
    for (;;) {
      const r = await s.api(`/api/v1/assets/${id}`, { as });
      assert.equal(r.status, 200);
      if (want.includes(r.json.versions[0].status)) return r.json;
      if (Date.now() > until) throw new Error(`asset ${id} not processed: ${JSON.stringify(r.json.versions[0])}`);
      await sleep(100);
    }
  };

  /** Number of live (or deleted) assets. */
  s.count = async (deleted = false) => {
    const r = await s.api(`/api/v1/assets?limit=1000${deleted ? '&deleted=true' : ''}`, { as: 'admin' });
    assert.equal(r.status, 200);
    return r.json.items.length;
  };

  /** SIGTERM, wait for exit; asserts exit code 0 and no 5xx in the access log. */
  s.stop = async ({ check = true } = {}) => {
    if (s.exitCode === undefined) proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), T(40000));
    const { code, signal } = await s.exited;
    clearTimeout(t);
    if (check) {
      assert.equal(signal, null, `dam serve was killed by ${signal}; stderr:\n${s.stderr.join('\n')}`);
      assert.equal(code, 0, `dam serve exit code; stderr:\n${s.stderr.join('\n')}`);
      assertNo5xx(s);
      assertNoGlibWarnings(s.stderr);
      if (S3) assert.ok(![...s.stderr, ...s.stdout].some((l) => l.includes(S3.S3_SECRET)), 'the S3 secret in the server output');
      if (s.bucket) assertNoLocalObjects(lib);
    }
  };
  return s;
}

/**
 * fetch(url, init) for every request the API tests send to a dam server
 * (directly or through an edge cache): no redirects followed, a 60 s
 * timeout. Returns the Response with .bytes (Buffer), .text and .json
 * (parsed when JSON) filled in, after checking it: never 5xx, errors have
 * the {error:{code,message}} shape, and the status, Content-Type and body
 * are what docs/openapi.yaml documents for the route (lib/openapi.mjs).
 */
export async function checkedFetch(url, init = {}) {
  const method = init.method || 'GET';
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(T(60000)), ...init });
  res.bytes = Buffer.from(await res.arrayBuffer());
  res.text = res.bytes.toString('utf8');
  res.json = null;
  if ((res.headers.get('content-type') || '').startsWith('application/json') && res.bytes.length) {
    res.json = JSON.parse(res.text);
  }
  const where = new URL(url).pathname + new URL(url).search;
  checkResponse(res, method, where);
  validateResponse(method, where, res, res.bytes);
  return res;
}

/**
 * The same checks as checkedFetch() for an answer read another way (raw
 * HTTP/1.1, http.request, HTTP/2): r is {status, headers: {lower-case
 * name: value}, body: Buffer}. Returns r.
 */
export function checkRaw(method, p, r) {
  const get = (n) => (Array.isArray(r.headers[n]) ? r.headers[n].join(', ') : r.headers[n] ?? null);
  const res = { status: r.status, headers: { get }, text: r.body.toString('utf8') };
  checkResponse(res, method, p);
  validateResponse(method, p, res, r.body);
  return r;
}

/** Fails when stderr lines (of dam or its job children) hold a GLib
 * critical ("GLib-GObject-CRITICAL **") or warning. libvips's warnings
 * about a damaged or unusual input file ("VIPS-WARNING **") are not ours:
 * media/init.c explains them. */
export function assertNoGlibWarnings(lines) {
  const bad = lines.filter((l) => /-CRITICAL \*\*|-WARNING \*\*/.test(l) && !/VIPS-WARNING \*\*/.test(l));
  assert.deepEqual(bad, [], 'GLib criticals/warnings on stderr');
}

/** Fails when a library on S3 holds a file under objects/ (its blobs
 * belong in its bucket). */
function assertNoLocalObjects(lib) {
  const dir = path.join(lib, 'objects');
  const files = fs.existsSync(dir)
    ? fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name) : [];
  assert.deepEqual(files, [], `files in the objects/ folder of a library on S3`);
}

/** Fails when any access-log line reports a status >= 500. */
export function assertNo5xx(s) {
  const bad = s.accessLog.filter((l) => l.status >= 500);
  assert.deepEqual(bad, [], 'access log has 5xx responses');
}

/** Every response: not 5xx; errors have {error:{code,message}}. */
export function checkResponse(res, method, p) {
  assert.ok(res.status < 500, `${method} ${p} answered ${res.status}: ${res.text}`);
  if (res.status >= 400 && method !== 'HEAD') assertErrorShape(res, undefined, undefined, `${method} ${p}`);
}

export function assertErrorShape(res, status, code, what = '') {
  if (status !== undefined) assert.equal(res.status, status, `${what} status (body ${res.text})`);
  assert.match(res.headers.get('content-type') || '', /^application\/json/, `${what} error content-type`);
  const j = JSON.parse(res.text);
  assert.equal(typeof j.error, 'object', `${what} has error object: ${res.text}`);
  assert.equal(typeof j.error.code, 'string', `${what} error.code: ${res.text}`);
  assert.equal(typeof j.error.message, 'string', `${what} error.message: ${res.text}`);
  assert.ok(j.error.message.length > 0);
  if ('field' in j.error) assert.equal(typeof j.error.field, 'string');
  if (code !== undefined) assert.equal(j.error.code, code, `${what} error code (body ${res.text})`);
  return j.error;
}

/**
 * A multipart/form-data body. parts: [{name, filename?, data, type?}]
 * (filename may be a Buffer to send raw bytes). Returns {body, type, boundary}.
 */
export function multipart(parts, boundary = '----dam' + crypto.randomBytes(12).toString('hex')) {
  const chunks = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    const pieces = [Buffer.from(head)];
    if (p.filename !== undefined) {
      pieces.push(Buffer.from('; filename="'), Buffer.isBuffer(p.filename) ? p.filename : Buffer.from(p.filename), Buffer.from('"'));
    }
    pieces.push(Buffer.from(`\r\n${p.filename !== undefined ? `Content-Type: ${p.type || 'application/octet-stream'}\r\n` : ''}\r\n`));
    chunks.push(...pieces, Buffer.isBuffer(p.data) ? p.data : Buffer.from(String(p.data)), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}`, boundary };
}

/**
 * A raw HTTP/1.1 exchange over node:net: writes `data` (string/Buffer or
 * an array of pieces with optional delays) and resolves with the raw reply
 * once the server closes or `until(buffer)` is true.
 */
export async function rawRequest(port, data, opts = {}) {
  const reply = await rawExchange(port, data, opts);
  // A complete answer (Content-Length framing) is checked like any other;
  // cut-off requests get none.
  const first = (Array.isArray(data) ? data[0] : data).toString('latin1');
  const m = first.match(/^([A-Z]+) (\S+) HTTP\/1\.1\r\n/);
  if (m && rawComplete(reply)) checkRaw(m[1], m[2], parseRaw(reply));
  return reply;
}

function rawExchange(port, data, { until, timeout = T(30000) } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const got = [];
    const t = setTimeout(() => { sock.destroy(); resolve(Buffer.concat(got)); }, timeout);
    sock.on('data', (d) => {
      got.push(d);
      if (until && until(Buffer.concat(got))) { clearTimeout(t); sock.destroy(); resolve(Buffer.concat(got)); }
    });
    sock.on('error', (e) => { clearTimeout(t); reject(e); });
    sock.on('close', () => { clearTimeout(t); resolve(Buffer.concat(got)); });
    sock.on('connect', () => sock.write(data));
  });
}

/** Parses a raw HTTP/1.1 response: {status, headers, body}. */
export function parseRaw(buf) {
  const i = buf.indexOf('\r\n\r\n');
  assert.ok(i > 0, 'a complete response head: ' + buf.toString('latin1').slice(0, 200));
  const head = buf.subarray(0, i).toString('latin1').split('\r\n');
  const status = Number(head[0].split(' ')[1]);
  const headers = {};
  for (const l of head.slice(1)) {
    const c = l.indexOf(':');
    headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  return { status, headers, body: buf.subarray(i + 4) };
}

/** True once the raw response in buf is complete (Content-Length framing). */
export function rawComplete(buf) {
  const i = buf.indexOf('\r\n\r\n');
  if (i < 0) return false;
  const m = buf.subarray(0, i).toString('latin1').match(/content-length:\s*(\d+)/i);
  return m ? buf.length - i - 4 >= Number(m[1]) : false;
}

/** Route list of docs/openapi.yaml: [{method, path}] (METHOD upper case). */
export function specRoutes() {
  return specOperations(loadSpec()).map(({ method, path: p }) => ({ method, path: p }));
}

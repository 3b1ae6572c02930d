// A bucket of its own for every library the API tests make, when
// DAM_TEST_S3_ENV names an s3.env (scripts/rgw.sh writes one: S3_ENDPOINT,
// S3_REGION, S3_KEY_ID, S3_SECRET). One shared bucket would let one
// library's `dam gc` or fsck see, and delete, another library's blobs.
//
// Requests are signed by curl's own SigV4 (--aws-sigv4, as scripts/rgw.sh
// makes its bucket); the credentials reach curl on stdin (-K -), never a
// command line, and the secret reaches dam through a 0600 secret_file,
// never dam.conf. Calls are synchronous (execFileSync), like the library
// setup they are part of, and the buckets are emptied and removed when the
// test file's process exits.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ENV_FILE = process.env.DAM_TEST_S3_ENV || '';

function readEnv(file) {
  const env = {};
  for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = l.match(/^(S3_[A-Z_]+)=(.*)$/);
    if (m) env[m[1]] = m[2];
  }
  for (const k of ['S3_ENDPOINT', 'S3_REGION', 'S3_KEY_ID', 'S3_SECRET'])
    if (!env[k]) throw new Error(`DAM_TEST_S3_ENV: ${file} has no ${k}=`);
  return env;
}

/** The gateway's settings, or null when DAM_TEST_S3_ENV is not set. */
export const S3 = ENV_FILE ? readEnv(ENV_FILE) : null;

const made = [];
let counter = 0;
let secretFile;

/**
 * One signed request: method, path under the endpoint ("/bucket?delete="),
 * optional body (Buffer) and headers. Returns {status, body (string)};
 * fails only when curl cannot reach the gateway. A query parameter without
 * a value needs its '=': curl 7.88 signs a bare "?delete" as "delete",
 * where SigV4's canonical query (and the gateway) has "delete=".
 */
export function s3Request(method, p, { body, headers = {} } = {}) {
  const payload = body || Buffer.alloc(0);
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR || '/tmp'), 'dam-s3req-'));
  const args = ['-s', '-K', '-', '-X', method, '--aws-sigv4', `aws:amz:${S3.S3_REGION}:s3`,
    '-H', `x-amz-content-sha256: ${crypto.createHash('sha256').update(payload).digest('hex')}`,
    '-o', path.join(dir, 'out'), '-w', '%{http_code}'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (body) {
    fs.writeFileSync(path.join(dir, 'body'), body);
    args.push('--data-binary', '@' + path.join(dir, 'body'));
  }
  try {
    const code = execFileSync('curl', [...args, S3.S3_ENDPOINT + p], {
      input: `user = "${S3.S3_KEY_ID}:${S3.S3_SECRET}"\n`, encoding: 'utf8', timeout: 60000,
    });
    const out = path.join(dir, 'out');
    return { status: Number(code), body: fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '' };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Creates bucket `name`; throws with the gateway's answer unless 200. */
export function createBucket(name) {
  const r = s3Request('PUT', '/' + name);
  if (r.status !== 200) throw new Error(`creating bucket ${name} on ${S3.S3_ENDPOINT}: HTTP ${r.status} ${r.body}`);
}

/** Deletes bucket `name` (it must be empty); returns the HTTP status. */
export function deleteBucket(name) {
  return s3Request('DELETE', '/' + name).status;
}

/**
 * A new bucket, and the [store] section of dam.conf that points a library
 * at it (secret_file: a 0600 file in dir, written once per process).
 */
export function newBucketStore(dir) {
  // 3-63 characters, lower case: the pid keeps test files apart, the random
  // part a reused pid from an earlier file's bucket.
  const name = `dam-${process.pid}-${++counter}-${crypto.randomBytes(3).toString('hex')}`;
  createBucket(name);
  made.push(name);
  if (!secretFile) {
    secretFile = path.join(dir, 's3.secret');
    fs.writeFileSync(secretFile, S3.S3_SECRET + '\n', { mode: 0o600 });
  }
  return { bucket: name, conf: ['[store]', 'backend = s3', `endpoint = ${S3.S3_ENDPOINT}`, `bucket = ${name}`,
    `region = ${S3.S3_REGION}`, `key_id = ${S3.S3_KEY_ID}`, `secret_file = ${secretFile}`, ''].join('\n') };
}

/** The keys of one listing page (up to 1000) and whether more follow. */
function listPage(bucket) {
  const r = s3Request('GET', `/${bucket}`);
  if (r.status === 404) return { keys: [], more: false };
  if (r.status !== 200) throw new Error(`listing objects: HTTP ${r.status} ${r.body}`);
  const keys = [...r.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
  return { keys, more: /<IsTruncated>true<\/IsTruncated>/.test(r.body) };
}

/* Multi-object delete of the keys (already XML-escaped, as listed). */
function deleteKeys(bucket, keys) {
  const xml = Buffer.from(`<Delete><Quiet>true</Quiet>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`);
  const r = s3Request('POST', `/${bucket}?delete=`, {
    body: xml, headers: { 'content-md5': crypto.createHash('md5').update(xml).digest('base64'), 'content-type': 'application/xml' },
  });
  if (r.status !== 200 || r.body.includes('<Error>')) throw new Error(`deleting ${keys.length} objects: HTTP ${r.status} ${r.body}`);
}

/* Aborts the unfinished multipart uploads (a bucket holding one cannot go). */
function abortUploads(bucket) {
  const r = s3Request('GET', `/${bucket}?uploads=`);
  if (r.status !== 200) throw new Error(`listing uploads: HTTP ${r.status} ${r.body}`);
  for (const m of r.body.matchAll(/<Upload>.*?<Key>([^<]*)<\/Key>.*?<UploadId>([^<]*)<\/UploadId>/gs)) {
    const key = m[1].replace(/&amp;/g, '&').split('/').map(encodeURIComponent).join('/');
    s3Request('DELETE', `/${bucket}/${key}?uploadId=${encodeURIComponent(m[2])}`);
  }
}

/** Empties and deletes bucket `name`; throws saying what failed. */
export function removeBucket(name) {
  for (let i = 0; ; i++) {
    const { keys, more } = listPage(name);
    if (keys.length) deleteKeys(name, keys);
    if (!more) break;
    if (i > 1000) throw new Error('still listing objects after 1000 pages');
  }
  abortUploads(name);
  const st = deleteBucket(name);
  if (st !== 204 && st !== 404) throw new Error(`DELETE answered ${st}`);
}

/** Removes every bucket this process made. Best effort: the gateway is
 * thrown away after the run, this only bounds its memory (memstore). */
export function removeBuckets() {
  for (const b of made.splice(0)) {
    try {
      removeBucket(b);
    } catch (e) {
      process.stderr.write(`# s3: bucket ${b} left on the gateway: ${e.message}\n`);
    }
  }
}

if (S3) process.on('exit', removeBuckets);

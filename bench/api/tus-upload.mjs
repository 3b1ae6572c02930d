#!/usr/bin/env node
// tus-upload.mjs - a minimal tus 1.0 client for bench/api/upload.sh.
//
//   node tus-upload.mjs BASE_URL TOKEN FILE [CHUNK_BYTES]
//
// POST /api/v1/uploads (creation), then one PATCH per chunk, strictly in
// sequence, each body a fresh Buffer read from FILE. The clock runs from just
// before the POST to the response of the final PATCH, so it includes reading
// the file (from the page cache when warm), as a real client would.
// Prints one JSON object on stdout.
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';

const [base, token, file, chunkArg] = process.argv.slice(2);
if (!base || !token || !file) {
  console.error('usage: node tus-upload.mjs BASE_URL TOKEN FILE [CHUNK_BYTES]');
  process.exit(2);
}
const chunk = Number(chunkArg || 16 * 1024 * 1024);
const auth = { Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0' };
const { size } = await stat(file);
const fh = await open(file, 'r');
const now = () => Number(process.hrtime.bigint()) / 1e9;

const t0 = now();
const created = await fetch(`${base}/api/v1/uploads`, {
  method: 'POST',
  headers: {
    ...auth,
    'Upload-Length': String(size),
    'Upload-Metadata': `filename ${Buffer.from(basename(file)).toString('base64')}`,
  },
});
if (created.status !== 201) {
  console.error(`POST: ${created.status} ${await created.text()}`);
  process.exit(1);
}
await created.arrayBuffer();
const location = new URL(created.headers.get('location'), base).href;

let offset = 0;
let last = null;
const chunkSecs = [];
let readSecs = 0;
while (offset < size) {
  const n = Math.min(chunk, size - offset);
  const r0 = now();
  const buf = Buffer.allocUnsafe(n);
  let got = 0;
  while (got < n) {
    const { bytesRead } = await fh.read(buf, got, n - got, offset + got);
    if (!bytesRead) throw new Error('short read');
    got += bytesRead;
  }
  const c0 = now();
  readSecs += c0 - r0;
  const res = await fetch(location, {
    method: 'PATCH',
    headers: {
      ...auth,
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
    },
    body: buf,
  });
  await res.arrayBuffer();
  chunkSecs.push(now() - c0);
  if (res.status !== 204) {
    console.error(`PATCH at ${offset}: ${res.status}`);
    process.exit(1);
  }
  const next = Number(res.headers.get('upload-offset'));
  if (next !== offset + n) {
    console.error(`PATCH at ${offset}: server says offset ${next}, expected ${offset + n}`);
    process.exit(1);
  }
  offset = next;
  last = res;
}
const seconds = now() - t0;
await fh.close();

const sorted = [...chunkSecs].sort((a, b) => a - b);
const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
console.log(JSON.stringify({
  location,
  bytes: size,
  chunk_bytes: chunk,
  chunks: chunkSecs.length,
  seconds,
  mb_per_s: size / 1e6 / seconds,
  read_seconds: readSecs,
  patch_seconds: { min: sorted[0], median: q(0.5), max: sorted[sorted.length - 1] },
  upload_status: last.headers.get('dam-upload-status'),
  asset_id: last.headers.get('dam-asset-id'),
}));

// soak.mjs - mixed traffic against one running `dam serve` for DURATION_S
// seconds (bench/soak/run.sh starts the server and passes the environment):
//   BASE, TOKEN, PID (the server's), IDS (file: one image asset id a line),
//   SEED (a JPEG whose bytes are varied per upload), DURATION_S, USERS, UPLOADS,
//   SAMPLE_S (RSS / fd sampling interval), OUT (JSON result).
// Each of USERS loops picks a kind by weight, sends it, and records status and
// latency. An error is a network failure or a status other than the kind's
// expected one. Every SAMPLE_S seconds the server's VmRSS and open file
// descriptors are read from /proc, and the hot cache's bytes, the
// rendition cache's entries and the heap in use from /metrics. Node's built-in fetch only.
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';

const env = process.env;
const BASE = env.BASE, TOKEN = env.TOKEN, PID = env.PID;
const DURATION_S = Number(env.DURATION_S || 600), USERS = Number(env.USERS || 8);
const SAMPLE_S = Number(env.SAMPLE_S || 10);
const ids = readFileSync(env.IDS, 'utf8').split('\n').filter(Boolean);
const seed = readFileSync(env.SEED);
const auth = { authorization: `Bearer ${TOKEN}` };
const words = ['lake', 'forest', 'flower', 'green', 'sky', 'night', 'macro', 'pier', 'NV-P101', 'cups',
  'summer', 'water', 'type:image', 'tag:demo', 'sku:NV-P107', 'leaf', 'boats'];
const pick = (a) => a[Math.floor(Math.random() * a.length)];
let uploads = 0;

// A JPEG with distinct bytes: a COM segment with a counter after SOI, so the
// store keeps every upload and a processing job runs for each.
function uniqueJpeg() {
  const tag = Buffer.from(`soak ${process.pid} ${++uploads} ${Date.now()}`);
  const com = Buffer.alloc(4);
  com.writeUInt16BE(0xfffe, 0);
  com.writeUInt16BE(tag.length + 2, 2);
  return Buffer.concat([seed.subarray(0, 2), com, tag, seed.subarray(2)]);
}

async function drain(r) { const b = await r.arrayBuffer(); return b.byteLength; }
async function signed(id, q) {
  const r = await fetch(`${BASE}/api/v1/assets/${id}/links?${q}`, { headers: auth });
  if (r.status !== 200) throw new Error(`links ${r.status}`);
  return (await r.json()).url;
}

const kinds = {
  asset_get: { w: 25, run: async () => fetch(`${BASE}/api/v1/assets/${pick(ids)}`, { headers: auth }) },
  search: { w: 18, run: async () => fetch(`${BASE}/api/v1/search?q=${encodeURIComponent(pick(words))}&limit=50`, { headers: auth }) },
  field_edit: {
    w: 10, run: async () => fetch(`${BASE}/api/v1/assets/${pick(ids)}`, {
      method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { soak_note: `edit ${Date.now()}` } }),
    }),
  },
  upload_multipart: {
    w: 2, expect: 201, run: async () => {
      const fd = new FormData();
      fd.append('file', new Blob([uniqueJpeg()], { type: 'image/jpeg' }), `soak-${uploads}.jpg`);
      fd.append('tag', 'soak');
      return fetch(`${BASE}/api/v1/assets`, { method: 'POST', headers: auth, body: fd });
    },
  },
  upload_tus: {
    w: 2, expect: 204, run: async () => {
      const body = uniqueJpeg();
      const name = Buffer.from(`soak-tus-${uploads}.jpg`).toString('base64');
      const c = await fetch(`${BASE}/api/v1/uploads`, {
        method: 'POST',
        headers: { ...auth, 'tus-resumable': '1.0.0', 'upload-length': String(body.length), 'upload-metadata': `filename ${name}` },
      });
      if (c.status !== 201) return c;
      await drain(c);
      const loc = new URL(c.headers.get('location'), BASE).href;
      // two chunks, as a resumable client sends them
      const half = body.length >> 1;
      for (const [off, part] of [[0, body.subarray(0, half)], [half, body.subarray(half)]]) {
        const p = await fetch(loc, {
          method: 'PATCH',
          headers: { ...auth, 'tus-resumable': '1.0.0', 'upload-offset': String(off), 'content-type': 'application/offset+octet-stream' },
          body: part,
        });
        if (p.status !== 204 || off === half) return p;
        await drain(p);
      }
    },
  },
  deliver_stored: { w: 25, run: async () => fetch(await signed(pick(ids), `preset=${pick(['tmall', 'jd', 'amazon', 'instagram-square'])}`)) },
  deliver_cold: {
    w: 6, run: async () => fetch(await signed(pick(ids), `options=w_${200 + Math.floor(Math.random() * 1400)},f_webp,q_${60 + Math.floor(Math.random() * 30)}`)),
  },
  zip: {
    w: 2, run: async () => fetch(`${BASE}/api/v1/downloads/zip?ids=${[pick(ids), pick(ids), pick(ids)].join(',')}`, { headers: auth }),
  },
};
// UPLOADS=0 leaves uploads out: the library then keeps its size, so what
// the server's memory does is not the caches following a growing library.
if (env.UPLOADS === '0') kinds.upload_multipart.w = kinds.upload_tus.w = 0;
const table = Object.entries(kinds).flatMap(([k, v]) => Array(v.w).fill(k));
const stats = Object.fromEntries(Object.keys(kinds).map((k) => [k, { n: 0, errors: 0, lat: [], statuses: {} }]));
const samples = [];

// With RSS, what the server's bounded caches hold and what of its heap is
// in use (from /metrics), so a rise can be told apart from a cache filling
// to its bound or from free memory malloc keeps mapped.
async function sample(t) {
  const kb = {};
  for (const line of readFileSync(`/proc/${PID}/status`, 'utf8').split('\n')) {
    const [k, v] = line.split(/:\s+/);
    if (/^(VmRSS|RssAnon|RssFile)$/.test(k)) kb[k] = Number(v.split(/\s+/)[0]);
  }
  const s = { t: Math.round(t), rss_kb: kb.VmRSS, anon_kb: kb.RssAnon, file_kb: kb.RssFile,
    fds: readdirSync(`/proc/${PID}/fd`).length };
  samples.push(s);
  // (a server gone shows in run.sh's check, with its log)
  const m = await fetch(`${BASE}/metrics`, { headers: auth }).then((r) => r.text(), () => '');
  const gauge = (name) => Number((m.match(new RegExp(`^${name} (\\d+)$`, 'm')) || [])[1] || 0);
  s.hot_kb = Math.round(gauge('dam_delivery_hot_bytes') / 1024);
  s.rcache_entries = gauge('dam_rendition_cache_entries');
  s.heap_in_use_kb = Math.round(gauge('dam_heap_bytes\\{state="in_use"\\}') / 1024);
  s.heap_free_kb = Math.round(gauge('dam_heap_bytes\\{state="free"\\}') / 1024);
}

const t0 = performance.now();
const end = t0 + DURATION_S * 1000;
await sample(0);
const sampler = setInterval(() => sample((performance.now() - t0) / 1000), SAMPLE_S * 1000);

async function user() {
  while (performance.now() < end) {
    const kind = pick(table), s = stats[kind], want = kinds[kind].expect || 200;
    const a = performance.now();
    try {
      const r = await kinds[kind].run();
      await drain(r);
      s.statuses[r.status] = (s.statuses[r.status] || 0) + 1;
      if (r.status !== want) s.errors++;
    } catch (e) {
      s.statuses[e.message] = (s.statuses[e.message] || 0) + 1;
      s.errors++;
    }
    s.n++;
    s.lat.push(performance.now() - a);
  }
}
await Promise.all(Array.from({ length: USERS }, user));
clearInterval(sampler);
await sample((performance.now() - t0) / 1000);

const q = (a, p) => { const b = [...a].sort((x, y) => x - y); return b.length ? b[Math.min(b.length - 1, Math.floor(p * b.length))] : 0; };
const result = {
  duration_s: DURATION_S, users: USERS,
  kinds: Object.fromEntries(Object.entries(stats).map(([k, s]) => [k, {
    requests: s.n, errors: s.errors, statuses: s.statuses,
    p50_ms: +q(s.lat, 0.5).toFixed(1), p99_ms: +q(s.lat, 0.99).toFixed(1), max_ms: +q(s.lat, 1).toFixed(1),
  }])),
  samples,
};
writeFileSync(env.OUT, JSON.stringify(result, null, 1));

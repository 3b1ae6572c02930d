// Times typical searches through the HTTP API against the bare FTS5 query
// for the same text, in the same run, and samples the server's RSS.
//
//   [ONLY=label-regexp] [SECOND='URL TOKEN PID'] \
//     node bench/search/query.mjs URL TOKEN DB FTS_BIN SERVER_PID [RUNS=50]
//
// Each query runs RUNS times sequentially on one keep-alive connection after
// 3 warm-up runs; the FTS5 baseline is bench/search/fts.c (same expression
// the engine builds for the text: search_text_match(), LIMIT 50, ORDER BY
// rank). SECOND names a second server (the same library on PostgreSQL):
// each query then runs on it right after the first, and the table shows
// both side by side with the ratio, and whether the totals agree. Prints a
// Markdown table and a JSON line.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const [url, token, db, fts, pid, runsArg] = process.argv.slice(2);
const RUNS = Number(runsArg || 50);
const first = { url, token, pid };
const second = process.env.SECOND ? (([u, t, p]) => ({ url: u, token: t, pid: p }))(process.env.SECOND.split(' ')) : null;

// [label, q, params (expect: the status wanted, default 200), bare FTS5 expression or null]
const Q = [
  ['plain word, common', 'sneaker', {}, '"sneaker"'],
  ['plain word, French', 'café', {}, '"café"'],
  ['plain word, Dutch', 'fiets', {}, '"fiets"'],
  ['plain word, tag vocabulary', 'ruruka', {}, '"ruruka"'],
  ['phrase', '"running shoe"', {}, '"running shoe"'],
  ['prefix', 'sneak*', {}, '"sneak"*'],
  ['CJK 3 chars', '运动鞋', {}, '"运动 动鞋"'],
  ['CJK 2 chars', '蓝色', {}, '"蓝色"'],
  ['CJK 1 char', '鞋', {}, '"鞋"'],
  ['rare word: sku as text', 'QXA-000123', {}, '"QXA-000123"'],
  ['plain (non-facetable) field filter', 'sku:QXA-000123', {}, null],
  ['unknown field (400)', 'foo:bar', { expect: 400 }, null],
  ['text + 3 filters', 'sneaker type:image tag:blue brand:Acme', {}, '"sneaker"'],
  ['text + 3 filters + facets', 'café type:image color:red season:SS25', { facets: 'true' }, '"café"'],
  ['filters only', 'type:image color:blue orientation:landscape', {}, null],
  ['filters + ranges', 'type:image width:>=4000 created:2024-03-01..2024-06-30', {}, null],
  ['facets over everything', '', { facets: 'true' }, null],
  ['text + facets', 'sneaker', { facets: 'true' }, '"sneaker"'],
  ['everything sorted by name', '', { sort: 'name' }, null],
  ['text sorted by name', 'café', { sort: 'name' }, '"café"'],
  ['filter sorted by size', 'tag:blue', { sort: 'size' }, null],
  ['OR / NOT', '(sneaker OR boot*) -category:footwear', {}, '"sneaker" OR "boot"*'],
];

const rss = (srv = first) => {
  const s = fs.readFileSync(`/proc/${srv.pid}/status`, 'utf8');
  const g = (k) => Number(s.match(new RegExp(`${k}:\\s+(\\d+)`))[1]);
  return { rss_mb: Math.round(g('VmRSS') / 1024), hwm_mb: Math.round(g('VmHWM') / 1024) };
};
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };

async function once(q, params, srv = first) {
  const { expect = 200, ...rest } = params;
  const u = new URLSearchParams({ q, limit: '50', facets: 'false', ...rest });
  let t, r, j;
  for (let attempt = 0; ; attempt++) {
    t = performance.now();
    try {
      r = await fetch(`${srv.url}/api/v1/search?${u}`, { headers: { authorization: `Bearer ${srv.token}` } });
      j = await r.json();
      break;
    } catch (e) {
      // The server closes keep-alive connections idle for 30 s (h2o
      // req_timeout), e.g. while a slow FTS5 baseline ran: retry once.
      if (attempt > 0 || e.cause?.code !== 'UND_ERR_SOCKET') throw e;
    }
  }
  const ms = performance.now() - t;
  if (r.status !== expect) throw new Error(`${q}: ${r.status} ${JSON.stringify(j)}`);
  return { ms, total: j.total, took: j.took_ms };
}

// RUNS timed requests after 3 warm-up ones: { p50, p99, max, total }.
async function timed(q, params, srv) {
  for (let i = 0; i < 3; i++) await once(q, params, srv);
  const t = [];
  let total = 0;
  for (let i = 0; i < RUNS; i++) { const r = await once(q, params, srv); t.push(r.ms); total = r.total; }
  return { total, p50: pct(t, 0.5), p99: pct(t, 0.99), max: Math.max(...t) };
}

const rows = [];
const cold = await once('', { facets: 'true' }); // loads the facet cache
console.error(`first search (cold cache): ${cold.ms.toFixed(0)} ms; ${JSON.stringify(rss())}`);
const cold2 = second ? await once('', { facets: 'true' }, second) : null;
if (second) console.error(`second server, first search: ${cold2.ms.toFixed(0)} ms; ${JSON.stringify(rss(second))}`);
const only = process.env.ONLY ? new RegExp(process.env.ONLY) : null;
for (const [label, q, params, expr] of Q) {
  if (only && !only.test(label)) continue;
  const a = await timed(q, params, first);
  const b = second ? await timed(q, params, second) : null;
  let base = null;
  if (expr) {
    const [n, p50, p99] = execFileSync(fts, [db, String(RUNS), expr, '50'], { encoding: 'utf8' }).trim().split(' ').map(Number);
    base = { rows: n, p50, p99 };
  }
  const row = { label, q, params, ...a, fts: base, ...rss(), second: b && { ...b, ...rss(second) } };
  rows.push(row);
  console.error(`${label}: p50 ${row.p50.toFixed(1)} p99 ${row.p99.toFixed(1)} total ${row.total}${base ? ` | fts p50 ${base.p50} p99 ${base.p99}` : ''} | rss ${row.rss_mb} MB` +
    (b ? ` || second p50 ${b.p50.toFixed(1)} p99 ${b.p99.toFixed(1)} total ${b.total}` : ''));
}
// Similarity over every hash: SIMILAR = comma-separated asset ids (GET
// /assets/{id}/similar), SIM_IMAGE = an image file (POST /search/image).
async function simOnce(method, path, body, ctype) {
  const t = performance.now();
  const r = await fetch(`${url}${path}`, { method, body, headers: { authorization: `Bearer ${token}`, ...(ctype ? { 'content-type': ctype } : {}) } });
  const j = await r.json();
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(j)}`);
  return { ms: performance.now() - t, total: j.items.length, took: j.took_ms };
}
const sims = [];
for (const id of (process.env.SIMILAR || '').split(',').filter(Boolean)) sims.push([`similar to ${id.slice(-6)}`, 'GET', `/api/v1/assets/${id}/similar?limit=20`, null]);
if (process.env.SIM_IMAGE) sims.push([`search by image ${process.env.SIM_IMAGE.split('/').pop()}`, 'POST', '/api/v1/search/image?limit=20', fs.readFileSync(process.env.SIM_IMAGE)]);
for (const [label, method, path, body] of sims) {
  if (only && !only.test(label)) continue;
  for (let i = 0; i < 3; i++) await simOnce(method, path, body, body ? 'image/jpeg' : null);
  const t = [], took = [];
  let total = 0;
  for (let i = 0; i < RUNS; i++) { const r = await simOnce(method, path, body, body ? 'image/jpeg' : null); t.push(r.ms); took.push(r.took ?? NaN); total = r.total; }
  const row = { label, q: path, params: {}, total, p50: pct(t, 0.5), p99: pct(t, 0.99), max: Math.max(...t), fts: null, took_p50: pct(took, 0.5), ...rss() };
  rows.push(row);
  console.error(`${label}: p50 ${row.p50.toFixed(1)} p99 ${row.p99.toFixed(1)} items ${total} engine took p50 ${row.took_p50} | rss ${row.rss_mb} MB`);
}
const f = (x) => (x === null || x === undefined ? '—' : x.toFixed(1));
const cell = (r) => `| ${r.label} | \`${r.q.replace(/\|/g, '\\|') || "''"}\` | ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' ') || ''} | ${r.total} | ${f(r.p50)} | ${f(r.p99)} |`;
if (second) {
  console.log('| query | q | params | total | SQLite p50 ms | SQLite p99 ms | PostgreSQL p50 ms | PostgreSQL p99 ms | PG/SQLite p50 | same total | bare FTS5 p50 ms | RSS MB SQLite / PG |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const r of rows) {
    const b = r.second;
    const ratio = b && r.p50 > 0 ? (b.p50 / r.p50).toFixed(1) + '×' : '—';
    console.log(`${cell(r)} ${f(b?.p50)} | ${f(b?.p99)} | ${ratio} | ${b ? (b.total === r.total ? 'yes' : `**no: ${b.total}**`) : '—'} | ${f(r.fts?.p50)} | ${r.rss_mb} / ${b ? b.rss_mb : '—'} |`);
  }
} else {
  console.log('| query | q | params | total | API p50 ms | API p99 ms | bare FTS5 p50 ms | bare FTS5 p99 ms | API/FTS5 p50 | RSS MB |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const ratio = r.fts && r.fts.p50 > 0 ? (r.p50 / r.fts.p50).toFixed(1) + '×' : '—';
    console.log(`${cell(r)} ${f(r.fts?.p50)} | ${f(r.fts?.p99)} | ${ratio} | ${r.rss_mb} |`);
  }
}
console.log(`\nfirst search after start (facet cache load): ${cold.ms.toFixed(0)} ms${second ? `; on PostgreSQL ${cold2.ms.toFixed(0)} ms` : ''}; server RSS at end ${JSON.stringify(rss())}`);
console.log('JSON ' + JSON.stringify({ cold_ms: cold.ms, cold2_ms: cold2?.ms, rows }));

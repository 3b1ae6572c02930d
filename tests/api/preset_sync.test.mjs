// Re-rendering only what a preset change touches (issue 11, point 26). A CLI
// ingest renders the ahead-of-time presets; the first `dam serve` after it
// must not queue them all again, and a change of one preset re-makes that
// preset's renditions only. Rows are read from the library's database with
// libSql (read-only, beside the running server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, cli, libSql, FIXTURES, sleep, T } from './lib/server.mjs';

let s;
const files = ['photo.jpg', 'alpha.png', 'image.webp'];

const sql = (q) => libSql(s.lib, q);
const count = (q) => Number(sql(q));
/** { "version|preset:name": created_at } of every preset rendition. */
function renditions() {
  const out = {};
  for (const l of sql("SELECT version_id || '|' || name, created_at FROM renditions WHERE name LIKE 'preset:%'").split('\n'))
    if (l) { const [k, v] = l.split('|preset:'); out[`${k}|preset:${v.split('|')[0]}`] = Number(v.split('|')[1]); }
  return out;
}
async function idle() {
  const until = Date.now() + T(120000);
  while (count("SELECT count(*) FROM jobs WHERE state IN ('queued','running')") > 0) {
    if (Date.now() > until) throw new Error('jobs did not finish: ' + sql('SELECT kind, state, error FROM jobs'));
    await sleep(200);
  }
}

before(async () => {
  s = await startServer({
    prepare: (lib) => cli(lib, ['ingest', ...files.map((f) => path.join(FIXTURES, f))]),
  });
});
after(async () => { if (s.exitCode === undefined) await s.stop(); });

test('the first serve after a CLI ingest queues no re-rendering', async () => {
  // the ingest rendered each version's presets once
  assert.equal(count("SELECT count(*) FROM jobs WHERE kind = 'renditions'"), files.length);
  assert.equal(count("SELECT count(*) FROM jobs WHERE state != 'done'"), 0, sql('SELECT kind, state, error FROM jobs'));
  // instagram-square (cover 1080x1080, up_2) refuses the two small images:
  // those refusals must not be queued again at every start either
  assert.equal(count("SELECT count(*) FROM renditions WHERE name = 'preset:instagram-square'"), 1);
  assert.equal(count("SELECT count(*) FROM renditions WHERE name = 'preset:tmall'"), files.length);
  // the start-up sync has committed before the server listens
  assert.equal(count("SELECT count(*) FROM jobs WHERE kind = 'renditions'"), files.length, 'no new renditions job');
  // (its log line is checked once the server has exited, below)
});

test('changing one preset re-makes only that preset\'s renditions', async () => {
  const beforeRows = renditions();
  const jobs0 = count("SELECT count(*) FROM jobs WHERE kind = 'renditions'");
  const r = await s.api('/api/v1/presets/instagram-square', {
    method: 'PUT', as: 'admin', json: { spec: 'w_200,h_200,fit_cover,crop_smart,f_jpeg,q_90' },
  });
  assert.ok(r.status === 200 || r.status === 201, r.text);
  assert.equal(count("SELECT count(*) FROM jobs WHERE kind = 'renditions'") - jobs0, files.length,
    'one renditions job per current version');
  await idle();
  const afterRows = renditions();
  const changed = Object.keys(afterRows).filter((k) => afterRows[k] !== beforeRows[k]).map((k) => k.split('|')[1]);
  assert.deepEqual([...new Set(changed)], ['preset:instagram-square']);
  assert.equal(changed.length, files.length, 'one new rendition per version');
  assert.equal(count("SELECT count(*) FROM renditions WHERE name = 'preset:instagram-square' AND width = 200 AND height = 200"),
    files.length);
  // a new preset: only it is rendered
  const jobs1 = count("SELECT count(*) FROM jobs WHERE kind = 'renditions'");
  const c = await s.api('/api/v1/presets', {
    method: 'POST', as: 'admin', json: { name: 'thumb-sq', spec: 'w_100,h_100,fit_cover,f_jpeg', ahead: true },
  });
  assert.ok(c.status === 201 || c.status === 200, c.text);
  assert.equal(count("SELECT count(*) FROM jobs WHERE kind = 'renditions'") - jobs1, files.length);
  await idle();
  const third = renditions();
  const changed2 = Object.keys(third).filter((k) => third[k] !== afterRows[k]).map((k) => k.split('|')[1]);
  assert.deepEqual([...new Set(changed2)], ['preset:thumb-sq']);
  // a preset changed so that it refuses every source: its old renditions
  // are removed (not left listed as current), nothing else is re-made
  const jobs3 = count("SELECT count(*) FROM jobs WHERE kind = 'renditions'");
  const big = await s.api('/api/v1/presets/instagram-square', {
    method: 'PUT', as: 'admin', json: { spec: 'w_3000,h_3000,fit_cover,f_jpeg' },
  });
  assert.equal(big.status, 200, big.text);
  assert.equal(count("SELECT count(*) FROM jobs WHERE kind = 'renditions'") - jobs3, files.length,
    'the versions holding an instagram-square rendition');
  await idle();
  assert.equal(count("SELECT count(*) FROM renditions WHERE name = 'preset:instagram-square'"), 0);
  const fourth = renditions();
  assert.deepEqual(Object.keys(fourth).filter((k) => fourth[k] !== third[k]), []);
  // an unchanged library: a restart queues nothing
  await s.stop();
  assert.deepEqual(s.stderr.filter((l) => /presets changed/.test(l)), [], 'no "presets changed" line from the first serve');
  const jobs2 = count("SELECT count(*) FROM jobs WHERE kind = 'renditions'");
  s = await startServer({ reuse: s.lib });
  assert.equal(count("SELECT count(*) FROM jobs WHERE kind = 'renditions'"), jobs2);
  await s.stop();
  assert.deepEqual(s.stderr.filter((l) => /presets changed/.test(l)), []);
});

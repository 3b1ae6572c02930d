// links?expires= takes the same forms as `dam url --expires` (issue 11,
// point 17: one parser, util/timeutil's time_parse_future): seconds,
// durations (90s, 10m, 2h, 7d, 2w) and a UTC date/time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, assertErrorShape } from './lib/server.mjs';

let s, photo;

before(async () => {
  s = await startServer();
  photo = (await s.upload('photo.jpg', fixture('photo.jpg'), 'contributor')).asset_id;
});

after(async () => {
  if (s) await s.stop();
});

const expOf = (url) => Number(new URL(url).pathname.match(/[/,]exp_(\d+)\//)[1]);

test('expires takes seconds, durations and a date-time', async () => {
  for (const [form, secs] of [['3600', 3600], ['90s', 90], ['10m', 600], ['2h', 7200], ['7d', 604800], ['2w', 1209600]]) {
    const t0 = Math.floor(Date.now() / 1000);
    const r = await s.api(`/api/v1/assets/${photo}/links?preset=tmall&expires=${form}`, { as: 'editor' });
    const t1 = Math.floor(Date.now() / 1000);
    assert.equal(r.status, 200, `${form}: ${r.text}`);
    const exp = expOf(r.json.url);
    assert.ok(exp >= t0 + secs && exp <= t1 + secs, `${form}: exp_${exp} not in [${t0 + secs}, ${t1 + secs}]`);
    assert.equal(Date.parse(r.json.expires_at) / 1000, exp, form);
  }
  const at = new Date(Date.now() + 86400000).toISOString().slice(0, 19) + 'Z';
  const r = await s.api(`/api/v1/assets/${photo}/links?preset=tmall&expires=${encodeURIComponent(at)}`, { as: 'editor' });
  assert.equal(r.status, 200, r.text);
  assert.equal(expOf(r.json.url), Date.parse(at) / 1000);
});

test('a bad expires is 400 naming the forms', async () => {
  for (const bad of ['soon', '0', '0s', '1.5h', '-5m', '2001-01-01', '11y', '4000d', '2027-02-30']) {
    const r = await s.api(`/api/v1/assets/${photo}/links?preset=tmall&expires=${encodeURIComponent(bad)}`, { as: 'editor' });
    const e = assertErrorShape(r, 400, 'invalid_parameter', bad);
    assert.equal(e.field, 'expires', bad);
    assert.match(e.message, /90s, 10m, 2h, 7d/, bad);
  }
});

// Search hardening (issue #11 points 5-9): ranges on defined number and date
// fields with relative dates against a fixed clock, as-you-type prefixes,
// technical metadata and PDF text in the index, synonyms stored as their
// terms, and NUL bytes in search parameters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, uniqueText, assertErrorShape, cli } from './lib/server.mjs';

// The clock of relative dates (now+30d) for the server and the CLI.
process.env.DAM_SEARCH_NOW = '2026-06-01T00:00:00Z';

let s;
const ids = {};

before(async () => {
  s = await startServer();
  for (const name of ['blue-galosh.txt', 'red-galosh.txt', 'gaiter-boot.txt']) {
    ids[name] = (await s.upload(name, Buffer.from(uniqueText(name)))).asset_id;
  }
  ids.photo = (await s.upload('photo.jpg', fixture('photo.jpg'))).asset_id;
  ids.pdf = (await s.upload('guide.pdf', fixture('text3.pdf'))).asset_id;
  await s.waitProcessed(ids.photo);
  await s.waitProcessed(ids.pdf);
});

after(async () => { await s?.stop(); });

const search = async (q, extra = '') => {
  const r = await s.api(`/api/v1/search?q=${encodeURIComponent(q)}&limit=100${extra}`, { as: 'viewer' });
  assert.equal(r.status, 200, `${q}: ${r.text}`);
  return r.json;
};
const idsOf = (j) => j.items.map((i) => i.id).sort();
const want = (...names) => names.map((n) => ids[n]).sort();

test('NUL in q or any other search parameter: 400 naming the parameter, never a cut-short search', async () => {
  for (const [param, value] of [['q', '%00'], ['q', 'a%00b'], ['q', 'sneaker%00'], ['sort', 'name%00'], ['cursor', '%00'],
    ['facets', 'true%00'], ['prefix', 'last%00'], ['limit', '1%00'], ['offset', '%00']]) {
    const r = await s.api(`/api/v1/search?${param}=${value}`, { as: 'viewer' });
    const e = assertErrorShape(r, 400, undefined, `${param}=${value}`);
    assert.equal(e.field, param);
    assert.match(e.message, /NUL byte \(%00\)/);
  }
  const bad = assertErrorShape(await s.api('/api/v1/search?q=%zz', { as: 'viewer' }), 400);
  assert.match(bad.message, /malformed percent-escape/);
  const sg = assertErrorShape(await s.api('/api/v1/suggest?prefix=sn%00', { as: 'viewer' }), 400);
  assert.equal(sg.field, 'prefix');
  // an ordinary query still works
  assert.deepEqual(idsOf(await search('galosh')), want('blue-galosh.txt', 'red-galosh.txt'));
});

test('prefixes: gal* anywhere, and the last word as typed with prefix=last', async () => {
  assert.deepEqual(idsOf(await search('gal*')), want('blue-galosh.txt', 'red-galosh.txt'));
  assert.deepEqual(idsOf(await search('gal', '&prefix=last')), want('blue-galosh.txt', 'red-galosh.txt'));
  assert.deepEqual(idsOf(await search('blue gal', '&prefix=last')), want('blue-galosh.txt'));
  assert.deepEqual(idsOf(await search('ga', '&prefix=last')), want('blue-galosh.txt', 'red-galosh.txt', 'gaiter-boot.txt'));
  assert.equal((await search('gal')).total, 0, 'without prefix=last a word is a word');
  assert.equal((await search('gal', '&prefix=none')).total, 0);
  assert.equal((await search('"gal"', '&prefix=last')).total, 0, 'a quoted word is whole');
  const e = assertErrorShape(await s.api('/api/v1/search?q=a&prefix=all', { as: 'viewer' }), 400);
  assert.equal(e.field, 'prefix');
});

test('camera make, model and lens, and every page of a PDF, are searchable', async () => {
  assert.deepEqual(idsOf(await search('Canon')), want('photo'));
  assert.deepEqual(idsOf(await search('EOS R5')), want('photo'));
  assert.deepEqual(idsOf(await search('"Canon EOS R5"')), want('photo'));
  assert.deepEqual(idsOf(await search('Photographer')), want('photo')); // creator
  assert.deepEqual(idsOf(await search('quetzal')), want('pdf')); // page 3
  assert.deepEqual(idsOf(await search('kestrel')), want('pdf')); // page 1
  assert.deepEqual(idsOf(await search('osprey hoopoe')), want('pdf')); // pages 2 and 3
});

test('ranges on defined number and date fields, relative dates against the clock, range facets', async () => {
  for (const [key, type] of [['price', 'number'], ['licence_expiry', 'date']]) {
    const r = await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key, type, facetable: true } });
    assert.equal(r.status, 201, r.text);
  }
  const vals = { 'blue-galosh.txt': ['5', '2026-06-15'], 'red-galosh.txt': ['15', '2027-01-10'], 'gaiter-boot.txt': ['25.5', '2029-05-01'] };
  for (const [name, [price, exp]] of Object.entries(vals)) {
    const r = await s.api(`/api/v1/assets/${ids[name]}`, { method: 'PATCH', as: 'editor', json: { fields: { price, licence_expiry: exp } } });
    assert.equal(r.status, 200, r.text);
  }
  assert.deepEqual(idsOf(await search('price:10..20')), want('red-galosh.txt'));
  assert.deepEqual(idsOf(await search('price:>=15')), want('red-galosh.txt', 'gaiter-boot.txt'));
  assert.deepEqual(idsOf(await search('licence_expiry:<2028-01-01')), want('blue-galosh.txt', 'red-galosh.txt'));
  // now = 2026-06-01 (DAM_SEARCH_NOW)
  assert.deepEqual(idsOf(await search('licence_expiry:<now+30d')), want('blue-galosh.txt'));
  assert.deepEqual(idsOf(await search('licence_expiry:now-7d..now+365d')), want('blue-galosh.txt', 'red-galosh.txt'));
  assert.deepEqual(idsOf(await search('galosh licence_expiry:>now+60d')), want('red-galosh.txt'));
  const e = assertErrorShape(await s.api('/api/v1/search?q=licence_expiry:<now%2Bsoon', { as: 'viewer' }), 400);
  assert.match(e.message, /licence_expiry wants a date like 2026-01-31, now\+30d/);
  // range facets: buckets whose counts add up and whose queries select them
  const all = await search('', '&facets=true');
  for (const key of ['price', 'licence_expiry']) {
    const rg = all.ranges[key];
    assert.ok(rg, `ranges.${key}`);
    assert.equal(rg.count, 3);
    let sum = 0;
    for (const b of rg.buckets) {
      sum += b.count;
      assert.equal((await search(b.q)).total, b.count, `${key} bucket ${b.q}`);
    }
    assert.equal(sum, 3);
  }
  assert.equal(all.ranges.price.min, 5);
  assert.equal(all.ranges.price.max, 25.5);
  assert.equal(all.ranges.licence_expiry.min, '2026-06-15');
  // the CLI: same language, same clock
  const out = cli(s.lib, ['search', 'licence_expiry:<now+30d']);
  assert.match(out, /^1 result\(s\)$/m);
  assert.match(out, /blue-galosh\.txt/);
  const typed = cli(s.lib, ['search', '--prefix-last', 'blue', 'gal']);
  assert.match(typed, /^1 result\(s\)$/m);
  assert.match(cli(s.lib, ['search', 'price:10..20']), /red-galosh\.txt/);
});

test('a vocabulary synonym is stored as its term; facets count one term; the response names the synonym matched', async () => {
  assert.equal((await s.api('/api/v1/vocabularies', { method: 'POST', as: 'admin', json: { name: 'products' } })).status, 201);
  for (const [term, synonyms] of [['sneakers', ['trainers']], ['boots', ['wellies']]]) {
    const r = await s.api(`/api/v1/vocabularies/products/terms/${term}`, { method: 'PUT', as: 'admin', json: { synonyms } });
    assert.equal(r.status, 200, r.text);
  }
  const f = await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key: 'category', type: 'choice', vocab: 'products', facetable: true } });
  assert.equal(f.status, 201, f.text);
  for (const [name, v] of [['blue-galosh.txt', 'trainers'], ['red-galosh.txt', 'Sneakers'], ['gaiter-boot.txt', 'wellies']]) {
    const r = await s.api(`/api/v1/assets/${ids[name]}`, { method: 'PATCH', as: 'editor', json: { fields: { category: v } } });
    assert.equal(r.status, 200, r.text);
  }
  const a = (await s.api(`/api/v1/assets/${ids['blue-galosh.txt']}`, { as: 'viewer' })).json;
  assert.equal(a.fields.category, 'sneakers');
  const all = await search('', '&facets=true');
  assert.deepEqual(all.facets.category, { sneakers: 2, boots: 1 });
  const r = await search('category:trainers', '&facets=true');
  assert.deepEqual(idsOf(r), want('blue-galosh.txt', 'red-galosh.txt'));
  assert.deepEqual(r.synonyms, [{ word: 'trainers', term: 'sneakers' }]);
  assert.deepEqual((await search('category:sneakers')).synonyms, []);
});

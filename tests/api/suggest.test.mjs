// Autocompletion (GET /api/v1/suggest), search pages by offset, and facet
// counts for a multiple choice within one facet (as the UI's sidebar asks).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, uniqueText, assertErrorShape } from './lib/server.mjs';

let s;
const ids = [];
before(async () => {
  s = await startServer();
  const put = async (name, bytes, tags, fields = {}) => {
    const r = await s.api('/api/v1/assets', {
      method: 'POST', as: 'editor', body: bytes,
      headers: { 'x-filename': name, ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [`x-field`, `${k}=${v}`])) },
    });
    assert.ok(r.status < 300, r.text);
    const id = r.json.results[0].asset_id;
    await s.api(`/api/v1/assets/${id}`, { method: 'PATCH', as: 'editor', json: { tags: { add: tags }, fields } });
    ids.push(id);
    return id;
  };
  assert.equal((await s.api('/api/v1/vocabularies', { method: 'POST', as: 'admin', json: { name: 'category' } })).status, 201);
  for (const [term, syn] of [['sneakers', ['trainers']], ['sandals', []], ['boots', []]])
    assert.equal((await s.api(`/api/v1/vocabularies/category/terms/${term}`, { method: 'PUT', as: 'admin', json: { synonyms: syn } })).status, 200);
  assert.equal((await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key: 'category', type: 'choice', vocab: 'category', facetable: true } })).status, 201);
  assert.equal((await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key: 'season', type: 'text' } })).status, 201);
  await put('a.jpg', fixture('photo.jpg'), ['spring 2026', 'sale'], { season: 'SS26', sku: 'ABC-1', category: 'sneakers' });
  await put('b.jpg', fixture('photo2.jpg'), ['spring 2026'], { season: 'SS26', sku: 'ABC-2', category: 'boots' });
  await put('c.txt', uniqueText('c'), ['spring 2027', 'Sport'], { season: 'SS27', sku: 'XYZ-1' });
  await put('d.txt', uniqueText('d'), ['summer'], { sku: 'abc-3' });
  for (const id of ids.slice(0, 2)) await s.waitProcessed(id);
});
after(async () => { await s.stop(); });

const sug = async (q) => {
  const r = await s.api(`/api/v1/suggest?${q}`, { as: 'viewer' });
  assert.equal(r.status, 200, r.text);
  return r.json.items;
};

test('without a field: field names, then tags by use, then vocabulary terms and synonyms', async () => {
  let items = await sug('prefix=s');
  const fields = items.filter((i) => i.kind === 'field').map((i) => i.value);
  assert.deepEqual(fields.sort(), ['season', 'size', 'status']);
  assert.equal(items.find((i) => i.value === 'season').type, 'text');
  assert.equal(items.find((i) => i.value === 'size').type, 'number');
  // (automatic colour tags such as "silver" may be among them)
  const mine = ['spring 2026', 'sale', 'Sport', 'spring 2027'];
  const tags = items.filter((i) => i.kind === 'tag' && mine.includes(i.value));
  assert.deepEqual(tags.map((t) => [t.value, t.count]), [['spring 2026', 2], ['sale', 1], ['Sport', 1], ['spring 2027', 1]]);
  assert.equal(items.filter((i) => i.kind === 'tag')[0].value, 'spring 2026', 'most used first');
  const terms = items.filter((i) => i.kind === 'term');
  assert.deepEqual(terms.map((t) => t.value), ['sandals', 'sneakers']);
  assert.ok(terms.every((t) => t.vocab === 'category'));
  items = await sug('prefix=TRAIN');
  assert.deepEqual(items.map((i) => [i.kind, i.value, i.synonym]), [['term', 'sneakers', 'trainers']]);
  items = await sug('prefix=spring%202&limit=1');
  assert.deepEqual(items.map((i) => i.value), ['spring 2026']);
  assert.deepEqual(await sug('prefix=zzz'), []);
});

test('with a field: its values', async () => {
  assert.deepEqual((await sug('field=tag&prefix=spr')).map((i) => [i.kind, i.value, i.count]), [['tag', 'spring 2026', 2], ['tag', 'spring 2027', 1]]);
  assert.deepEqual((await sug('field=type')).map((i) => [i.value, i.count]), [['image', 2], ['other', 2]]);
  assert.deepEqual((await sug('field=category&prefix=s')).map((i) => i.value), ['sandals', 'sneakers']);
  // a free field: stored values by use, case ignored
  assert.deepEqual((await sug('field=sku&prefix=abc')).map((i) => i.value).sort(), ['ABC-1', 'ABC-2', 'abc-3']);
  assert.deepEqual((await sug('field=season&prefix=SS2')).map((i) => [i.value, i.count]), [['SS26', 2], ['SS27', 1]]);
  assert.deepEqual(await sug('field=width'), []);
  assert.deepEqual((await sug('field=versions')).map((i) => i.value), ['all']);
  // LIKE wildcards are literal
  assert.deepEqual(await sug('field=sku&prefix=%25'), []);
  assert.deepEqual(await sug('field=sku&prefix=_'), []);
  // deleted assets do not count
  assert.equal((await s.api(`/api/v1/assets/${ids[3]}`, { method: 'DELETE', as: 'editor' })).status, 204);
  assert.deepEqual(await sug('field=tag&prefix=summ'), []);
});

test('suggest refusals', async () => {
  assertErrorShape(await s.api('/api/v1/suggest?field=1abc', { as: 'viewer' }), 400, 'invalid_parameter');
  assertErrorShape(await s.api('/api/v1/suggest?limit=0', { as: 'viewer' }), 400);
  assertErrorShape(await s.api(`/api/v1/suggest?prefix=${'x'.repeat(201)}`, { as: 'viewer' }), 400);
  assertErrorShape(await s.api('/api/v1/suggest?prefix=a'), 401);
});

test('search pages by offset give the same order as cursors', async () => {
  const all = await s.api('/api/v1/search?sort=name&limit=100&facets=false', { as: 'viewer' });
  const names = all.json.items.map((i) => i.name);
  assert.equal(names.length, 3);
  for (let off = 0; off <= 3; off++) {
    const r = await s.api(`/api/v1/search?sort=name&limit=2&offset=${off}&facets=false`, { as: 'viewer' });
    assert.equal(r.status, 200);
    assert.equal(r.json.total, 3);
    assert.deepEqual(r.json.items.map((i) => i.name), names.slice(off, off + 2));
  }
  assertErrorShape(await s.api(`/api/v1/search?offset=1&cursor=${all.json.next_cursor || 'x'}`, { as: 'viewer' }), 400);
  assertErrorShape(await s.api('/api/v1/search?offset=-1', { as: 'viewer' }), 400);
});

test('an OR of one facet\'s values is that facet\'s own filter: its other values keep their counts', async () => {
  const r = await s.api(`/api/v1/search?q=${encodeURIComponent('(category:sneakers OR category:boots) tag:"spring 2026"')}`, { as: 'viewer' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.total, 2);
  assert.deepEqual(r.json.facets.category, { sneakers: 1, boots: 1 });
  // tag counts are restricted by the category filter, category counts by the tag filter only
  const one = await s.api(`/api/v1/search?q=${encodeURIComponent('category:sneakers tag:"spring 2026"')}`, { as: 'viewer' });
  assert.equal(one.json.total, 1);
  assert.deepEqual(one.json.facets.category, { sneakers: 1, boots: 1 });
  assert.equal(one.json.facets.tag['spring 2026'], 1);
  // an OR across two facets is not any facet's own filter
  const mixed = await s.api(`/api/v1/search?q=${encodeURIComponent('(category:sneakers OR tag:summer)')}`, { as: 'viewer' });
  assert.deepEqual(mixed.json.facets.category, { sneakers: 1 });
});

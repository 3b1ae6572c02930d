// Changing what was defined: PUT /fields/{key} replaces a field definition,
// PATCH /vocabularies/{name}/terms/{term} renames, moves and rewrites a
// term; both audited, both refusing what is wrong with a clear error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, cli, assertErrorShape } from './lib/server.mjs';

let s;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const as = 'admin';

test('PUT /fields/{key} changes a definition; the key stays; audited', async () => {
  let r = await s.api('/api/v1/fields', { method: 'POST', as, json: { key: 'sku', type: 'text', labels: { en: 'SKU' } } });
  assert.equal(r.status, 201, r.text);
  r = await s.api('/api/v1/fields/sku', { method: 'PUT', as, json: { type: 'text', labels: { en: 'Article number', nl: 'Artikelnummer' }, help: 'As in the PIM', required: true, facetable: true } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.labels, { en: 'Article number', nl: 'Artikelnummer' });
  assert.equal(r.json.help, 'As in the PIM');
  assert.equal(r.json.required, true);
  assert.equal(r.json.facetable, true);
  const list = (await s.api('/api/v1/fields', { as: 'viewer' })).json.items;
  assert.equal(list.find((d) => d.key === 'sku').labels.en, 'Article number');
  // required now: an asset without it is incomplete
  // refused: another key in the body, an unknown field, a bad type, a viewer
  assertErrorShape(await s.api('/api/v1/fields/sku', { method: 'PUT', as, json: { key: 'other', type: 'text' } }), 400, 'invalid');
  assertErrorShape(await s.api('/api/v1/fields/nope', { method: 'PUT', as, json: { type: 'text' } }), 404, 'not_found');
  assertErrorShape(await s.api('/api/v1/fields/sku', { method: 'PUT', as, json: { type: 'colour' } }), 400, 'invalid');
  assertErrorShape(await s.api('/api/v1/fields/sku', { method: 'PUT', as, json: { type: 'choice', vocab: 'none' } }), 404, 'not_found');
  assert.equal((await s.api('/api/v1/fields/sku', { method: 'PUT', as: 'viewer', json: { type: 'text' } })).status, 403);
  // nothing half-written by the refusals
  assert.equal((await s.api('/api/v1/fields', { as })).json.items.find((d) => d.key === 'sku').type, 'text');
  const log = cli(s.lib, ['audit', 'log', '--limit', '20']);
  assert.match(log, /field\.change/);
});

test('PATCH a term: rename (the old text stays a synonym), move, replace synonyms and labels', async () => {
  assert.equal((await s.api('/api/v1/vocabularies', { method: 'POST', as, json: { name: 'shoes' } })).status, 201);
  for (const [term, body] of [['footwear', {}], ['sneakers', { parent: 'footwear', synonyms: ['trainers', 'kicks'] }], ['boots', {}], ['high tops', { parent: 'sneakers' }]]) {
    const r = await s.api(`/api/v1/vocabularies/shoes/terms/${encodeURIComponent(term)}`, { method: 'PUT', as, json: body });
    assert.equal(r.status, 200, r.text);
  }
  await s.api('/api/v1/fields', { method: 'POST', as, json: { key: 'shoe', type: 'choice', vocab: 'shoes' } });
  let r = await s.api('/api/v1/vocabularies/shoes/terms/sneakers', { method: 'PATCH', as, json: { term: 'Sneaker', synonyms: ['trainers'], labels: { nl: 'Sportschoen' } } });
  assert.equal(r.status, 200, r.text);
  const t = (name) => r.json.terms.find((x) => x.term === name);
  assert.equal(t('sneakers'), undefined);
  assert.equal(t('Sneaker').parent, 'footwear', 'the parent stays when not given');
  assert.deepEqual(t('Sneaker').synonyms.sort(), ['sneakers', 'trainers'], 'kicks gone, the old text kept');
  assert.deepEqual(t('Sneaker').labels, { nl: 'Sportschoen' });
  assert.equal(t('high tops').parent, 'Sneaker', 'children follow the rename');
  // a value with the old text still resolves to the term
  const up = await s.upload('s.txt', Buffer.from('x'), 'editor');
  const set = await s.api(`/api/v1/assets/${up.asset_id}`, { method: 'PATCH', as: 'editor', json: { fields: { shoe: 'sneakers' } } });
  assert.equal(set.status, 200, set.text);
  // move to the top level; refused: another term's text, a cycle, an unknown term
  r = await s.api('/api/v1/vocabularies/shoes/terms/Sneaker', { method: 'PATCH', as, json: { parent: null } });
  assert.equal(r.json.terms.find((x) => x.term === 'Sneaker').parent, null);
  assertErrorShape(await s.api('/api/v1/vocabularies/shoes/terms/Sneaker', { method: 'PATCH', as, json: { term: 'boots' } }), 409, 'conflict');
  assertErrorShape(await s.api('/api/v1/vocabularies/shoes/terms/Sneaker', { method: 'PATCH', as, json: { parent: 'high tops' } }), 400, 'invalid');
  assertErrorShape(await s.api('/api/v1/vocabularies/shoes/terms/clogs', { method: 'PATCH', as, json: { term: 'x' } }), 404, 'not_found');
  assertErrorShape(await s.api('/api/v1/vocabularies/shoes/terms/Sneaker', { method: 'PATCH', as, json: { synonyms: 'kicks' } }), 400, 'invalid');
  const after = (await s.api('/api/v1/vocabularies/shoes', { as })).json.terms.find((x) => x.term === 'Sneaker');
  assert.deepEqual(after.synonyms.sort(), ['sneakers', 'trainers'], 'refusals changed nothing');
  assert.match(cli(s.lib, ['audit', 'log', '--limit', '30']), /vocab\.term/);
});

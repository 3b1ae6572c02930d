// Editing an asset's fields with the schema-driven form: required markers,
// a vocabulary picker, one value per language, and a validation error shown
// at its field, then fixed; tags with automatic ones shown apart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture } from '../api/lib/server.mjs';
import { launch, newPage, login, shot } from './lib/browser.mjs';

let s, browser, id;
before(async () => {
  s = await startServer();
  const ok = async (p, o) => { const r = await s.api(p, { as: 'admin', ...o }); assert.ok(r.status < 300, `${p}: ${r.text}`); };
  await ok('/api/v1/languages', { method: 'PUT', json: { languages: ['en', 'zh'] } });
  await ok('/api/v1/vocabularies', { method: 'POST', json: { name: 'colours' } });
  for (const term of ['blue', 'red', 'green']) await ok(`/api/v1/vocabularies/colours/terms/${term}`, { method: 'PUT', json: {} });
  await ok('/api/v1/fields', { method: 'POST', json: { key: 'sku', type: 'text', required: true, labels: { en: 'SKU' }, help: 'The product code, as in the PIM' } });
  await ok('/api/v1/fields', { method: 'POST', json: { key: 'pieces', type: 'number', labels: { en: 'Pieces in the box' } } });
  await ok('/api/v1/fields', { method: 'POST', json: { key: 'colour', type: 'choice', vocab: 'colours', labels: { en: 'Colour' } } });
  await ok('/api/v1/fields', { method: 'POST', json: { key: 'title', type: 'text', multilang: true, labels: { en: 'Title' } } });
  id = (await s.upload('edit-me.jpg', fixture('photo.jpg'), 'editor')).asset_id;
  await s.waitProcessed(id);
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

test('a wrong value is refused at its field, typed values stay, the fix saves', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor, { to: `/ui/asset/${id}?tab=fields` });
  // the accessible name says it is required (the * is for the eyes)
  const sku = page.getByRole('textbox', { name: 'SKU (required)', exact: true });
  await sku.waitFor();
  assert.equal(await sku.getAttribute('aria-required'), 'true');
  assert.match(await page.locator('label[for="f-sku"]').textContent(), /SKU \*/);
  assert.equal(await page.locator('#f-sku-help').textContent(), 'The product code, as in the PIM');
  await sku.fill('SN-1001');
  await page.getByLabel('Pieces in the box').fill('a dozen');
  // the vocabulary picker offers the terms
  const colour = page.getByLabel('Colour');
  assert.deepEqual(await colour.locator('option').allTextContents(), ['No value', 'blue', 'red', 'green']);
  await colour.selectOption('green');
  await page.getByLabel('Title (en)').fill('Running shoe');
  await page.getByLabel('Title (zh)').fill('跑鞋');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const err = page.locator('#f-pieces-err');
  await err.waitFor();
  assert.match(await err.textContent(), /pieces: "a dozen" is not a number/);
  assert.equal(await page.getByLabel('Pieces in the box').getAttribute('aria-invalid'), 'true');
  assert.match(await page.getByLabel('Pieces in the box').getAttribute('aria-describedby'), /f-pieces-err/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'f-pieces', 'focus goes to the field at fault');
  assert.equal(await sku.inputValue(), 'SN-1001', 'what was typed is kept');
  assert.equal(await page.getByLabel('Title (zh)').inputValue(), '跑鞋');
  await shot(page, 'fields-error');
  // nothing was saved
  let a = await s.api(`/api/v1/assets/${id}`, { as: 'viewer' });
  assert.equal(a.json.fields.sku, undefined);
  await page.getByLabel('Pieces in the box').fill('12');
  assert.equal(await err.count(), 0, 'the error goes as the field is corrected');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Fields saved.').waitFor();
  a = await s.api(`/api/v1/assets/${id}`, { as: 'viewer' });
  assert.deepEqual(
    { sku: a.json.fields.sku, pieces: a.json.fields.pieces, colour: a.json.fields.colour, en: a.json.fields['title@en'], zh: a.json.fields['title@zh'] },
    { sku: 'SN-1001', pieces: '12', colour: 'green', en: 'Running shoe', zh: '跑鞋' });
  assert.ok(await page.getByRole('button', { name: 'Save changes' }).isDisabled(), 'nothing left to save');
  await shot(page, 'fields');
  page.check();
  await context.close();
});

test('tags: add with completion, remove; automatic tags are listed apart and removable', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor, { to: `/ui/asset/${id}?tab=tags` });
  const auto = page.getByRole('list', { name: 'Automatic tags' });
  await auto.waitFor();
  const before1 = (await s.api(`/api/v1/assets/${id}`, { as: 'viewer' })).json.tags;
  const autoTags = before1.filter((x) => x.source === 'automatic').map((x) => x.tag);
  assert.ok(autoTags.length > 0, 'the picture has automatic tags');
  assert.equal(await auto.getByRole('listitem').count(), autoTags.length);
  const input = page.getByLabel('Add a tag');
  await input.fill('hero shot');
  await input.press('Enter');
  await page.getByRole('list', { name: 'Tags' }).getByText('hero shot').waitFor();
  assert.equal(await input.inputValue(), '');
  // removing an automatic tag
  const victim = autoTags[0];
  await auto.getByRole('button', { name: `Remove tag ${victim}` }).click();
  await page.getByText(`Removed the tag "${victim}".`).waitFor();
  const after1 = (await s.api(`/api/v1/assets/${id}`, { as: 'viewer' })).json.tags.map((x) => x.tag);
  assert.ok(after1.includes('hero shot'));
  assert.ok(!after1.includes(victim));
  await shot(page, 'tags');
  page.check();
  await context.close();
});

// Search as you type (the last word is a prefix), range facets of number
// and date fields (histogram buckets and typed bounds, relative dates
// against DAM_SEARCH_NOW), and the vocabulary synonym a query matched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uniqueText } from '../api/lib/server.mjs';
import { launch, newPage, login, shot, waitPath, axe } from './lib/browser.mjs';

process.env.DAM_SEARCH_NOW = '2026-06-01T00:00:00Z';

let s, browser;
const ids = {};
before(async () => {
  s = await startServer();
  for (const name of ['blue-galosh.txt', 'red-galosh.txt', 'gaiter-boot.txt', 'notes.txt']) {
    ids[name] = (await s.upload(name, Buffer.from(uniqueText(name)), 'editor')).asset_id;
  }
  for (const [key, type] of [['price', 'number'], ['licence_expiry', 'date']]) {
    assert.equal((await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key, type, facetable: true } })).status, 201);
  }
  assert.equal((await s.api('/api/v1/vocabularies', { method: 'POST', as: 'admin', json: { name: 'products' } })).status, 201);
  assert.equal((await s.api('/api/v1/vocabularies/products/terms/galoshes', { method: 'PUT', as: 'admin', json: { synonyms: ['overshoes'] } })).status, 200);
  assert.equal((await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key: 'category', type: 'choice', vocab: 'products', facetable: true } })).status, 201);
  const vals = {
    'blue-galosh.txt': { price: '5', licence_expiry: '2026-06-15', category: 'overshoes' },
    'red-galosh.txt': { price: '15', licence_expiry: '2026-07-20', category: 'galoshes' },
    'gaiter-boot.txt': { price: '40', licence_expiry: '2027-03-01' },
  };
  for (const [name, fields] of Object.entries(vals)) {
    const r = await s.api(`/api/v1/assets/${ids[name]}`, { method: 'PATCH', as: 'editor', json: { fields } });
    assert.equal(r.status, 200, r.text);
  }
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

const count = async (page) => page.locator('.results-title .count').textContent();
const names = async (page) => (await page.locator('.cell').evaluateAll((els) => els.map((e) => e.dataset.name))).sort();
const waitCount = (page, text) => page.waitForFunction((t) => document.querySelector('.results-title .count')?.textContent === t, text);

test('as you type: the library follows the box, and the last word is a prefix', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer);
  await waitCount(page, '4 assets');
  const q = page.getByRole('combobox', { name: 'Search assets' });
  await q.pressSequentially('gal', { delay: 40 });
  await waitPath(page, /^\/ui\/library\?q=gal$/); // no Enter
  await waitCount(page, '2 assets');
  assert.deepEqual(await names(page), ['blue-galosh.txt', 'red-galosh.txt']);
  await q.pressSequentially(' blue', { delay: 40 });
  await waitCount(page, '0 assets'); // "gal" is a whole word now, "blue" the prefix
  await q.fill('blue ga');
  await waitPath(page, /^\/ui\/library\?q=blue\+ga$/);
  await waitCount(page, '1 asset');
  assert.equal(await q.inputValue(), 'blue ga');
  // a half-typed filter does not search
  await q.fill('type:');
  await page.waitForTimeout(600);
  assert.match(page.url(), /q=blue\+ga$/);
  page.check();
  await context.close();
});

test('range facets: a number histogram and a date histogram; a bucket or typed bounds filter', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer);
  await waitCount(page, '4 assets');
  const price = page.locator('section.range-facet', { has: page.getByRole('heading', { name: 'price' }) });
  const buckets = price.locator('.histogram .bucket');
  await buckets.first().waitFor();
  const labels = await buckets.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
  assert.equal(labels.length, 5);
  assert.equal(labels[0], '5 to 12: 1');
  assert.equal(labels[4], '33 to 40: 1');
  await shot(page, 'library-range-facets');
  // a bucket: its filter goes into the URL and the results
  await buckets.first().click();
  await waitPath(page, /r=price%3A%3E%3D5\+price%3A%3C12/);
  await waitCount(page, '1 asset');
  assert.deepEqual(await names(page), ['blue-galosh.txt']);
  assert.equal(await price.locator('.bucket[aria-pressed="true"]').count(), 1);
  await price.getByRole('button', { name: 'Clear', exact: true }).click();
  await waitCount(page, '4 assets');
  // typed bounds
  await price.getByLabel('From', { exact: true }).fill('10');
  await price.getByLabel('To', { exact: true }).fill('50');
  await price.getByRole('button', { name: 'Apply' }).click();
  await waitCount(page, '2 assets');
  assert.deepEqual(await names(page), ['gaiter-boot.txt', 'red-galosh.txt']);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await waitCount(page, '4 assets');
  // dates: relative bounds against the clock (now = 2026-06-01)
  const exp = page.locator('section.range-facet', { has: page.getByRole('heading', { name: 'licence_expiry' }) });
  assert.ok((await exp.locator('.bucket').count()) >= 2, 'monthly buckets');
  await exp.getByLabel('To', { exact: true }).fill('now+30d');
  await exp.getByRole('button', { name: 'Apply' }).click();
  await waitCount(page, '1 asset');
  assert.deepEqual(await names(page), ['blue-galosh.txt']);
  await exp.getByLabel('To', { exact: true }).fill('next week');
  await exp.getByRole('button', { name: 'Apply' }).click();
  await exp.getByRole('alert').waitFor();
  await axe(page);
  page.check();
  await context.close();
});

test('a synonym is shown as the term it matched: "galoshes (matched: overshoes)"', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: '/ui/library?q=category%3Aovershoes' });
  await waitCount(page, '2 assets');
  assert.equal((await page.locator('.matched').textContent()).trim(), 'galoshes (matched: overshoes)');
  const cat = page.locator('section.facet', { has: page.getByRole('heading', { name: 'category' }) });
  assert.equal((await cat.locator('.facet-value').first().textContent()).trim(), 'galoshes (matched: overshoes)');
  assert.equal(await cat.locator('.facet-value').count(), 1, 'one term, never split in two');
  page.check();
  await context.close();
});

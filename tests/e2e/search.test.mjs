// Searching: the query language with completion of tags and fields, the
// facet sidebar (counts, multiple choice within a facet), query errors
// shown at the search box, sort, saved searches, and the narrow layout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, uniqueText } from '../api/lib/server.mjs';
import { launch, newPage, login, shot, waitPath } from './lib/browser.mjs';

let s, browser;
const put = async (name, bytes, tags) => {
  const id = (await s.upload(name, bytes, 'editor')).asset_id;
  await s.api(`/api/v1/assets/${id}`, { method: 'PATCH', as: 'editor', json: { tags: { add: tags } } });
  return id;
};
before(async () => {
  s = await startServer();
  await put('sneaker-front.jpg', fixture('photo.jpg'), ['spring 2026', 'sneaker']);
  await put('sneaker-side.jpg', fixture('photo2.jpg'), ['spring 2026', 'sneaker']);
  await put('logo.png', fixture('alpha.png'), ['spring 2026', 'brand']);
  await put('lookbook.pdf', fixture('doc.pdf'), ['spring 2026']);
  await put('notes.txt', uniqueText('notes'), ['summer']);
  await put('teaser.mp4', fixture('clip.mp4'), ['summer']);
  const r = await s.api('/api/v1/search?facets=false&limit=100', { as: 'admin' });
  for (const x of r.json.items) await s.waitProcessed(x.id);
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

const count = async (page) => page.locator('.results-title .count').textContent();
const names = async (page) => page.locator('.cell').evaluateAll((els) => els.map((e) => e.dataset.name));

test('complete a tag, search, narrow with facets (several values of one facet mean any of them)', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer);
  await page.getByRole('option', { name: 'teaser.mp4' }).waitFor();
  assert.equal(await count(page), '6 assets');
  const q = page.getByRole('combobox', { name: 'Search assets' });
  await q.fill('spr');
  const sugg = page.locator('#q ~ .suggestions');
  await sugg.getByRole('option', { name: /Tag\s*spring 2026\s*4/ }).waitFor();
  await q.press('ArrowDown');
  assert.equal(await q.getAttribute('aria-activedescendant'), await sugg.getByRole('option').first().getAttribute('id'));
  await q.press('Enter');
  assert.equal(await q.inputValue(), 'tag:"spring 2026" ');
  await q.press('Enter');
  await waitPath(page, /^\/ui\/library\?q=tag%3A%22spring\+2026%22$/);
  await page.waitForFunction(() => document.querySelector('.results-title .count').textContent === '4 assets');
  // field names complete too: "typ" -> "type:", then its values with counts
  await q.fill('typ');
  await sugg.getByRole('option', { name: /Field\s*type/ }).click();
  assert.equal(await q.inputValue(), 'type:');
  await sugg.getByRole('option', { name: /Value\s*image\s*3/ }).waitFor();
  await q.fill('tag:"spring 2026"');
  await q.press('Escape');
  // as you type, the library follows the box: back at the tag's 4 assets
  await waitPath(page, /^\/ui\/library\?q=tag%3A%22spring\+2026%22$/);
  await page.waitForFunction(() => document.querySelector('.results-title .count').textContent === '4 assets');

  // the Type facet: counts of this result; ticking Image narrows, ticking
  // Document too widens again (any of them), and Image keeps its count
  const facet = page.locator('section.facet', { has: page.getByRole('heading', { name: 'Type' }) });
  assert.equal(await facet.getByRole('checkbox', { name: 'Image, 3 assets' }).count(), 1);
  assert.equal(await facet.getByRole('checkbox', { name: 'Document, 1 assets' }).count(), 1);
  await facet.getByRole('checkbox', { name: /^Image/ }).check();
  await waitPath(page, /f=type%3Aimage/);
  await page.waitForFunction(() => document.querySelector('.results-title .count').textContent === '3 assets');
  assert.deepEqual((await names(page)).sort(), ['logo.png', 'sneaker-front.jpg', 'sneaker-side.jpg']);
  assert.equal(await facet.getByRole('checkbox', { name: 'Document, 1 assets' }).count(), 1, 'other values keep their counts');
  await facet.getByRole('checkbox', { name: /^Document/ }).check();
  await page.waitForFunction(() => document.querySelector('.results-title .count').textContent === '4 assets');
  // another facet must also match
  const tags = page.locator('section.facet', { has: page.getByRole('heading', { name: 'Tags' }) });
  await tags.getByRole('checkbox', { name: /^sneaker,/ }).check();
  await page.waitForFunction(() => document.querySelector('.results-title .count').textContent === '2 assets');
  await shot(page, 'library-facets');
  // the URL holds it all: a reload shows the same
  await page.reload();
  await page.waitForFunction(() => document.querySelector('.results-title .count')?.textContent === '2 assets');
  assert.ok(await facet.getByRole('checkbox', { name: /^Image/ }).isChecked());
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForFunction(() => document.querySelector('.results-title .count').textContent === '4 assets');
  page.check();
  await context.close();
});

test('a query that cannot be read is explained at the search box and the text is kept', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer);
  const q = page.getByRole('combobox', { name: 'Search assets' });
  await q.fill('(sneaker OR');
  await q.press('Enter');
  const err = page.locator('.search-error');
  await err.waitFor();
  assert.match(await err.textContent(), /'OR' at column 10 has nothing after it|unclosed '\(' at column 1/);
  assert.equal(await q.getAttribute('aria-invalid'), 'true');
  assert.equal(await q.inputValue(), '(sneaker OR');
  await q.fill('sneaker');
  await q.press('Enter');
  await page.waitForFunction(() => document.querySelector('.results-title .count').textContent === '2 assets');
  assert.equal(await err.count(), 0);
  page.check();
  await context.close();
});

test('sort by name, list view, save a search and open it again', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor);
  await page.getByLabel('Sort').selectOption('name');
  await waitPath(page, /sort=name/);
  await page.waitForFunction(() => document.querySelector('.cell')?.dataset.name === 'logo.png');
  assert.deepEqual(await names(page), ['logo.png', 'lookbook.pdf', 'notes.txt', 'sneaker-front.jpg', 'sneaker-side.jpg', 'teaser.mp4']);
  await page.getByRole('radio', { name: 'List' }).click();
  await waitPath(page, /view=list/);
  await page.locator('.list-view .cell').first().waitFor();
  await shot(page, 'library-list');
  await page.getByRole('combobox', { name: 'Search assets' }).fill('tag:summer');
  await page.getByRole('combobox', { name: 'Search assets' }).press('Enter');
  await page.waitForFunction(() => document.querySelector('.results-title .count').textContent === '2 assets');
  await page.getByRole('button', { name: 'Save this search' }).click();
  await page.getByLabel('Name').fill('Summer');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved search "Summer".').waitFor();
  // a second save under the same name is refused, at the name
  await page.getByRole('button', { name: 'Save this search' }).click();
  await page.getByLabel('Name').fill('Summer');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const e = page.locator('.saved-form .field-error');
  await e.waitFor();
  assert.equal(await page.getByLabel('Name').getAttribute('aria-invalid'), 'true');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.goto('/ui/library');
  await page.getByRole('link', { name: 'Summer' }).click();
  await page.waitForFunction(() => document.querySelector('.results-title .count').textContent === '2 assets');
  assert.equal(await page.getByRole('combobox', { name: 'Search assets' }).inputValue(), 'tag:summer');
  const api = await s.api('/api/v1/searches', { as: 'editor' });
  assert.deepEqual(api.json.items.map((x) => [x.name, x.query]), [['Summer', 'tag:summer']]);
  page.check();
  await context.close();
});

test('tablet width: the filters open from a button over the results', async () => {
  const { context, page } = await newPage(browser, s, { width: 820, height: 1100 });
  await login(page, s.users.viewer);
  await page.getByRole('option', { name: 'teaser.mp4' }).waitFor();
  const toggle = page.getByRole('button', { name: 'Filters', exact: true });
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  const sidebar = page.locator('#sidebar');
  const box0 = await sidebar.boundingBox();
  assert.ok(box0.x + box0.width <= 0, 'the sidebar is off screen');
  await toggle.click();
  await page.waitForFunction(() => document.querySelector('#sidebar').getBoundingClientRect().x >= 0);
  await shot(page, 'library-tablet');
  await page.getByRole('button', { name: 'Close filters' }).click();
  page.check();
  await context.close();
});

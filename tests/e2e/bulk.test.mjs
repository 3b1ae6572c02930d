// The grid with the keyboard (arrows, Home/End, Enter, Space, Shift), the
// mouse (click, Shift+click, Ctrl+click), and bulk actions on a selection:
// tags, and a zip download whose bytes are checked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, fixture, uniqueText } from '../api/lib/server.mjs';
import { readZip } from '../api/lib/zip.mjs';
import { launch, newPage, login, shot, waitPath } from './lib/browser.mjs';

let s, browser;
const files = {};
const NAMES = ['a-bag.jpg', 'b-belt.txt', 'c-cap.txt', 'd-dress.png', 'e-earring.txt', 'f-flats.txt', 'g-gloves.txt', 'h-hat.txt'];
before(async () => {
  s = await startServer();
  for (const n of NAMES) {
    const bytes = n.endsWith('.jpg') ? fixture('photo2.jpg') : n.endsWith('.png') ? fixture('alpha.png') : uniqueText(n);
    files[n] = { bytes, id: (await s.upload(n, bytes, 'editor')).asset_id };
  }
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

const active = (page) => page.locator('.grid').evaluate((g) => {
  const id = g.getAttribute('aria-activedescendant');
  return id ? document.getElementById(id).dataset.name : null;
});
const selected = (page) => page.locator('.cell[aria-selected=true]').evaluateAll((els) => els.map((e) => e.dataset.name).sort());

test('keyboard: move through the grid, open with Enter, select with Space and Shift+arrows', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor, { to: '/ui/library?sort=name' });
  await page.getByRole('option', { name: 'h-hat.txt' }).waitFor();
  const cols = await page.locator('.cell').evaluateAll((els) => new Set(els.filter((e) => e.getBoundingClientRect().top === els[0].getBoundingClientRect().top)).size);
  assert.ok(cols >= 3 && cols < NAMES.length, `a grid with several columns (${cols})`);
  // Tab from the search box reaches the grid through the page's controls
  await page.locator('.grid').focus();
  assert.equal(await active(page), 'a-bag.jpg', 'focus lands on the first asset');
  await page.keyboard.press('ArrowRight');
  assert.equal(await active(page), 'b-belt.txt');
  await page.keyboard.press('ArrowDown');
  assert.equal(await active(page), NAMES[1 + cols]);
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('End');
  assert.equal(await active(page), NAMES[cols - 1], 'End: end of the row');
  await page.keyboard.press('Control+End');
  assert.equal(await active(page), 'h-hat.txt', 'Ctrl+End: the last asset');
  await page.keyboard.press('Control+Home');
  assert.equal(await active(page), 'a-bag.jpg');
  // Space selects, Shift+arrow extends, Escape clears
  await page.keyboard.press('Space');
  assert.deepEqual(await selected(page), ['a-bag.jpg']);
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.press('Shift+ArrowRight');
  await page.waitForFunction(() => document.querySelectorAll('.cell[aria-selected=true]').length === 3);
  assert.deepEqual(await selected(page), ['a-bag.jpg', 'b-belt.txt', 'c-cap.txt']);
  await page.getByRole('toolbar', { name: 'Actions on the selection' }).getByText('3 selected').waitFor();
  await shot(page, 'library-selection');
  await page.keyboard.press('Escape');
  assert.deepEqual(await selected(page), []);
  // the focus ring is drawn on the active asset
  const ring = await page.locator('.cell.active .cell-inner').evaluate((e) => getComputedStyle(e).outlineStyle);
  assert.equal(ring, 'solid');
  await page.keyboard.press('Enter');
  await waitPath(page, new RegExp(`^/ui/asset/${files['c-cap.txt'].id}\\?in=sort%3Dname&at=2$`));
  await page.goBack();
  await page.getByRole('option', { name: 'h-hat.txt' }).waitFor();
  assert.equal(await active(page), 'c-cap.txt', 'back in the library where the user was');
  page.check();
  await context.close();
});

test('check box, Shift+click, click while selecting; tag the selection; download it as a zip', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor, { to: '/ui/library?sort=name&view=list' });
  const row = (n) => page.getByRole('option', { name: n });
  await row('h-hat.txt').waitFor();
  await row('b-belt.txt').locator('.cell-check').click();
  await row('d-dress.png').click({ modifiers: ['Shift'] });
  await page.waitForFunction(() => document.querySelectorAll('.cell[aria-selected=true]').length === 3);
  // while a selection is being made, a click adds or removes (Google Photos)
  await row('g-gloves.txt').click();
  await row('c-cap.txt').click();
  const want = ['b-belt.txt', 'd-dress.png', 'g-gloves.txt'];
  assert.deepEqual(await selected(page), want);
  const bar = page.getByRole('toolbar', { name: 'Actions on the selection' });
  await bar.getByText('3 selected').waitFor();

  await bar.getByRole('button', { name: 'Tag…' }).click();
  const dlg = page.getByRole('dialog', { name: 'Tag 3 assets' });
  await dlg.getByLabel('Add tags (comma separated)').fill('summer sale, hero');
  await dlg.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('Tagged 3 assets.').waitFor();
  assert.equal(await dlg.count(), 0);
  for (const n of NAMES) {
    const tags = (await s.api(`/api/v1/assets/${files[n].id}`, { as: 'viewer' })).json.tags.map((x) => x.tag);
    assert.equal(tags.includes('summer sale') && tags.includes('hero'), want.includes(n), `${n}: ${tags}`);
  }

  const [download] = await Promise.all([page.waitForEvent('download'), bar.getByRole('button', { name: 'Download zip' }).click()]);
  assert.match(download.suggestedFilename(), /^dam-\d{8}-\d{6}\.zip$/);
  const entries = readZip(fs.readFileSync(await download.path()));
  assert.deepEqual(entries.map((e) => e.name).sort(), want);
  for (const e of entries) assert.ok(e.data.equals(files[e.name].bytes), `${e.name}: the original's bytes`);
  page.check();
  await context.close();
});

test('bulk delete asks first, then the assets leave the library', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor, { to: '/ui/library?sort=name' });
  await page.getByRole('option', { name: 'h-hat.txt' }).locator('.cell-check').click();
  await page.getByRole('option', { name: 'g-gloves.txt' }).click();
  await page.getByRole('button', { name: 'Delete…' }).click();
  const dlg = page.getByRole('dialog', { name: 'Delete 2 assets?' });
  await dlg.getByRole('button', { name: 'Delete' }).click();
  await page.getByText('Deleted 2 assets.').waitFor();
  await page.waitForFunction(() => document.querySelector('.results-title .count').textContent === '6 assets');
  assert.equal(await s.count(), 6);
  page.check();
  await context.close();
});

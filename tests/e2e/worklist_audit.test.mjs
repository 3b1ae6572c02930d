// Issue 11, point 21: the worklist of incomplete assets with inline
// completion, search by picture (dropped on the search box) and "Find
// similar", an asset's History tab and the admin's audit trail with
// filters and the CSV download.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, fixture, FIXTURES, tmpDir, uniqueText } from '../api/lib/server.mjs';
import { axe, launch, newPage, login, shot, waitPath } from './lib/browser.mjs';

let s, browser, photo, copy, alpha, photo2, first;
const EXTRA = 21; // text assets, so the worklist has two pages

before(async () => {
  s = await startServer();
  const ok = async (p, o) => {
    const r = await s.api(p, { as: 'admin', ...o });
    assert.ok(r.status < 300, `${p}: ${r.status} ${r.text}`);
    return r;
  };
  await ok('/api/v1/vocabularies', { method: 'POST', json: { name: 'colours' } });
  for (const term of ['blue', 'red']) await ok(`/api/v1/vocabularies/colours/terms/${term}`, { method: 'PUT', json: {} });
  await ok('/api/v1/fields', { method: 'POST', json: { key: 'sku', type: 'text', required: true, labels: { en: 'SKU' } } });
  await ok('/api/v1/fields', { method: 'POST', json: { key: 'colour', type: 'choice', vocab: 'colours', required: true, labels: { en: 'Colour' } } });
  await ok('/api/v1/fields', { method: 'POST', json: { key: 'pieces', type: 'number', required: true, labels: { en: 'Pieces' } } });
  photo = (await s.upload('photo.jpg', fixture('photo.jpg'), 'editor')).asset_id;
  photo2 = (await s.upload('photo2.jpg', fixture('photo2.jpg'), 'editor')).asset_id;
  alpha = (await s.upload('alpha.png', fixture('alpha.png'), 'editor')).asset_id;
  // a resized, re-encoded copy of photo.jpg: visually similar
  const d = tmpDir();
  execFileSync('vips', ['resize', path.join(FIXTURES, 'photo.jpg'), path.join(d, 'copy.jpg[Q=60]'), '0.6']);
  copy = (await s.upload('copy-of-photo.jpg', fs.readFileSync(path.join(d, 'copy.jpg')), 'editor')).asset_id;
  first = (await s.upload('wl-00.txt', uniqueText('wl 0'), 'editor')).asset_id;
  for (let i = 1; i < EXTRA; i++) await s.upload(`wl-${String(i).padStart(2, '0')}.txt`, uniqueText('wl ' + i), 'editor');
  for (const id of [photo, photo2, alpha, copy]) await s.waitProcessed(id);
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

const incomplete = async () => (await s.api('/api/v1/incomplete', { as: 'admin' })).json;

test('worklist: typed inputs, a bad value is shown at its input, a completed asset leaves the list, pages', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor, { to: '/ui/worklist' });
  const total = (await incomplete()).count;
  assert.equal(total, EXTRA + 4);
  const heading = page.getByRole('heading', { name: /Worklist/ });
  await heading.waitFor();
  assert.match(await heading.textContent(), new RegExp(`${total} incomplete assets`));
  // 20 a page, the list in id order (the order of upload)
  assert.equal(await page.locator('.worklist-row').count(), 20);
  assert.equal(await page.locator('.pager').getByText('Page 1 of 2').count(), 1);
  await page.getByRole('button', { name: 'Next page' }).click();
  assert.equal(await page.locator('.worklist-row').count(), total - 20);
  await page.getByRole('button', { name: 'Previous page' }).click();

  const form = page.getByRole('form', { name: 'photo.jpg', exact: true });
  // typed by the definition: a choice of the vocabulary's terms, text for the rest
  const colour = form.getByRole('combobox', { name: /Colour/ });
  assert.deepEqual((await colour.locator('option').allTextContents()).slice(1), ['blue', 'red']);
  await form.getByRole('textbox', { name: /SKU/ }).fill('SKU-1');
  await colour.selectOption('red');
  const pieces = form.getByRole('textbox', { name: /Pieces/ });
  await pieces.fill('many');
  await form.getByRole('button', { name: 'Save' }).click();
  // the server's refusal at its input; the row stays
  const err = form.getByRole('alert');
  await err.waitFor();
  assert.match(await err.textContent(), /pieces/i);
  assert.equal(await pieces.getAttribute('aria-invalid'), 'true');
  assert.equal(await pieces.getAttribute('aria-describedby'), await err.getAttribute('id'));
  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-invalid') === 'true');
  assert.equal((await s.api(`/api/v1/assets/${photo}`, { as: 'admin' })).json.fields.sku, undefined, 'nothing half-written');
  await shot(page, 'worklist-error');
  // a good value: saved, and the row leaves the list
  await pieces.fill('4');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.waitFor({ state: 'detached' });
  await page.waitForFunction((n) => document.querySelector('.worklist h1 .count')?.textContent.includes(`${n} incomplete assets`), total - 1);
  const saved = (await s.api(`/api/v1/assets/${photo}`, { as: 'admin' })).json.fields;
  assert.deepEqual([saved.sku, saved.colour, saved.pieces], ['SKU-1', 'red', '4']);
  assert.ok(!(await incomplete()).assets.some((a) => a.id === photo));
  // one field of three: saved, the row stays with what is still missing
  const f2 = page.getByRole('form', { name: 'wl-00.txt', exact: true });
  await f2.getByRole('textbox', { name: /SKU/ }).fill('SKU-2');
  await f2.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => [...document.querySelectorAll('.worklist-row')].some((r) => r.textContent.includes('wl-00.txt') && r.textContent.includes('Missing 2 fields')));
  assert.equal(await f2.getByRole('textbox', { name: /SKU/ }).count(), 0);
  assert.equal((await s.api(`/api/v1/assets/${first}`, { as: 'admin' })).json.fields.sku, 'SKU-2');
  // a viewer sees the list without inputs to change it
  const v = await newPage(browser, s);
  await login(v.page, s.users.viewer, { to: '/ui/worklist' });
  await v.page.getByText('completing fields needs the right to edit').waitFor();
  assert.equal(await v.page.getByRole('button', { name: 'Save' }).count(), 0);
  assert.ok(await v.page.locator('.worklist-row input').first().isDisabled());
  v.page.check();
  await v.context.close();
  page.check();
  await context.close();
});

const names = async (page) => page.locator('.cell').evaluateAll((els) => els.map((e) => e.dataset.name));

test('search by picture: a picture dropped on the search box shows the similar assets in the grid', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer);
  await page.locator('.cell[data-name="photo.jpg"]').waitFor();
  const bytes = fixture('photo.jpg');
  const dt = await page.evaluateHandle(({ b64 }) => {
    const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const d = new DataTransfer();
    d.items.add(new File([raw], 'dropped.jpg', { type: 'image/jpeg' }));
    return d;
  }, { b64: bytes.toString('base64') });
  const box = page.getByRole('search');
  await box.dispatchEvent('dragenter', { dataTransfer: dt });
  await page.locator('form.search.dropping').waitFor();
  await box.dispatchEvent('drop', { dataTransfer: dt });
  await waitPath(page, /^\/ui\/library\?similar=picture-\d+$/);
  await page.getByText('Visually similar to the picture dropped.jpg').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.cell[data-name]').length > 0);
  const got = await names(page);
  assert.equal(got[0], 'photo.jpg', 'the same picture first');
  assert.ok(got.includes('copy-of-photo.jpg'), got.join());
  assert.ok(!got.includes('alpha.png') && !got.includes('photo2.jpg') && !got.some((n) => n.endsWith('.txt')), got.join());
  await shot(page, 'search-by-picture');
  // a file that is not a picture is refused at the search box
  const txt = await page.evaluateHandle(() => {
    const d = new DataTransfer();
    d.items.add(new File(['hello'], 'notes.txt', { type: 'text/plain' }));
    return d;
  });
  await box.dispatchEvent('drop', { dataTransfer: txt });
  await box.getByRole('alert').filter({ hasText: 'not a picture: notes.txt' }).waitFor();
  // the button does the same for the keyboard
  await page.getByRole('button', { name: 'Show all assets' }).click();
  await waitPath(page, /^\/ui\/library$/);
  await page.locator('input[type=file][accept="image/*"]').setInputFiles({ name: 'again.jpg', mimeType: 'image/jpeg', buffer: bytes });
  await page.getByText('Visually similar to the picture again.jpg').waitFor();
  page.check();
  await context.close();
});

test('"Find similar" on an asset shows its similar assets in the grid', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: `/ui/asset/${copy}` });
  await page.getByRole('link', { name: 'Find similar' }).click();
  await waitPath(page, new RegExp(`^/ui/library\\?similar=${copy}$`));
  await page.getByText('Visually similar to copy-of-photo.jpg').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.cell[data-name]').length > 0);
  const got = await names(page);
  assert.deepEqual(got, ['photo.jpg']);
  // open one and come back: the same similar list
  await page.locator('.cell[data-name="photo.jpg"]').click();
  await waitPath(page, new RegExp(`^/ui/asset/${photo}`));
  // documents get no "Find similar"
  await page.goto(`/ui/asset/${first}`);
  await page.getByRole('heading', { name: 'wl-00.txt' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Find similar' }).count(), 0);
  page.check();
  await context.close();
});

test('an asset\'s History tab lists its changes and downloads them as CSV', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: `/ui/asset/${photo}?tab=history` });
  const panel = page.getByRole('tabpanel');
  const table = panel.getByRole('table', { name: 'History' });
  await table.waitFor();
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  // (the renditions job may record its row before or after the edit)
  assert.deepEqual(rows.map((r) => r[2]).filter((a) => a !== 'version.renditions'), ['asset.update', 'version.processed', 'asset.create']);
  const edit = rows.find((r) => r[2] === 'asset.update');
  assert.equal(edit[1], 'user:editor1');
  assert.match(edit[3], /sku = SKU-1/);
  assert.match(edit[3], /colour = red/);
  const [download] = await Promise.all([page.waitForEvent('download'), panel.getByRole('link', { name: 'Download CSV' }).click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines[0], 'seq,at,actor,action,object_type,object_id,before,after,hash');
  assert.equal(lines.length, rows.length + 1);
  assert.ok(lines.some((l) => /,user:editor1,asset\.update,asset,/.test(l)));
  await shot(page, 'asset-history');
  page.check();
  await context.close();
});

test('admin audit trail: filter by user and action, page, download the filtered CSV; others may not', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.admin, { to: '/ui/admin/audit' });
  await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
  const table = page.getByRole('table', { name: 'Audit trail' });
  await table.waitFor();
  assert.equal(await table.locator('tbody tr').count(), 50, 'a page of 50');
  const firstSeq = Number(await table.locator('tbody tr').first().getAttribute('data-seq'));
  await page.getByRole('button', { name: 'Older' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.audit-table tbody tr')?.dataset.seq) < n - 49, firstSeq);
  await page.getByRole('button', { name: 'Newer' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.audit-table tbody tr')?.dataset.seq) === n, firstSeq);

  await page.getByLabel('User', { exact: true }).fill('user:editor1');
  await page.getByLabel('Action', { exact: true }).selectOption('asset.update');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await waitPath(page, /actor=user%3Aeditor1&action=asset\.update/);
  await page.waitForFunction(() => {
    const trs = [...document.querySelectorAll('.audit-table tbody tr')];
    return trs.length > 0 && trs.every((tr) => tr.cells[1].textContent === 'user:editor1' && tr.cells[2].textContent === 'asset.update');
  });
  const shown = await table.locator('tbody tr').count();
  assert.equal(shown, 2, 'the two worklist saves');
  await shot(page, 'admin-audit');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
  const lines = fs.readFileSync(await download.path(), 'utf8').trimEnd().split('\r\n');
  assert.equal(lines[0], 'seq,at,actor,action,object_type,object_id,before,after,hash');
  assert.equal(lines.length - 1, shown);
  assert.ok(lines.slice(1).every((l) => l.split(',')[2] === 'user:editor1' && l.split(',')[3] === 'asset.update'));
  // a date range that holds nothing
  await page.getByLabel('From', { exact: true }).fill('2001-01-01');
  await page.getByLabel('To', { exact: true }).fill('2001-01-31');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByText('No changes match these filters.').waitFor();
  // a reversed range is refused before asking
  await page.getByLabel('From', { exact: true }).fill('2001-02-01');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('alert').filter({ hasText: 'start date must be on or before the end date' }).waitFor();
  page.check();
  await context.close();

  // an editor has no audit screen
  const e = await newPage(browser, s);
  await login(e.page, s.users.editor, { to: '/ui/admin/audit' });
  await e.page.getByText('Your role does not allow this.').waitFor();
  assert.equal(await e.page.getByRole('table', { name: 'Audit trail' }).count(), 0);
  e.page.check();
  await e.context.close();
});

test('no WCAG 2.1 A/AA violations on the worklist, the similar view, History and the audit trail', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.admin, { to: '/ui/worklist' });
  const found = {};
  const form = page.getByRole('form', { name: 'alpha.png', exact: true });
  await form.getByRole('textbox', { name: /Pieces/ }).fill('lots');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.getByRole('alert').waitFor();
  found['worklist with an error'] = await axe(page);
  await page.goto(`/ui/library?similar=${copy}`);
  await page.locator('.cell[data-name="photo.jpg"]').waitFor();
  found['similar view'] = await axe(page);
  await page.goto(`/ui/asset/${photo}?tab=history`);
  await page.locator('.audit-table').waitFor();
  found['asset history'] = await axe(page);
  await page.goto('/ui/admin/audit?action=asset.');
  await page.locator('.audit-table').waitFor();
  found['admin audit'] = await axe(page);
  assert.deepEqual(Object.entries(found).filter(([, v]) => v.length), [], 'axe-core violations by screen');
  page.check();
  await context.close();
});

// Accessibility of the main screens, checked by axe-core (WCAG 2.1 A/AA:
// accessible names and labels, contrast, ARIA use) with zero violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture } from '../api/lib/server.mjs';
import { axe, launch, newPage, login } from './lib/browser.mjs';

let s, browser, id, pdf;
before(async () => {
  s = await startServer();
  id = (await s.upload('a11y.jpg', fixture('photo.jpg'), 'editor')).asset_id;
  pdf = (await s.upload('a11y.pdf', fixture('pages.pdf'), 'editor')).asset_id;
  await s.api(`/api/v1/assets/${id}/versions`, { method: 'POST', as: 'editor', body: fixture('photo2.jpg'), headers: { 'x-filename': 'a11y-2.jpg' } });
  await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key: 'sku', type: 'text', required: true, labels: { en: 'SKU' } } });
  await s.waitProcessed(id);
  await s.waitProcessed(pdf);
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

test('no WCAG 2.1 A/AA violations on the main screens', async () => {
  const { context, page } = await newPage(browser, s);
  await page.goto('/ui/login');
  await page.getByLabel('User name').waitFor();
  const found = {};
  found.login = await axe(page);
  await login(page, s.users.admin);
  // the tile shows the photo's embedded title; its file name is data-name
  await page.locator('.cell[data-name="a11y.jpg"]').waitFor();
  found.library = await axe(page);
  await page.locator('.cell[data-name="a11y.jpg"] .cell-check').click();
  found.selection = await axe(page);
  await page.getByRole('button', { name: 'Tag…' }).click();
  await page.getByRole('dialog').waitFor();
  await page.getByRole('dialog').getByRole('button', { name: 'Apply' }).click(); // nothing entered: an error
  await page.getByRole('dialog').locator('.field-error').waitFor();
  found['tag dialog with an error'] = await axe(page);
  await page.keyboard.press('Escape');
  await page.goto('/ui/library?view=list&q=a11y');
  await page.locator('.list-view .cell').first().waitFor();
  found.list = await axe(page);
  for (const tab of ['info', 'fields', 'tags', 'versions', 'delivery', 'similar']) {
    await page.goto(`/ui/asset/${id}${tab === 'info' ? '' : `?tab=${tab}`}`);
    await page.locator('.tab-panel > *').first().waitFor();
    await page.waitForTimeout(300);
    found[`asset ${tab}`] = await axe(page);
  }
  await page.goto(`/ui/asset/${pdf}`);
  await page.locator('.page-strip img').first().waitFor();
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.waitForTimeout(300);
  found['asset pdf pages'] = await axe(page);
  await page.goto(`/ui/asset/${pdf}?tab=delivery`);
  await page.getByText('Page pictures (2)').click();
  await page.locator('.page-renditions li').first().waitFor();
  assert.deepEqual(await page.locator('.page-renditions .rend-name').allTextContents(), ['page-2', 'page-3']);
  found['asset pdf renditions'] = await axe(page);
  await page.goto(`/ui/asset/${id}?tab=fields`);
  await page.getByLabel('Field name').fill('Bad Key!');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.locator('#newkey-err').waitFor();
  found['fields with an error'] = await axe(page);
  await page.goto(`/ui/asset/${id}/compare?a=1&b=2`);
  await page.locator('.compare-table').waitFor();
  found.compare = await axe(page);
  await page.goto('/ui/upload');
  await page.locator('.uppy-Dashboard-AddFiles').waitFor();
  // Uppy's dashboard is checked by its own project; our page around it here
  found.upload = await axe(page, { exclude: ['.uppy-target'] });
  for (const sec of ['users', 'tokens', 'fields', 'vocabularies', 'templates', 'presets', 'jobs']) {
    await page.goto(`/ui/admin/${sec}`);
    await page.locator('.admin-main h1').waitFor();
    await page.waitForTimeout(200);
    found[`admin ${sec}`] = await axe(page);
  }
  const bad = Object.entries(found).filter(([, v]) => v.length);
  assert.deepEqual(bad, [], 'axe-core violations by screen');
  page.check();
  await context.close();
});

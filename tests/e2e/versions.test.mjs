// Versions: a new version uploaded from the asset page, two versions
// compared side by side (zoom kept in step), and restoring the first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, fixture, sha256, FIXTURES } from '../api/lib/server.mjs';
import { launch, newPage, login, shot, waitPath } from './lib/browser.mjs';

let s, browser, id;
before(async () => {
  s = await startServer();
  id = (await s.upload('hero.jpg', fixture('photo2.jpg'), 'editor')).asset_id;
  await s.waitProcessed(id);
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

const waitReady = async (n) => {
  for (const until = Date.now() + 30000; ; await new Promise((r) => setTimeout(r, 100))) {
    const a = (await s.api(`/api/v1/assets/${id}`, { as: 'viewer' })).json;
    if (a.versions.length >= n && a.versions.every((v) => v.status === 'ready')) return a;
    assert.ok(Date.now() < until, `${n} versions processed`);
  }
};

test('upload a new version, compare it with the first side by side, restore the first', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor, { to: `/ui/asset/${id}?tab=versions` });
  await page.getByText('Version 1').waitFor();
  await page.locator('.new-version input[type=file]').setInputFiles(path.join(FIXTURES, 'photo.jpg'));
  await page.getByText('New version added.').waitFor();
  await page.locator('.version-list li', { hasText: 'Version 2' }).getByText('current').waitFor();
  let a = await waitReady(2);
  assert.equal(a.versions.length, 2);
  assert.equal(a.versions.find((v) => v.id === a.current_version_id).hash, sha256(fixture('photo.jpg')));

  // choose both, compare
  await page.reload();
  await page.getByRole('checkbox', { name: 'Choose version 1 for comparing' }).check();
  await page.getByRole('checkbox', { name: 'Choose version 2 for comparing' }).check();
  await page.getByRole('button', { name: 'Compare the two chosen versions' }).click();
  await waitPath(page, new RegExp(`^/ui/asset/${id}/compare\\?a=1&b=2$`));
  const imgs = page.locator('.compare-side img');
  await page.waitForFunction(() => [...document.querySelectorAll('.compare-side img')].every((i) => i.complete && i.naturalWidth > 0));
  assert.equal(await imgs.count(), 2);
  const sizes = await imgs.evaluateAll((els) => els.map((i) => [i.naturalWidth, i.naturalHeight]));
  assert.deepEqual(sizes, [[640, 480], [1200, 800]], 'each side shows its own version');
  assert.deepEqual(await imgs.evaluateAll((els) => els.map((i) => new URL(i.src).search)), ['?version=1', '?version=2']);
  // the table marks what differs
  const row = (k) => page.locator('.compare-table tr', { hasText: k });
  assert.match(await row('Dimensions').textContent(), /640 × 480 px.*1200 × 800 px.*differs/);
  assert.match(await row('Added by').textContent(), /same/);
  // zooming one side zooms both (zoom and pan together)
  await page.waitForFunction(() => [...document.querySelectorAll('.compare-side img')].every((i) => /scale\(/.test(i.style.transform)));
  const t0 = await imgs.evaluateAll((els) => els.map((i) => i.style.transform));
  await page.locator('.compare-side').first().getByRole('button', { name: 'Zoom in' }).click();
  const t1 = await imgs.evaluateAll((els) => els.map((i) => i.style.transform));
  assert.notDeepEqual(t1, t0);
  const scale = (tr) => Number(tr.match(/scale\(([\d.]+)\)/)[1]);
  const fit = t0.map(scale);
  assert.ok(Math.abs(scale(t1[0]) / fit[0] - 1.5) < 0.01 && Math.abs(scale(t1[1]) / fit[1] - 1.5) < 0.01, `both sides at 1.5x: ${t1}`);
  await shot(page, 'compare');

  // restore version 1 from the versions tab
  await page.getByRole('link', { name: '← hero.jpg' }).click();
  await waitPath(page, new RegExp(`^/ui/asset/${id}\\?tab=versions$`));
  await page.locator('.version-list li', { hasText: 'Version 1' }).getByRole('button', { name: 'Restore' }).click();
  const dlg = page.getByRole('dialog', { name: 'Make version 1 current again?' });
  await dlg.waitFor();
  await dlg.getByRole('button', { name: 'Restore' }).click();
  await page.getByText('Version 1 restored as version 3.').waitFor();
  await page.locator('.version-list li', { hasText: 'Version 3' }).getByText('current').waitFor();
  a = (await s.api(`/api/v1/assets/${id}`, { as: 'viewer' })).json;
  assert.equal(a.versions.length, 3);
  assert.equal(a.versions.find((v) => v.id === a.current_version_id).hash, sha256(fixture('photo2.jpg')));
  // the preview on the page is v1's picture again
  await page.getByRole('tab', { name: 'Details' }).click();
  await page.waitForFunction(() => { const i = document.querySelector('.viewer-image img'); return i && i.complete && i.naturalWidth === 640; });
  await shot(page, 'versions');
  page.check();
  await context.close();
});

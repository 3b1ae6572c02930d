// The asset page names what a file really is when its extension says
// otherwise (issue #11 point 12: the notice used to read "The content is ;"),
// and the bulk bar downloads a zip of a preset's renditions (point 10).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, fixture, tmpDir } from '../api/lib/server.mjs';
import { readZip } from '../api/lib/zip.mjs';
import { launch, newPage, login } from './lib/browser.mjs';

let s, browser, text, png, shoe;
before(async () => {
  s = await startServer();
  text = (await s.upload('notes-as.jpg', Buffer.from('plain words and not a picture\n'.repeat(20)), 'editor')).asset_id;
  png = (await s.upload('really-a-png.jpg', fixture('alpha.png'), 'editor')).asset_id;
  shoe = (await s.upload('运动鞋.jpg', fixture('photo.jpg'), 'editor')).asset_id;
  for (const id of [text, png, shoe]) await s.waitProcessed(id);
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

test('the extension-mismatch notice names the detected type and the file name', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: `/ui/asset/${text}` });
  const notice = page.locator('p.notice', { hasText: 'says otherwise' });
  await notice.waitFor();
  assert.equal(await notice.textContent(), 'The content is text/plain, but the file name “notes-as.jpg” says otherwise.');
  await page.goto(`/ui/asset/${png}`);
  await page.locator('p.notice', { hasText: 'really-a-png.jpg' }).waitFor();
  assert.equal(await page.locator('p.notice', { hasText: 'says otherwise' }).textContent(),
    'The content is image/png, but the file name “really-a-png.jpg” says otherwise. A .png extension would fit.');
  await context.close();
});

test('the bulk bar downloads a zip of a preset: renditions at its size, the rest in SKIPPED.txt', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: '/ui/library?sort=name' });
  // a tile's check box selects (a click on the tile opens the asset)
  await page.locator('.cell[data-name="运动鞋.jpg"] .cell-check').click();
  await page.locator('.cell[data-name="notes-as.jpg"] .cell-check').click();
  const bar = page.getByRole('toolbar', { name: 'Actions on the selection' });
  const pick = bar.getByRole('combobox', { name: 'Zip contents' });
  await pick.locator('option[value=tmall]').waitFor({ state: 'attached' });
  await pick.selectOption('tmall');
  const [download] = await Promise.all([page.waitForEvent('download'), bar.getByRole('button', { name: 'Download zip' }).click()]);
  const entries = readZip(fs.readFileSync(await download.path()));
  assert.deepEqual(entries.map((e) => e.name), ['运动鞋.jpg', 'SKIPPED.txt']);
  const f = path.join(tmpDir(), 'r.jpg');
  fs.writeFileSync(f, entries[0].data);
  assert.equal(execFileSync('vipsheader', ['-f', 'width', f]).toString().trim(), '800');
  assert.equal(execFileSync('vipsheader', ['-f', 'height', f]).toString().trim(), '800');
  assert.match(entries[1].data.toString(), new RegExp(`^1 of 2 assets are not in this zip:\nnotes-as\.jpg \\(asset ${text}\\): .*transforms and presets apply to images\n$`));
  await context.close();
});

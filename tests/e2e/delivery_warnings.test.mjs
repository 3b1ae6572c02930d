// The Delivery tab warns when the source is too small for a channel
// (issue 11, point 4): a 256x256 image is below Amazon's 1000 px zoom rule
// and too small for the TikTok 9:16 crop (refused), while the photo
// (1200x800) is enlarged 1.35x for Instagram's square and says so on the
// rendition. Uses GET /api/v1/assets/{id}/renditions ("warnings").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, sleep, T } from '../api/lib/server.mjs';
import { launch, newPage, login, shot } from './lib/browser.mjs';

let s, browser, small, photo;

async function waitRendition(id, name) {
  const until = Date.now() + T(90000);
  for (;;) {
    const r = await s.api(`/api/v1/assets/${id}/renditions`, { as: 'admin' });
    if ((r.json.items || []).some((x) => x.name === name)) return;
    if (Date.now() > until) throw new Error(`no ${name} on ${id}: ${r.text}`);
    await sleep(200);
  }
}

before(async () => {
  s = await startServer();
  small = (await s.upload('badge.png', fixture('alpha.png'), 'editor')).asset_id;
  photo = (await s.upload('campaign.jpg', fixture('photo.jpg'), 'editor')).asset_id;
  await s.waitProcessed(small);
  await s.waitProcessed(photo);
  await waitRendition(small, 'preset:amazon');
  await waitRendition(photo, 'preset:instagram-square');
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

test('the Delivery tab warns about a source too small for a channel', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor, { to: `/ui/asset/${small}?tab=delivery` });
  await page.getByTestId('delivery-warning-summary').waitFor();
  const amazon = page.locator('.preset[data-preset="amazon"]');
  const note = amazon.getByRole('note', { name: 'Warnings for this channel' });
  await note.waitFor();
  assert.match(await note.innerText(), /Too small for this channel:.*Amazon enables zoom only for images of at least 1000 px/s);
  const tiktok = page.locator('.preset[data-preset="tiktok"]').getByRole('note');
  assert.match(await tiktok.innerText(), /Not delivered:.*256x256, too small for fit cover 1080x1920.*7\.50x/s);
  // a preset the image meets says nothing
  await page.locator('.preset[data-preset="web-320"]').waitFor();
  assert.equal(await page.locator('.preset[data-preset="web-320"] .delivery-warnings').count(), 0);
  await shot(page, 'delivery-warnings');
  await context.close();
});

test('an enlarged rendition says by how much; an image meeting a rule has no warning for it', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor, { to: `/ui/asset/${photo}?tab=delivery` });
  const row = page.locator('.renditions li', { hasText: 'preset:instagram-square' });
  await row.waitFor();
  assert.match(await row.innerText(), /1080×1080.*enlarged 1\.35×/s);
  const sq = page.locator('.preset[data-preset="instagram-square"]').getByRole('note');
  assert.match(await sq.innerText(), /Enlarged:.*enlarged 1\.35x to 1080x1080/s);
  await page.locator('.preset[data-preset="amazon"]').waitFor();
  assert.equal(await page.locator('.preset[data-preset="amazon"] .delivery-warnings').count(), 0,
    '1200 px meets Amazon\'s 1000 px rule');
  await context.close();
});

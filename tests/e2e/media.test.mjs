// Video plays from a key frame of the strip; a PDF shows its first page
// with the page count and turns pages by buttons, keys and its page strip;
// audio gets a player.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture } from '../api/lib/server.mjs';
import { launch, newPage, login, shot } from './lib/browser.mjs';

let s, browser, video, pdf, pages, audio;
before(async () => {
  s = await startServer();
  video = (await s.upload('teaser.mp4', fixture('clip.mp4'), 'editor')).asset_id;
  pdf = (await s.upload('lookbook.pdf', fixture('doc.pdf'), 'editor')).asset_id;
  pages = (await s.upload('colours.pdf', fixture('pages.pdf'), 'editor')).asset_id;
  audio = (await s.upload('jingle.wav', fixture('sound.wav'), 'editor')).asset_id;
  for (const id of [video, pdf, pages, audio]) await s.waitProcessed(id);
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

test('the key-frame strip seeks the video; PDFs and audio have their own views', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: `/ui/asset/${video}` });
  const strip = page.getByRole('group', { name: 'Key frames' });
  await strip.locator('img').waitFor();
  const a = (await s.api(`/api/v1/assets/${video}`, { as: 'viewer' })).json;
  const kf = a.versions[0].renditions.find((r) => r.name === 'keyframes');
  const n = kf.spec.frames;
  assert.equal(await strip.getByRole('button').count(), n, 'one button a frame');
  await page.waitForFunction(() => document.querySelector('video').readyState >= 1);
  await strip.getByRole('button').nth(3).click();
  const want = (kf.spec.span * 3.5) / n;
  await page.waitForFunction((w) => Math.abs(document.querySelector('video').currentTime - w) < 0.05, want);
  assert.match(await strip.getByRole('button').nth(3).getAttribute('aria-label'), new RegExp(`^Key frame 4: play from 0:0${want.toFixed(1)}$`));
  await shot(page, 'video');

  await page.goto(`/ui/asset/${pdf}`);
  await page.getByText('Page 1 of 2').waitFor();
  await page.waitForFunction(() => { const i = document.querySelector('.viewer-image img'); return i && i.complete && i.naturalWidth > 0; });
  await page.goto(`/ui/asset/${audio}`);
  await page.locator('audio[aria-label="jingle.wav"]').waitFor();
  page.check();
  await context.close();
});

test('a PDF turns pages with the next button, Page Down and its page strip', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: `/ui/asset/${pages}` });
  const big = page.locator('.viewer-image .zoom-box img');
  const loaded = (name) => page.waitForFunction((n) => {
    const i = document.querySelector('.viewer-image .zoom-box img');
    return i && i.getAttribute('src').includes(`/renditions/${n}`) && i.complete && i.naturalWidth > 0;
  }, name);
  await page.getByText('Page 1 of 3').waitFor();
  await loaded('preview');
  const strip = page.getByRole('group', { name: 'All pages (arrow keys move along)' });
  assert.equal(await strip.getByRole('button').count(), 3, 'one strip button a page');
  assert.deepEqual(await strip.locator('img').evaluateAll((l) => l.map((i) => i.getAttribute('loading'))), ['lazy', 'lazy', 'lazy']);
  assert.match(await strip.locator('img').nth(2).getAttribute('src'), /\/renditions\/page-3(\?|$)/);

  // keyboard only: focus "Next page" and press Enter
  const next = page.getByRole('button', { name: 'Next page' });
  await next.focus();
  await page.keyboard.press('Enter');
  await page.getByText('Page 2 of 3').waitFor();
  await loaded('page-2');
  assert.match(await big.getAttribute('src'), /\/renditions\/page-2(\?|$)/);
  assert.equal(await strip.getByRole('button', { name: 'Page 2' }).getAttribute('aria-current'), 'true');
  assert.ok(await next.evaluate((b) => b === document.activeElement && b.matches(':focus-visible')), 'focus stays visible on the button');
  // the rendered page is green, not page 1's red
  const rgb = await page.evaluate(() => {
    const i = document.querySelector('.viewer-image .zoom-box img');
    const c = document.createElement('canvas');
    c.width = i.naturalWidth; c.height = i.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(i, 0, 0);
    return Array.from(g.getImageData(20, 20, 1, 1).data.slice(0, 3));
  });
  assert.ok(rgb[1] > 120 && rgb[0] < 80, `page 2 is green: ${rgb}`);
  await shot(page, 'pdf-pages');

  await page.keyboard.press('PageDown');
  await page.getByText('Page 3 of 3').waitFor();
  await loaded('page-3');
  assert.equal(await next.getAttribute('aria-disabled'), 'true');
  await page.keyboard.press('Enter'); // at the end: stays on page 3
  await page.getByText('Page 3 of 3').waitFor();
  await strip.getByRole('button', { name: 'Page 1' }).click();
  await page.getByText('Page 1 of 3').waitFor();
  await loaded('preview');
  await page.getByRole('button', { name: 'Previous page' }).focus();
  await page.keyboard.press('PageDown');
  await loaded('page-2');
  // the strip is one tab stop: the current page; arrows and End move along it
  assert.deepEqual(await strip.getByRole('button').evaluateAll((l) => l.map((b) => b.tabIndex)), [-1, 0, -1]);
  await strip.getByRole('button', { name: 'Page 2' }).focus();
  // focus follows the current page once the strip has re-rendered (an effect, after paint)
  const focused = (label) => page.waitForFunction((l) => document.activeElement?.getAttribute('aria-label') === l,
    label, { timeout: 5000 });
  await page.keyboard.press('ArrowLeft');
  await loaded('preview');
  await focused('Page 1');
  await page.keyboard.press('End');
  await loaded('page-3');
  await focused('Page 3');
  page.check();
  await context.close();
});

// Video plays from a key frame of the strip; a PDF shows its first page
// with the page count; audio gets a player.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture } from '../api/lib/server.mjs';
import { launch, newPage, login, shot } from './lib/browser.mjs';

let s, browser, video, pdf, audio;
before(async () => {
  s = await startServer();
  video = (await s.upload('teaser.mp4', fixture('clip.mp4'), 'editor')).asset_id;
  pdf = (await s.upload('lookbook.pdf', fixture('doc.pdf'), 'editor')).asset_id;
  audio = (await s.upload('jingle.wav', fixture('sound.wav'), 'editor')).asset_id;
  for (const id of [video, pdf, audio]) await s.waitProcessed(id);
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

// Delivery from the asset page: channel presets with signed links (copy,
// then fetch without logging in), the focal point picker and deep zoom.
// Uses GET /api/v1/presets, GET /api/v1/assets/{id}/links, "focal" in
// PATCH/GET /api/v1/assets/{id} and the Deep Zoom tiles route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, checkedFetch, fixture, tmpDir } from '../api/lib/server.mjs';
import { launch, newPage, login, shot } from './lib/browser.mjs';

let s, browser, photo, big;
before(async () => {
  s = await startServer();
  photo = (await s.upload('campaign.jpg', fixture('photo.jpg'), 'editor')).asset_id;
  // a picture larger than the 1600 px preview, for deep zoom
  const dir = tmpDir();
  const bigPath = path.join(dir, 'poster.jpg');
  execFileSync('vips', ['gaussnoise', path.join(dir, 'n.v'), '3200', '2400']);
  execFileSync('vips', ['colourspace', path.join(dir, 'n.v'), bigPath, 'srgb']);
  big = (await s.upload('poster.jpg', fs.readFileSync(bigPath), 'editor')).asset_id;
  await s.waitProcessed(photo);
  await s.waitProcessed(big);
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

/** Width and height from a JPEG's SOF marker. */
function jpegSize(buf) {
  assert.equal(buf.readUInt16BE(0), 0xffd8, 'a JPEG');
  for (let i = 2; i < buf.length;) {
    const marker = buf.readUInt16BE(i), len = buf.readUInt16BE(i + 2);
    if (marker >= 0xffc0 && marker <= 0xffcf && ![0xffc4, 0xffc8, 0xffcc].includes(marker))
      return { width: buf.readUInt16BE(i + 7), height: buf.readUInt16BE(i + 5) };
    i += 2 + len;
  }
  throw new Error('no SOF marker');
}

test('copy a preset\'s signed link and fetch it without logging in', async () => {
  const mk = await s.api('/api/v1/presets', { method: 'POST', as: 'admin', json: { name: 'square-200', spec: 'w_200,h_200,fit_cover,f_jpeg', description: 'Marketplace square' } });
  assert.ok(mk.status === 201 || mk.status === 200, mk.text);
  const { context, page } = await newPage(browser, s, { permissions: ['clipboard-read', 'clipboard-write'] });
  await login(page, s.users.editor, { to: `/ui/asset/${photo}?tab=delivery` });
  const item = page.locator('.preset[data-preset="square-200"]');
  await item.getByText('Marketplace square').waitFor();
  await page.getByLabel('Links expire after').selectOption('86400');
  await item.getByRole('button', { name: 'Copy link' }).click();
  await page.getByText('Link for square-200 copied.').waitFor();
  const url = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(url, new RegExp(`^http://[^/]+/t/[^/]+/.*p_square-200.*/${photo}`));
  assert.equal(await item.getByRole('textbox', { name: 'Signed link for square-200' }).inputValue(), url, 'the link is also shown');
  await shot(page, 'delivery');
  // anyone with the link gets the picture: no cookie, no token
  const r = await checkedFetch(url);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^image\/jpeg/);
  const bytes = r.bytes;
  assert.deepEqual(jpegSize(bytes), { width: 200, height: 200 });
  // and its pixels are a picture, not a blank: draw it and look
  const spread = await page.evaluate(async (u) => {
    const img = new Image();
    img.src = u;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let min = 255, max = 0;
    for (let i = 0; i < d.length; i += 4) { const l = (d[i] + d[i + 1] + d[i + 2]) / 3; min = Math.min(min, l); max = Math.max(max, l); }
    return max - min;
  }, url);
  assert.ok(spread > 60, `the fetched picture has contrast (${spread})`);
  page.check();
  await context.close();
});

test('the focal point picker saves what was clicked', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor, { to: `/ui/asset/${photo}` });
  await page.getByRole('button', { name: 'Set focal point' }).click();
  const boxEl = page.locator('.zoom-box');
  const img = page.locator('.zoom-box img');
  await page.waitForFunction(() => document.querySelector('.zoom-box img').style.opacity !== '0');
  const b = await img.boundingBox();
  await boxEl.click({ position: { x: b.x - (await boxEl.boundingBox()).x + b.width * 0.25, y: b.y - (await boxEl.boundingBox()).y + b.height * 0.75 } });
  await page.getByText('Focal point at 25% across, 75% down').waitFor();
  await page.keyboard.press('ArrowRight'); // keyboard nudges by 1%
  await page.getByText('Focal point at 26% across, 75% down').waitFor();
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByText('Focal point saved.').waitFor();
  const a = (await s.api(`/api/v1/assets/${photo}`, { as: 'viewer' })).json;
  assert.ok(Math.abs(a.focal.x - 0.26) < 0.02 && Math.abs(a.focal.y - 0.75) < 0.02, JSON.stringify(a.focal));
  page.check();
  await context.close();
});

test('a large picture opens in deep zoom, reading the server\'s tiles', async () => {
  const { context, page } = await newPage(browser, s);
  const got = [];
  page.on('response', (r) => { if (r.url().includes(`/api/v1/assets/${big}/tiles/`)) got.push(r.status()); });
  await login(page, s.users.viewer, { to: `/ui/asset/${big}` });
  await page.locator('.zoom.deep canvas').first().waitFor();
  await page.waitForFunction(() => true);
  for (const until = Date.now() + 15000; got.filter((x) => x === 200).length < 2; await page.waitForTimeout(100))
    assert.ok(Date.now() < until, `tiles loaded: ${got}`);
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await shot(page, 'deep-zoom');
  assert.ok(got.every((x) => x === 200), `every tile answered 200: ${got}`);
  page.check();
  await context.close();
});

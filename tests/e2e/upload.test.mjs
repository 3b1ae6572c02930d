// Uploading: several files at once over tus with progress per file and
// overall, tags applied to every file, and per-file verdicts (added, or a
// duplicate naming the asset that already holds the bytes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, fixture, tmpDir, sha256, FIXTURES } from '../api/lib/server.mjs';
import { launch, newPage, login, shot, waitPath } from './lib/browser.mjs';

let s, browser, dir;
before(async () => {
  s = await startServer();
  // bytes already in the library, under another name
  await s.upload('already-here.jpg', fixture('photo2.jpg'), 'editor');
  dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'big-render.bin'), crypto.randomBytes(12 * 1024 * 1024));
  fs.copyFileSync(path.join(FIXTURES, 'photo2.jpg'), path.join(dir, 'second-copy.jpg'));
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

test('upload four files: progress, tags, three added and one duplicate named', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.contributor, { to: '/ui/upload' });
  await page.locator('.uppy-Dashboard-AddFiles').waitFor();
  await page.getByLabel('Tags (comma separated)').fill('e2e upload, spring 2026');
  const files = [path.join(FIXTURES, 'photo.jpg'), path.join(FIXTURES, 'alpha.png'), path.join(dir, 'big-render.bin'), path.join(dir, 'second-copy.jpg')];
  await page.locator('input[type=file].uppy-Dashboard-input').first().setInputFiles(files);
  await page.getByRole('button', { name: /^Upload 4 files/ }).waitFor();
  // a slow link, so the progress can be seen moving
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 3 * 1024 * 1024 });
  await page.getByRole('button', { name: /^Upload 4 files/ }).click();
  const overall = page.locator('.overall progress');
  const seen = new Set();
  for (const until = Date.now() + 30000; ; await page.waitForTimeout(50)) {
    const v = Number(await overall.getAttribute('value').catch(() => '0'));
    seen.add(v);
    if (v > 0 && v < 100) break;
    assert.ok(Date.now() < until, `overall progress moves through intermediate values: ${[...seen]}`);
  }
  // looking at the library meanwhile does not stop the uploads; the top bar shows them
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Library/ }).click();
  await waitPath(page, /^\/ui\/library/);
  const badge = page.getByRole('navigation', { name: 'Main' }).locator('.badge.live');
  await badge.waitFor();
  assert.match(await badge.textContent(), /^\d+%$/);
  await badge.waitFor({ state: 'detached', timeout: 60000 });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Upload' }).click();
  await page.locator('.upload-results tbody tr').nth(3).waitFor();
  for (const until = Date.now() + 30000; await page.locator('.upload-results tbody tr[data-status=uploading]').count(); await page.waitForTimeout(100))
    assert.ok(Date.now() < until, 'every file has its verdict');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const status = await page.getByRole('status').filter({ hasText: /added/ }).textContent();
  assert.equal(status, '3 added, 1 duplicates, 0 failed');
  const row = (name) => page.locator('.upload-results tbody tr', { hasText: name });
  for (const n of ['photo.jpg', 'alpha.png', 'big-render.bin']) assert.match(await row(n).textContent(), /Added · Open/);
  await row('second-copy.jpg').getByText('already in the library as already-here.jpg').waitFor();
  await shot(page, 'upload');
  // the server agrees: three new assets with both tags, the big one byte for byte
  const r = await s.api(`/api/v1/search?q=${encodeURIComponent('tag:"e2e upload" tag:"spring 2026"')}&facets=false`, { as: 'viewer' });
  assert.deepEqual(r.json.items.map((x) => x.name).sort(), ['alpha.png', 'big-render.bin', 'photo.jpg']);
  const big = r.json.items.find((x) => x.name === 'big-render.bin');
  const orig = await s.api(`/api/v1/assets/${big.id}/original`, { as: 'viewer' });
  assert.equal(sha256(orig.bytes), sha256(fs.readFileSync(path.join(dir, 'big-render.bin'))));
  // the Open link goes to the asset
  await row('big-render.bin').getByRole('link', { name: 'Open' }).click();
  await page.waitForFunction((id) => location.pathname === `/ui/asset/${id}`, big.id);
  page.check();
  await context.close();
});

test('a viewer is told they cannot upload', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: '/ui/upload' });
  await page.getByText('Your role cannot upload. Ask an admin for the contributor role.').waitFor();
  assert.equal(await page.getByRole('link', { name: 'Upload' }).count(), 0, 'no upload link for viewers');
  page.check();
  await context.close();
});

test('an upload cut off by a reload resumes from the server\'s offset when the file is added again', async () => {
  const file = path.join(dir, 'resume-me.bin');
  fs.writeFileSync(file, crypto.randomBytes(20 * 1024 * 1024));
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.contributor, { to: '/ui/upload' });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 4 * 1024 * 1024 });
  let uploadUrl = null;
  page.on('response', (r) => { if (r.request().method() === 'POST' && r.url().endsWith('/api/v1/uploads')) uploadUrl = r.headers().location; });
  await page.locator('input[type=file].uppy-Dashboard-input').first().setInputFiles(file);
  await page.getByRole('button', { name: /^Upload 1 file/ }).click();
  // the first 8 MiB chunk is on the server
  for (const until = Date.now() + 30000; ; await page.waitForTimeout(100)) {
    if (uploadUrl) {
      const u = await s.api(uploadUrl, { as: 'contributor' });
      if (u.json?.offset >= 8 * 1024 * 1024) break;
    }
    assert.ok(Date.now() < until, 'a chunk reached the server');
  }
  await page.reload(); // the page (and its upload) goes away
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const patches = [];
  page.on('request', (r) => { if (r.method() === 'PATCH' && r.url().includes('/api/v1/uploads/')) patches.push([r.url(), Number(r.headers()['upload-offset'])]); });
  await page.locator('input[type=file].uppy-Dashboard-input').first().setInputFiles(file);
  await page.getByRole('button', { name: /^Upload 1 file/ }).click();
  await page.locator('.upload-results tbody tr', { hasText: 'resume-me.bin' }).getByText('Added').waitFor({ timeout: 60000 });
  assert.ok(patches.length >= 1);
  assert.ok(patches[0][0].endsWith(uploadUrl), 'the same upload goes on');
  assert.ok(patches[0][1] >= 8 * 1024 * 1024, `it resumed at ${patches[0][1]}, not 0`);
  const r = await s.api(`/api/v1/search?q=${encodeURIComponent('resume-me')}&facets=false`, { as: 'viewer' });
  const orig = await s.api(`/api/v1/assets/${r.json.items[0].id}/original`, { as: 'viewer' });
  assert.equal(sha256(orig.bytes), sha256(fs.readFileSync(file)), 'and the file arrived whole');
  page.check();
  await context.close();
});

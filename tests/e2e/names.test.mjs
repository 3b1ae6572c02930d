// The asset page names what a file really is when its extension says
// otherwise (issue #11 point 12: the notice used to read "The content is ;").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture } from '../api/lib/server.mjs';
import { launch, newPage, login } from './lib/browser.mjs';

let s, browser, text, png;
before(async () => {
  s = await startServer();
  text = (await s.upload('notes-as.jpg', Buffer.from('plain words and not a picture\n'.repeat(20)), 'editor')).asset_id;
  png = (await s.upload('really-a-png.jpg', fixture('alpha.png'), 'editor')).asset_id;
  for (const id of [text, png]) await s.waitProcessed(id);
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

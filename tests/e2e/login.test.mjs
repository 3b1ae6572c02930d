// Logging in and out, and an ended session: the user logs in again and
// comes back to where they were, with what they had typed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, cli } from '../api/lib/server.mjs';
import { launch, newPage, login, shot, waitPath } from './lib/browser.mjs';

let s, browser, assetId;
before(async () => {
  s = await startServer();
  assetId = (await s.upload('login-photo.jpg', fixture('photo2.jpg'), 'editor')).asset_id;
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

test('a visitor is sent to the login page; a wrong password is said plainly; the right one opens the library', async () => {
  const { context, page } = await newPage(browser, s);
  await page.goto('/ui/library?q=photo');
  await waitPath(page, /^\/ui\/login\?next=/);
  assert.equal(new URL(page.url()).searchParams.get('next'), '/ui/library?q=photo');
  await shot(page, 'login');
  await page.getByLabel('User name').fill(s.users.editor.name);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal(await alert.textContent(), 'The user name or password is wrong.');
  assert.equal(await page.getByLabel('User name').inputValue(), s.users.editor.name, 'the user name is kept');
  assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Password').fill(s.users.editor.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await waitPath(page, /^\/ui\/library\?q=photo$/);
  assert.equal(await page.locator('#q').inputValue(), 'photo', 'back to the search that was asked for');
  await page.locator('.cell[data-name="login-photo.jpg"]').waitFor();
  // the account menu names the user; logging out ends the session on the server
  await page.getByRole('button', { name: 'editor1 – account (Editor)' }).click();
  await page.getByRole('button', { name: 'Log out' }).click();
  await waitPath(page, /^\/ui\/login\?reason=logout$/);
  await page.getByText('You have logged out.').waitFor();
  const who = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
  assert.equal(who, 401);
  page.check();
  await context.close();
});

test('an ended session: log in again, back on the same tab with the typed value, then it saves', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.editor, { to: `/ui/asset/${assetId}?tab=fields` });
  await waitPath(page, new RegExp(`^/ui/asset/${assetId}\\?tab=fields$`));
  await page.getByLabel('Field name').fill('caption');
  await page.getByLabel('Value', { exact: true }).fill('Blue sneaker, side view');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  assert.equal(await page.locator('#f-caption').inputValue(), 'Blue sneaker, side view');
  // the server ends every session of the user (a password change does that)
  cli(s.lib, ['user', 'passwd', s.users.editor.name, '--password-stdin'], 'a brand new password\n');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await waitPath(page, /^\/ui\/login\?reason=expired&next=/);
  await page.getByText('Your session has ended. Log in again to continue where you were.').waitFor();
  await shot(page, 'login-expired');
  await page.getByLabel('User name').fill(s.users.editor.name);
  await page.getByLabel('Password').fill('a brand new password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await waitPath(page, new RegExp(`^/ui/asset/${assetId}\\?tab=fields$`));
  await page.getByText('Your unsaved changes from before were restored.').waitFor();
  assert.equal(await page.locator('#f-caption').inputValue(), 'Blue sneaker, side view', 'nothing typed was lost');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Fields saved.').waitFor();
  const a = await s.api(`/api/v1/assets/${assetId}`, { as: 'viewer' });
  assert.equal(a.json.fields.caption, 'Blue sneaker, side view');
  page.check();
  await context.close();
});

// Administration: users and roles, API tokens, field definitions, the job
// queue; errors from the server shown at the input that caused them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, uniqueText } from '../api/lib/server.mjs';
import { launch, newPage, login, shot } from './lib/browser.mjs';

let s, browser;
before(async () => {
  s = await startServer();
  await s.upload('job-photo.jpg', fixture('photo.jpg'), 'editor');
  await s.upload('broken.jpg', fixture('corrupt.jpg'), 'editor');
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

test('add a user with a generated password, change their role; the last admin stays', async () => {
  const { context, page } = await newPage(browser, s, { permissions: ['clipboard-read', 'clipboard-write'] });
  await login(page, s.users.admin, { to: '/ui/admin/users' });
  await page.getByRole('row', { name: /viewer1/ }).waitFor();
  const form = page.locator('form', { has: page.getByRole('heading', { name: 'Add a user' }) });
  await form.getByLabel('User name').fill('bad name!');
  await form.getByRole('button', { name: 'Add a user' }).click();
  await form.getByRole('alert').waitFor();
  assert.equal(await form.getByLabel('User name').getAttribute('aria-invalid'), 'true');
  await form.getByLabel('User name').fill('maria');
  await form.getByLabel('Role').selectOption('editor');
  await form.getByRole('button', { name: 'Add a user' }).click();
  await page.getByRole('paragraph').filter({ hasText: 'Password for maria, shown only now:' }).waitFor();
  const pw = await form.getByRole('textbox', { name: 'Password for maria, shown only now:' }).inputValue();
  assert.match(pw, /^\S{20}$/);
  const r = await s.api('/api/v1/session', { method: 'POST', json: { username: 'maria', password: pw } });
  assert.equal(r.status, 201);
  assert.equal(r.json.role, 'editor');
  await page.getByRole('combobox', { name: 'Role of maria' }).selectOption('viewer');
  await page.getByText('maria is now Viewer.').waitFor();
  assert.equal((await s.api('/api/v1/users', { as: 'admin' })).json.items.find((u) => u.username === 'maria').role, 'viewer');
  // demoting the only admin is refused, in words, next to that user
  await page.getByRole('combobox', { name: 'Role of admin' }).selectOption('editor');
  await page.getByRole('alert').filter({ hasText: /admin/ }).waitFor();
  assert.equal(await page.getByRole('combobox', { name: 'Role of admin' }).inputValue(), 'admin', 'the list shows what the server kept');
  await shot(page, 'admin-users');
  page.check();
  await context.close();
});

test('create an API token, use it, revoke it', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.contributor, { to: '/ui/admin/tokens' });
  await page.getByLabel('Label').fill('CI pipeline');
  await page.getByLabel('Expires after (days, empty = never)').fill('abc');
  await page.getByRole('button', { name: 'Create a token' }).click();
  const e = page.locator('form .field-error');
  await e.waitFor();
  assert.match(await e.textContent(), /expires_in_days/);
  await page.getByLabel('Expires after (days, empty = never)').fill('30');
  await page.getByRole('button', { name: 'Create a token' }).click();
  const secret = await page.getByRole('textbox', { name: 'The new token, shown only now. Copy it somewhere safe:' }).inputValue();
  assert.match(secret, /^dam_/);
  assert.equal((await s.api('/api/v1/session', { as: secret })).json.username, 'contributor1');
  await page.getByRole('row', { name: /CI pipeline/ }).getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('dialog', { name: 'Revoke the token "CI pipeline"?' }).getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('row', { name: /CI pipeline.*Revoked/ }).waitFor();
  assert.equal((await s.api('/api/v1/session', { as: secret })).status, 401);
  await shot(page, 'admin-tokens');
  page.check();
  await context.close();
});

test('define a field (a server refusal shown at the form), then see the job queue', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.admin, { to: '/ui/admin/fields' });
  const form = page.locator('form', { has: page.getByRole('heading', { name: 'Define field' }) });
  await form.getByLabel('Key').fill('season');
  await form.getByLabel('Type').selectOption('choice');
  await form.getByRole('button', { name: 'Define field' }).click();
  await form.locator('.field-error').waitFor(); // a choice field needs a vocabulary
  await form.getByLabel('Type').selectOption('text');
  await form.getByLabel('Label (English)').fill('Season');
  await form.getByLabel('Required').check();
  await form.getByRole('button', { name: 'Define field' }).click();
  await page.getByText('Field season defined.').waitFor();
  await page.getByRole('row', { name: /season/ }).waitFor();
  const f = (await s.api('/api/v1/fields', { as: 'admin' })).json.items.find((x) => x.key === 'season');
  assert.equal(f.required, true);
  assert.equal(f.labels.en, 'Season');

  await page.goto('/ui/admin/jobs');
  await page.getByRole('row', { name: /broken\.jpg/ }).waitFor();
  for (const until = Date.now() + 30000; !(await page.getByRole('row', { name: /broken\.jpg.*Failed/ }).count()); await page.waitForTimeout(300))
    assert.ok(Date.now() < until, 'the corrupt file\'s job fails and the page shows it');
  assert.match(await page.getByRole('row', { name: /broken\.jpg/ }).textContent(), /Retry/);
  await shot(page, 'admin-jobs');
  page.check();
  await context.close();
});

// What a professional expects of the details: technical metadata as
// labelled, formatted values (raw behind a toggle); presets that cannot be
// removed have no Remove button, and Edit brings the form into view;
// vocabulary counts follow added terms; the delivery help promises only
// what exists; number fields take a decimal comma where the locale writes one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture } from '../api/lib/server.mjs';
import { launch, newPage, login } from './lib/browser.mjs';

let s, browser, photo, clip, doc;
before(async () => {
  s = await startServer();
  photo = (await s.upload('tech.jpg', fixture('photo.jpg'), 'editor')).asset_id;
  clip = (await s.upload('clip.mp4', fixture('clip.mp4'), 'editor')).asset_id;
  doc = (await s.upload('pages.pdf', fixture('pages.pdf'), 'editor')).asset_id;
  for (const id of [photo, clip, doc]) await s.waitProcessed(id);
  const r = await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key: 'weight', type: 'number', labels: { en: 'Weight (kg)' } } });
  assert.equal(r.status, 201, r.text);
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

const rows = (page) => page.locator('.kv.tech').evaluate((dl) => {
  const out = {};
  for (const dt of dl.querySelectorAll('dt')) out[dt.textContent] = dt.nextElementSibling.textContent;
  return out;
});

test('technical metadata: labelled, formatted values; the raw record behind a toggle', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: `/ui/asset/${photo}` });
  await page.locator('.kv.tech').waitFor();
  const p = await rows(page);
  assert.equal(p.Camera, 'Canon EOS R5');
  assert.equal(p.Lens, 'RF24-70mm F2.8 L IS USM');
  assert.equal(p.Exposure, '1/125 s f/2.8 ISO 200');
  assert.equal(p['Focal length'], '50 mm');
  assert.equal(p.Dimensions, '1,200 × 800 px');
  assert.equal(p['Colour profile'], 'sRGB');
  assert.equal(p['Colour space'], 'sRGB');
  assert.equal(p.Location, '52.3676, 4.9041');
  // the raw dump is there, folded
  const raw = page.locator('details.raw-metadata');
  assert.equal(await raw.getByText('exposure_time').isVisible(), false);
  await raw.locator('summary').click();
  await raw.getByText('exposure_time').waitFor();

  await page.goto(`/ui/asset/${clip}`);
  await page.locator('.kv.tech').waitFor();
  const c = await rows(page);
  assert.equal(c.Duration, '0:02');
  assert.equal(c.Video, 'H264, 320 × 240, 25 fps');
  assert.equal(c.Audio, 'AAC, 2 channels, 44.1 kHz');
  await page.goto(`/ui/asset/${doc}`);
  await page.locator('.kv.tech').waitFor();
  assert.equal((await rows(page)).Pages, '3');
  page.check();
  await context.close();
});

test('presets: no Remove on built-in ones, Edit scrolls to the form; the delivery help says what exists', async () => {
  const { context, page } = await newPage(browser, s, { width: 1280, height: 600 });
  const r = await s.api('/api/v1/presets', { method: 'POST', as: 'admin', json: { name: 'mine', spec: 'w_300,h_300,f_jpeg' } });
  assert.equal(r.status, 201, r.text);
  const all = (await s.api('/api/v1/presets', { as: 'admin' })).json;
  const list = all.items || all.presets || Object.values(all).find(Array.isArray);
  const builtin = list.find((x) => x.source === 'builtin');
  assert.ok(builtin, 'the server has built-in presets');
  await login(page, s.users.admin, { to: '/ui/admin/presets' });
  const row = (n) => page.locator('tbody tr', { has: page.getByRole('rowheader', { name: new RegExp(`^${n}\\b`) }) });
  await row('mine').waitFor();
  assert.equal(await row(builtin.name).getByRole('button', { name: /^Remove/ }).count(), 0, 'a built-in preset cannot be removed');
  assert.equal(await row('mine').getByRole('button', { name: /^Remove/ }).count(), 1);
  // the first row's Edit: the form far below comes into view, its transform focused
  await row(builtin.name).getByRole('button', { name: /^Edit/ }).click();
  const form = page.locator('form', { has: page.getByRole('heading', { name: `Edit ${builtin.name}` }) });
  await page.waitForFunction(() => { const f = document.querySelector('form.card'); const b = f.getBoundingClientRect(); return b.top >= 0 && b.top < innerHeight - 100; });
  assert.equal(await form.getByLabel('Transform').inputValue(), builtin.spec);
  assert.ok(await form.getByLabel('Transform').evaluate((el) => el === document.activeElement));
  // removing one the server allows still works
  await row('mine').getByRole('button', { name: /^Remove/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
  await row('mine').waitFor({ state: 'detached' });

  await page.goto(`/ui/asset/${photo}?tab=delivery`);
  await page.getByText(/Signed links work without logging in/).waitFor();
  assert.equal(await page.getByText(/unpublish/i).count(), 0, 'there is no publish state to undo');
  page.check();
  await context.close();
});

test('vocabularies: the term count follows added terms', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.admin, { to: '/ui/admin/vocabularies' });
  await page.getByLabel('New vocabulary').fill('colours');
  await page.getByRole('button', { name: 'New vocabulary' }).click();
  const pill = page.getByRole('button', { name: /^colours/ });
  await pill.filter({ hasText: '(0)' }).waitFor();
  for (const [i, term] of ['red', 'blue'].entries()) {
    await page.getByLabel('Term', { exact: true }).fill(term);
    await page.getByRole('button', { name: 'Save term' }).click();
    await pill.filter({ hasText: `(${i + 1})` }).waitFor();
  }
  page.check();
  await context.close();
});

test('a number field takes "12,5" where the locale writes a decimal comma', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, baseURL: s.url, locale: 'nl-NL' });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await login(page, s.users.editor, { to: `/ui/asset/${photo}?tab=fields` });
  await page.getByLabel('Weight (kg)').fill('12,5');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Fields saved.').waitFor();
  const a = (await s.api(`/api/v1/assets/${photo}`, { as: 'viewer' })).json;
  assert.equal(a.fields.weight, '12.5');
  // and through the selection's "Set field" too
  await page.goto('/ui/library');
  await page.locator(`.cell[data-name="clip.mp4"] .cell-check`).click();
  await page.getByRole('button', { name: 'Set field…' }).click();
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Field', { exact: true }).fill('weight');
  await dlg.getByLabel(/^Value/).fill('0,75');
  await dlg.getByRole('button', { name: 'Apply' }).click();
  await dlg.waitFor({ state: 'detached' });
  assert.equal((await s.api(`/api/v1/assets/${clip}`, { as: 'viewer' })).json.fields.weight, '0.75');
  assert.deepEqual(problems, []);
  await context.close();
});

test('field definitions and vocabulary terms are changed in place, not only added and removed', async () => {
  const { context, page } = await newPage(browser, s, { width: 1280, height: 700 });
  await login(page, s.users.admin, { to: '/ui/admin/fields' });
  await page.getByRole('button', { name: 'Edit field weight' }).click();
  const form = page.locator('form', { has: page.getByRole('heading', { name: 'Edit field weight' }) });
  await form.waitFor();
  assert.equal(await form.getByLabel('Key').isDisabled(), true, 'the key cannot change');
  assert.equal(await form.getByLabel('Label (English)').inputValue(), 'Weight (kg)');
  await form.getByLabel('Label (English)').fill('Net weight (kg)');
  await form.getByLabel('Facet in search').check();
  await form.getByRole('button', { name: 'Save field' }).click();
  await page.getByText('Field weight changed.').waitFor();
  await page.getByRole('row', { name: /weight Net weight \(kg\)/ }).waitFor();
  const def = (await s.api('/api/v1/fields', { as: 'admin' })).json.items.find((d) => d.key === 'weight');
  assert.equal(def.labels.en, 'Net weight (kg)');
  assert.equal(def.facetable, true);
  assert.equal(def.type, 'number', 'what was not touched stays');

  await page.goto('/ui/admin/vocabularies');
  await page.getByRole('button', { name: /^colours/ }).click();
  await page.getByRole('button', { name: 'Edit term red' }).click();
  await page.getByLabel('Term', { exact: true }).fill('Crimson');
  await page.getByLabel('Synonyms (comma separated)').fill('scarlet');
  await page.getByRole('button', { name: 'Save term' }).click();
  await page.getByText('Term Crimson saved.').waitFor();
  const v = (await s.api('/api/v1/vocabularies/colours', { as: 'admin' })).json;
  const crimson = v.terms.find((x) => x.term === 'Crimson');
  assert.deepEqual(crimson.synonyms.sort(), ['red', 'scarlet'], 'renamed; the old text is a synonym');
  assert.equal(v.terms.length, 2);
  await page.getByRole('button', { name: /^colours \(2\)/ }).waitFor();
  page.check();
  await context.close();
});

test('facets: automatic tags are grouped apart from people\'s tags', async () => {
  const r0 = await s.api(`/api/v1/assets/${photo}`, { method: 'PATCH', as: 'editor', json: { tags: { add: ['hero'] } } });
  assert.equal(r0.status, 200, r0.text);
  const tags = (await s.api(`/api/v1/assets/${photo}`, { as: 'viewer' })).json.tags;
  const auto = tags.filter((x) => x.source === 'automatic').map((x) => x.tag);
  const people = tags.filter((x) => x.source !== 'automatic').map((x) => x.tag);
  assert.ok(auto.length && people.includes('hero'), JSON.stringify(tags));
  // the API tells the sources apart
  const f = (await s.api('/api/v1/search?limit=1&q=tech', { as: 'viewer' })).json.facets;
  assert.deepEqual(Object.keys(f.autotag).sort(), [...auto].sort());
  for (const t of [...auto, ...people]) assert.equal(f.tag[t], 1, `tag ${t} counted in tag`);

  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: '/ui/library?q=tech' });
  const group = (name) => page.locator('section.facet', { has: page.getByRole('heading', { name, exact: true }) });
  await group('Automatic tags').waitFor();
  const values = (name) => group(name).locator('.facet-value').allTextContents();
  for (const name of ['Automatic tags', 'Tags']) {
    const more = group(name).getByRole('button', { name: /^Show all/ });
    if (await more.count()) await more.click();
  }
  assert.deepEqual((await values('Automatic tags')).sort(), [...auto].sort());
  assert.deepEqual((await values('Tags')).sort(), [...people].sort(), 'no automatic tag among people\'s');
  // ticking an automatic tag filters by it
  await group('Automatic tags').getByRole('checkbox', { name: new RegExp(`^${auto[0]},`) }).check();
  await page.waitForFunction(() => /f=autotag/.test(location.search));
  await page.waitForFunction(() => document.querySelector('.results-title .count').textContent === '1 asset');
  page.check();
  await context.close();
});

// Tiles are links: a click opens the asset, middle and Ctrl clicks open it
// in a new tab, the check box / Space / Shift-click select; on touch a tap
// opens and a long press selects (on a controlled clock). The asset page
// steps to the previous and next asset of the search it came from (buttons
// and arrow keys; same query and order, across result pages). Tiles show
// the title when there is one; only transparent pictures sit on a
// checkerboard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixture, uniqueText } from '../api/lib/server.mjs';
import { launch, newPage, login, waitPath } from './lib/browser.mjs';

let s, browser;
const ids = {};
before(async () => {
  s = await startServer();
  const ok = async (p, o) => { const r = await s.api(p, { as: 'admin', ...o }); assert.ok(r.status < 300, `${p}: ${r.status} ${r.text}`); return r; };
  await ok('/api/v1/fields', { method: 'POST', json: { key: 'title', type: 'text', labels: { en: 'Title' } } });
  for (const [name, bytes] of [['a-photo.jpg', fixture('photo.jpg')], ['b-logo.png', fixture('alpha.png')], ['c-notes.txt', uniqueText('c')],
    ['d-notes.txt', uniqueText('d')], ['e-photo.jpg', fixture('photo2.jpg')]]) {
    ids[name] = (await s.upload(name, bytes, 'editor')).asset_id;
    await ok(`/api/v1/assets/${ids[name]}`, { method: 'PATCH', json: { tags: { add: ['walk'] } } });
  }
  await ok(`/api/v1/assets/${ids['a-photo.jpg']}`, { method: 'PATCH', json: { fields: { title: 'Red sneaker, front' } } });
  for (const id of Object.values(ids)) await s.waitProcessed(id);
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

const LIB = '/ui/library?q=tag%3Awalk&sort=name';
const tile = (page, name) => page.locator(`.cell[data-name="${name}"]`);
const selectedCount = (page) => page.locator('.cell[aria-selected=true]').count();

test('a tile is a link: click opens, middle and Ctrl click open a new tab, the check box and Space select', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: LIB });
  await tile(page, 'c-notes.txt').waitFor();
  const href = await tile(page, 'c-notes.txt').getAttribute('href');
  assert.equal(href, `/ui/asset/${ids['c-notes.txt']}?in=q%3Dtag%253Awalk%26sort%3Dname&at=2`);
  assert.equal(await tile(page, 'c-notes.txt').evaluate((el) => el.tagName), 'A');

  // middle click and Ctrl-click: a new tab with the asset, this one stays
  for (const how of [{ button: 'middle' }, { modifiers: ['Control'] }]) {
    const opened = context.waitForEvent('page');
    await tile(page, 'd-notes.txt').click(how);
    const tab = await opened;
    await tab.waitForLoadState();
    assert.equal(new URL(tab.url()).pathname, `/ui/asset/${ids['d-notes.txt']}`);
    await tab.getByRole('heading', { name: 'd-notes.txt' }).waitFor();
    await tab.close();
    assert.equal(new URL(page.url()).pathname, '/ui/library');
    assert.equal(await selectedCount(page), 0, 'a new-tab click selects nothing');
  }

  // the check box selects (and does not open); while a selection is being
  // made a click on a tile adds to it; Shift-click adds a range
  await tile(page, 'b-logo.png').hover();
  await tile(page, 'b-logo.png').locator('.cell-check').click();
  await page.locator('.bulk-bar').waitFor();
  assert.equal(new URL(page.url()).pathname, '/ui/library');
  assert.equal(await tile(page, 'b-logo.png').getAttribute('aria-selected'), 'true');
  await tile(page, 'd-notes.txt').click();
  assert.equal(await selectedCount(page), 2);
  await tile(page, 'e-photo.jpg').click({ modifiers: ['Shift'] });
  assert.equal(await selectedCount(page), 3, 'Shift-click adds d..e');
  await page.keyboard.press('Escape');
  assert.equal(await selectedCount(page), 0);

  // keyboard: Space selects the active tile, Enter opens it
  await page.getByRole('listbox').focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press(' ');
  assert.equal(await tile(page, 'b-logo.png').getAttribute('aria-selected'), 'true');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  await waitPath(page, new RegExp(`^/ui/asset/${ids['b-logo.png']}\\?in=`));
  await page.goBack();
  await tile(page, 'a-photo.jpg').waitFor();

  // a plain click opens in this tab
  await tile(page, 'a-photo.jpg').click();
  await waitPath(page, new RegExp(`^/ui/asset/${ids['a-photo.jpg']}\\?in=.*&at=0$`));
  await page.getByRole('heading', { name: 'Red sneaker, front' }).waitFor();
  page.check();
  await context.close();
});

test('touch: a tap opens, a long press selects', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 800 }, hasTouch: true, isMobile: true, baseURL: s.url });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.clock.install();
  await login(page, s.users.viewer, { to: LIB });
  await tile(page, 'c-notes.txt').waitFor();
  const box = await tile(page, 'c-notes.txt').boundingBox();
  const at = { x: Math.round(box.x + box.width / 2), y: Math.round(box.y + box.height / 3) };
  const cdp = await context.newCDPSession(page);
  const touch = (type) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [at] });

  // the finger rests 600 ms (on the page's clock): selected, not opened
  await page.clock.pauseAt(Date.now() + 1000);
  await touch('touchStart');
  await page.clock.runFor(300);
  assert.equal(await selectedCount(page), 0, 'not yet at 300 ms');
  await page.clock.runFor(300);
  await touch('touchEnd');
  await page.clock.resume();
  await page.locator('.bulk-bar').waitFor();
  assert.equal(await tile(page, 'c-notes.txt').getAttribute('aria-selected'), 'true');
  assert.equal(new URL(page.url()).pathname, '/ui/library');
  await page.locator('.bulk-bar').getByRole('button', { name: /clear/i }).click();
  assert.equal(await selectedCount(page), 0);

  // a tap opens
  await tile(page, 'd-notes.txt').tap();
  await waitPath(page, new RegExp(`^/ui/asset/${ids['d-notes.txt']}\\?in=`));
  assert.deepEqual(problems, []);
  await context.close();
});

test('previous and next follow the search the asset was opened from (buttons, arrow keys, across pages)', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: LIB });
  await tile(page, 'c-notes.txt').click();
  await page.getByRole('heading', { name: 'c-notes.txt' }).waitFor();
  const steps = page.getByRole('navigation', { name: 'Assets of the search' });
  await steps.getByText('3 of 5').waitFor();
  await steps.getByRole('link', { name: /Next asset/ }).click();
  await page.getByRole('heading', { name: 'd-notes.txt' }).waitFor();
  await steps.getByText('4 of 5').waitFor();
  // the tab stays as it was
  await page.getByRole('tab', { name: /Tags/ }).click();
  await page.keyboard.press('ArrowRight'); // on the tab list: the next tab, not the next asset
  await page.getByRole('tab', { name: /Versions/, selected: true }).waitFor();
  assert.equal(await page.locator('h1').textContent(), 'd-notes.txt');
  await page.locator('h1').click();
  await page.keyboard.press('ArrowRight');
  await page.getByRole('heading', { name: 'e-photo.jpg' }).waitFor();
  assert.match(new URL(page.url()).search, /tab=/);
  await steps.getByText('5 of 5').waitFor();
  assert.equal(await steps.getByRole('link', { name: /Next asset/ }).count(), 0, 'the last has no next');
  await page.keyboard.press('ArrowLeft');
  await page.getByRole('heading', { name: 'd-notes.txt' }).waitFor();
  await steps.getByRole('link', { name: /Previous asset/ }).click();
  await page.getByRole('heading', { name: 'c-notes.txt' }).waitFor();
  // back to the library: the same search
  await page.getByRole('link', { name: '← Library' }).click();
  await waitPath(page, /^\/ui\/library\?q=tag%3Awalk&sort=name$/);
  page.check();

  // across pages: the grid loads 100 a page; from the 100th asset of a
  // search of 103, next is the first of the second page, in name order
  const more = [];
  for (let i = 0; i < 98; i++) more.push(s.upload(`p${String(i).padStart(3, '0')}.txt`, uniqueText(`p${i}`), 'editor'));
  const made = await Promise.all(more);
  assert.equal(made.length, 98);
  const all = await s.api('/api/v1/search?sort=name&limit=200&facets=false', { as: 'admin' });
  assert.equal(all.json.total, 103);
  const names = all.json.items.map((x) => x.name);
  const from = new URLSearchParams({ sort: 'name' }).toString();
  await page.goto(`/ui/asset/${all.json.items[99].id}?in=${encodeURIComponent(from)}&at=99`);
  await page.getByRole('heading', { name: names[99] }).waitFor();
  await steps.getByText('100 of 103').waitFor();
  await page.locator('h1').click();
  await page.keyboard.press('ArrowRight');
  await page.getByRole('heading', { name: names[100] }).waitFor();
  await steps.getByText('101 of 103').waitFor();
  page.check();
  await context.close();
});

test('tiles show the title; only pictures with transparency sit on a checkerboard', async () => {
  const { context, page } = await newPage(browser, s);
  await login(page, s.users.viewer, { to: LIB });
  await tile(page, 'a-photo.jpg').waitFor();
  assert.equal(await tile(page, 'a-photo.jpg').locator('.cell-name').textContent(), 'Red sneaker, front');
  assert.equal(await tile(page, 'b-logo.png').locator('.cell-name').textContent(), 'b-logo.png');
  await page.waitForFunction(() => [...document.querySelectorAll('.cell .thumb img')].length >= 3 &&
    [...document.querySelectorAll('.cell .thumb img')].every((i) => i.complete && i.naturalWidth));
  const look = (name) => tile(page, name).locator('.thumb').evaluate((el) => {
    const img = el.querySelector('img');
    const b = el.getBoundingClientRect(), i = img.getBoundingClientRect();
    return { bg: getComputedStyle(el).backgroundImage, fills: Math.abs(b.width - i.width) < 1 && Math.abs(b.height - i.height) < 1 };
  });
  const photo = await look('a-photo.jpg');
  assert.equal(photo.bg, 'none', 'no checkerboard behind an opaque photo');
  assert.ok(photo.fills, 'the photo fills its tile (no letterbox)');
  const logo = await look('b-logo.png');
  assert.match(logo.bg, /conic-gradient/, 'a checkerboard behind the transparent logo');
  // the asset page's viewer too
  await tile(page, 'e-photo.jpg').click();
  await page.locator('.zoom-box img').waitFor();
  assert.equal(await page.locator('.zoom-box').evaluate((el) => getComputedStyle(el).backgroundImage), 'none');
  await page.goto(`/ui/asset/${ids['b-logo.png']}`);
  await page.locator('.zoom-box img').waitFor();
  assert.match(await page.locator('.zoom-box').evaluate((el) => getComputedStyle(el).backgroundImage), /conic-gradient/);
  page.check();
  await context.close();
});

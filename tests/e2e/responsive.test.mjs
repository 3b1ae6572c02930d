// Phone, tablet and desktop layouts: every screen at 360, 768 and 1440 px
// wide. Nothing sticks out sideways (the page never scrolls horizontally),
// the key controls of each screen are on screen, big enough and do not
// overlap. Screenshots land in build/e2e-screenshots/<screen>-<width>.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startServer, fixture, uniqueText } from '../api/lib/server.mjs';
import { launch, newPage, login } from './lib/browser.mjs';

const WIDTHS = [360, 768, 1440];
const HEIGHT = { 360: 780, 768: 1024, 1440: 900 };
const OUT = path.join(ROOT, 'build/e2e-screenshots');
let s, browser, photo, pdf;

before(async () => {
  s = await startServer();
  photo = (await s.upload('sneaker-with-a-rather-long-file-name-from-the-shoot.jpg', fixture('photo.jpg'), 'editor')).asset_id;
  await s.api(`/api/v1/assets/${photo}/versions`, { method: 'POST', as: 'editor', body: fixture('photo2.jpg'), headers: { 'x-filename': 'sneaker-2.jpg' } });
  await s.api(`/api/v1/assets/${photo}`, { method: 'PATCH', as: 'editor', json: { tags: { add: ['spring 2026', 'hero'] } } });
  pdf = (await s.upload('lookbook.pdf', fixture('pages.pdf'), 'editor')).asset_id;
  for (const [n, b] of [['logo.png', fixture('alpha.png')], ['notes.txt', uniqueText('n')], ['teaser.mp4', fixture('clip.mp4')]]) await s.upload(n, b, 'editor');
  await s.api('/api/v1/fields', { method: 'POST', as: 'admin', json: { key: 'sku', type: 'text', required: true, labels: { en: 'SKU' } } });
  await s.api('/api/v1/vocabularies', { method: 'POST', as: 'admin', json: { name: 'colours' } });
  await s.api('/api/v1/templates', { method: 'POST', as: 'admin', json: { name: 'shoot', match: 'shoots/*', fields: { season: 'SS26' }, tags: ['shoot'] } });
  const r = await s.api('/api/v1/search?facets=false&limit=100', { as: 'admin' });
  for (const x of r.json.items) await s.waitProcessed(x.id);
  fs.mkdirSync(OUT, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); await s?.stop(); });

/**
 * Screenshot, then: no horizontal overflow of the document; no element
 * outside the viewport sideways unless a scrolling box of its own clips it
 * (a wide table scrolls inside its box); each of `controls` (selectors,
 * every rendered match counted) visible, inside the viewport, not
 * overlapping another, and when it is a control at least 24 px tall
 * (WCAG 2.5.8 target size).
 */
async function check(page, name, width, controls) {
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: path.join(OUT, `${name}-${width}.png`) });
  const r = await page.evaluate((sels) => {
    const W = innerWidth;
    const out = { scrollWidth: document.scrollingElement.scrollWidth, W, sticking: [], controls: [] };
    for (const el of document.querySelectorAll('body *')) {
      const b = el.getBoundingClientRect();
      if (!b.width || !b.height || (b.right <= W + 1 && b.left >= -1)) continue;
      if (b.right <= 0 || el.closest('.skip')) continue; // off-canvas drawers, the skip link
      if (getComputedStyle(el).visibility === 'hidden') continue;
      let clipped = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (getComputedStyle(p).overflowX === 'visible') continue;
        const pb = p.getBoundingClientRect();
        if (pb.right <= W + 1 && pb.left >= -1) { clipped = true; break; }
      }
      if (!clipped) out.sticking.push(`${el.tagName.toLowerCase()}.${el.className || ''} [${Math.round(b.left)}, ${Math.round(b.right)}]`);
    }
    for (const sel of sels) {
      // not rendered at this width on purpose (display: none) is no
      // control; at least one of each selector must be
      const els = [...document.querySelectorAll(sel)].filter((el) => el.getClientRects().length);
      if (!els.length) out.controls.push({ sel, missing: true });
      for (const el of els) {
        const b = el.getBoundingClientRect();
        out.controls.push({ sel, text: (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30), x: b.left, y: b.top, w: b.width, h: b.height,
          vis: getComputedStyle(el).visibility, interactive: el.matches('a, button, input, select, textarea, [role=tab]') });
      }
    }
    return out;
  }, controls);
  assert.deepEqual(r.sticking.slice(0, 5), [], `${name} at ${width}: elements outside the viewport`);
  assert.ok(r.scrollWidth <= r.W, `${name} at ${width}: the page scrolls sideways (${r.scrollWidth} > ${r.W})`);
  const boxes = [];
  for (const c of r.controls) {
    const what = `${name} at ${width}: ${c.sel} "${c.text}"`;
    assert.ok(!c.missing, `${name} at ${width}: no ${c.sel}`);
    assert.ok(c.vis !== 'hidden' && c.w > 0 && c.h >= (c.interactive ? 24 : 1), `${what} is visible and big enough (${Math.round(c.w)}x${Math.round(c.h)})`);
    assert.ok(c.x >= -1 && c.x + c.w <= r.W + 1, `${what} is inside the viewport (${Math.round(c.x)}..${Math.round(c.x + c.w)})`);
    for (const o of boxes) {
      const overlap = Math.min(c.x + c.w, o.x + o.w) - Math.max(c.x, o.x) > 1 && Math.min(c.y + c.h, o.y + o.h) - Math.max(c.y, o.y) > 1;
      assert.ok(!overlap, `${what} overlaps ${o.sel} "${o.text}"`);
    }
    boxes.push(c);
  }
  return r;
}

const TOP = ['.topbar .brand', '.topbar .search-field input', '.topnav > a', '.topnav .menu > button'];

for (const width of WIDTHS) {
  test(`every screen works at ${width} px`, async () => {
    const { context, page } = await newPage(browser, s, { width, height: HEIGHT[width] });
    await page.goto('/ui/login');
    await page.getByLabel('User name').waitFor();
    await check(page, 'login', width, ['#username', 'input[type=password]', '.login-card button[type=submit]']);
    await login(page, s.users.admin);

    // the library: grid and list
    await page.locator('.cell[data-name="notes.txt"]').waitFor();
    const lib = await check(page, 'library', width, [...TOP, '#sort', '.segmented', ...(width < 1100 ? ['.filters-toggle'] : [])]);
    const search = lib.controls.find((c) => c.sel.includes('search-field'));
    assert.ok(search.w >= (width <= 400 ? 150 : 300), `the search box is ${Math.round(search.w)} px wide at ${width}`);
    if (width < 1100) {
      await page.getByRole('button', { name: 'Filters', exact: true }).click();
      await page.locator('.filters-open .sidebar .facet').first().waitFor();
      await page.waitForTimeout(200); // the drawer's slide (0.15 s)
      await check(page, 'library-filters', width, ['.sidebar-close', '.sidebar .facet h3 button']);
      await page.locator('.sidebar-close').click();
    }
    await page.locator('.cell[data-name="notes.txt"] .cell-check').click();
    await page.locator('.bulk-bar').waitFor();
    await check(page, 'library-selection', width, ['.bulk-bar button']);
    await page.keyboard.press('Escape');
    await page.goto('/ui/library?view=list');
    await page.locator('.list-view .cell').first().waitFor();
    await check(page, 'library-list', width, [...TOP, '#sort', '.segmented']);

    // the asset page, each tab
    for (const tab of ['info', 'fields', 'tags', 'versions', 'delivery', 'similar']) {
      await page.goto(`/ui/asset/${photo}${tab === 'info' ? '' : `?tab=${tab}`}`);
      await page.locator('.tab-panel > *').first().waitFor();
      await page.waitForTimeout(200);
      await check(page, `asset-${tab}`, width, [...TOP, '.asset-head .back', '.asset-head h1', '.asset-actions > *', '[role=tab]']);
    }
    await page.goto(`/ui/asset/${pdf}`);
    await page.locator('.page-strip img').first().waitFor();
    await check(page, 'asset-pdf', width, ['.asset-head .back', '.page-nav button']);
    await page.goto(`/ui/asset/${photo}/compare?a=1&b=2`);
    await page.locator('.compare-table').waitFor();
    await check(page, 'compare', width, [...TOP, '.compare .back', '.compare-side select']);
    await page.goto('/ui/upload');
    await page.locator('.uppy-Dashboard-AddFiles').waitFor();
    await check(page, 'upload', width, [...TOP, '.uppy-Dashboard-AddFiles']);
    for (const sec of ['users', 'tokens', 'fields', 'vocabularies', 'templates', 'presets', 'jobs']) {
      await page.goto(`/ui/admin/${sec}`);
      await page.locator('.admin-main h1').waitFor();
      await page.waitForTimeout(200);
      await check(page, `admin-${sec}`, width, [...TOP, '.admin-nav a', '.admin-main h1']);
    }
    page.check();
    await context.close();
  });
}

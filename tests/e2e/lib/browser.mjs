// Shared helpers for the browser tests: Debian's Chromium driven by
// playwright-core (from web/node_modules), against a real `dam serve` on a
// temporary library (tests/api/lib/server.mjs starts it).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { ROOT, T } from '../../api/lib/server.mjs';

const require = createRequire(path.join(ROOT, 'web/package.json'));
const { chromium } = require('playwright-core');

export const SHOTS = path.join(ROOT, 'tests/e2e/screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** A headless Chromium with the flags a closed network needs. */
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

/**
 * A fresh context and page at s.url, with errors collected: every uncaught
 * page error and console error fails the test at check().
 */
export async function newPage(browser, s, { width = 1280, height = 860, permissions = [] } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true, baseURL: s.url });
  if (permissions.length) await context.grantPermissions(permissions, { origin: s.url });
  context.setDefaultTimeout(T(15000));
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    // Failed requests the test provokes on purpose show up as console errors.
    if (/Failed to load resource: the server responded with a status of (4\d\d)/.test(text)) return;
    problems.push(`console error: ${text}`);
  });
  page.problems = problems;
  page.check = () => assert.deepEqual(problems, [], 'no page errors or console errors');
  return { context, page };
}

/** Logs in through the login form. */
export async function login(page, user, { to = '/ui/library' } = {}) {
  await page.goto(to);
  await page.waitForURL(/\/ui\/login/);
  await page.getByLabel('User name').fill(user.name);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/ui/login'));
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

/** Waits until the page's path (and query) match re (client-side routing). */
export async function waitPath(page, re) {
  await page.waitForFunction((src) => new RegExp(src).test(location.pathname + location.search), re.source);
}

/** The session cookie of a browser context, as a Cookie header. */
export async function cookieHeader(context) {
  const c = (await context.cookies()).find((x) => x.name === 'dam_session');
  return c ? `dam_session=${c.value}` : '';
}

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (WCAG 2.1 A and AA rules: names, labels, contrast, ARIA,
 * landmarks...) on the page as it is and returns the violations as
 * "rule: target" strings. Evaluated through the debugger protocol, so the
 * page's CSP does not apply to it.
 */
export async function axe(page, { exclude = [] } = {}) {
  await page.evaluate(AXE);
  const r = await page.evaluate(async (ex) => window.axe.run({ exclude: ex.map((s) => [s]) }, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }), exclude);
  return r.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} (${n.failureSummary.split('\n')[1] || v.help})`));
}

// One search's results, loaded page by page as the grid scrolls (random
// access by offset), with the facet counts of the first page. Pages far
// from the view are dropped so memory stays bounded however far one
// scrolls through 100,000 assets.
import { api, qs } from './api.js';

export const PAGE = 100;
const KEEP_PAGES = 120;

export class Results {
  constructor(query, sort, onChange) {
    this.query = query;
    this.sort = sort;
    this.onChange = onChange;
    this.total = null;
    this.facets = null;
    this.ranges = null;   // histograms of number and date fields
    this.synonyms = [];   // [{word, term}]: vocabulary synonyms the query matched
    this.error = null;
    this.took = null;
    this.pages = new Map();     // page -> items
    this.loading = new Map();   // page -> AbortController
    this.waiters = new Map();   // page -> [resolve]
    this.closed = false;
  }

  item(i) {
    const p = this.pages.get(Math.floor(i / PAGE));
    return p ? p[i % PAGE] : undefined;
  }

  /** Starts the first page (with facets); resolves when it is in. */
  start() { return this.load(0, true, true); }

  /** Loads a page; pinned: someone awaits it, so scrolling never cancels it. */
  load(page, facets = false, pinned = false) {
    if (this.pages.has(page)) return Promise.resolve();
    const p = new Promise((resolve) => {
      const w = this.waiters.get(page) || [];
      w.push({ resolve, pinned });
      this.waiters.set(page, w);
    });
    if (this.loading.has(page)) return p;
    const ac = new AbortController();
    this.loading.set(page, ac);
    // prefix=last: the last word typed is a prefix (docs/search.md)
    const q = qs({ q: this.query, sort: this.sort, limit: PAGE, offset: page * PAGE || undefined, facets: facets ? undefined : 'false', prefix: 'last' });
    api('/search' + q, { signal: ac.signal }).then((r) => {
      if (this.closed) return;
      this.pages.set(page, r.items);
      this.total = r.total;
      if (facets) { this.facets = r.facets || {}; this.ranges = r.ranges || {}; this.synonyms = r.synonyms || []; this.took = r.took_ms; }
      this.error = null;
      this.evict(page);
    }, (e) => {
      if (e.name === 'AbortError' || this.closed) return;
      this.error = e;
    }).finally(() => {
      this.loading.delete(page);
      for (const w of this.waiters.get(page) || []) w.resolve();
      this.waiters.delete(page);
      if (!this.closed && !ac.signal.aborted) this.onChange();
    });
    return p;
  }

  /** Loads the pages holding items [from, to]; cancels pages no longer wanted. */
  ensure(from, to) {
    if (this.total === null) return;
    const last = Math.min(this.total - 1, to);
    const want = new Set();
    for (let p = Math.floor(Math.max(0, from) / PAGE); p <= Math.floor(last / PAGE); p++) want.add(p);
    for (const [p, ac] of this.loading)
      if (!want.has(p) && p !== 0 && !(this.waiters.get(p) || []).some((w) => w.pinned)) ac.abort();
    for (const p of want) this.load(p);
  }

  evict(near) {
    if (this.pages.size <= KEEP_PAGES) return;
    const far = [...this.pages.keys()].filter((p) => p !== 0).sort((a, b) => Math.abs(b - near) - Math.abs(a - near));
    for (const p of far.slice(0, this.pages.size - KEEP_PAGES)) this.pages.delete(p);
  }

  /** The ids of items [from, to], loading what is missing. */
  async ids(from, to) {
    const a = Math.max(0, Math.min(from, to)), b = Math.min(this.total - 1, Math.max(from, to));
    const pages = [];
    for (let p = Math.floor(a / PAGE); p <= Math.floor(b / PAGE); p++) pages.push(this.load(p, false, true));
    await Promise.all(pages);
    const out = [];
    for (let i = a; i <= b; i++) { const it = this.item(i); if (it) out.push(it.id); }
    return out;
  }

  close() {
    this.closed = true;
    for (const ac of this.loading.values()) ac.abort();
  }
}

/** Fetches the loaded pages again and swaps them in place (no flicker),
 * e.g. while some assets are still processing. */
Results.prototype.refresh = async function refresh() {
  const pages = [...this.pages.keys()];
  await Promise.all(pages.map(async (page) => {
    try {
      const r = await api('/search' + qs({ q: this.query, sort: this.sort, limit: PAGE, offset: page * PAGE || undefined, facets: page === 0 ? undefined : 'false', prefix: 'last' }));
      if (this.closed) return;
      this.pages.set(page, r.items);
      this.total = r.total;
      if (page === 0) { this.facets = r.facets || {}; this.ranges = r.ranges || {}; this.synonyms = r.synonyms || []; }
    } catch { /* keep what we have */ }
  }));
  if (!this.closed) this.onChange();
};

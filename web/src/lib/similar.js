// Visually similar assets shown in the library's grid: the same interface
// as Results (item, start, ensure, ids, refresh, close), filled by one
// request to /assets/{id}/similar, or by the answer to a picture dropped on
// the search box (POST /search/image), which is kept in memory under a key
// that goes into the URL (?similar=picture-N).
import { api } from './api.js';
import { PAGE } from './results.js';

const LIMIT = 200; // the most either route returns
const pictures = new Map(); // key -> {name, items}
let seq = 0;

/** Sends a picture to /search/image; resolves to the key for ?similar=. */
export async function searchByPicture(file) {
  const r = await api(`/search/image?limit=${LIMIT}`, {
    method: 'POST', body: file, headers: { 'content-type': file.type || 'application/octet-stream' },
  });
  const key = `picture-${++seq}`;
  pictures.set(key, { name: file.name || '', items: r.items });
  return key;
}

/** What ?similar= names: {kind: 'asset'|'picture', id|name} or null. */
export function similarSource(value) {
  if (!value) return null;
  if (value.startsWith('picture-')) {
    const p = pictures.get(value);
    return { kind: 'picture', key: value, name: p?.name ?? '', gone: !p };
  }
  return { kind: 'asset', id: value };
}

export class SimilarResults {
  constructor(value, onChange) {
    this.source = similarSource(value);
    this.onChange = onChange;
    this.total = null;
    this.facets = null; // no facets, ranges or synonyms for a similarity list
    this.ranges = null;
    this.synonyms = [];
    this.error = null;
    this.pages = new Map();
    this.closed = false;
    this.ac = null;
    this.name = '';
  }

  item(i) {
    const p = this.pages.get(Math.floor(i / PAGE));
    return p ? p[i % PAGE] : undefined;
  }

  fill(items) {
    this.pages = new Map();
    for (let i = 0; i < items.length; i += PAGE) this.pages.set(i / PAGE, items.slice(i, i + PAGE));
    this.total = items.length;
  }

  async start() {
    const src = this.source;
    if (src.kind === 'picture') {
      const p = pictures.get(src.key);
      if (p) this.fill(p.items); else this.total = 0;
      this.onChange();
      return;
    }
    this.ac = new AbortController();
    try {
      const [r, a] = await Promise.all([
        api(`/assets/${encodeURIComponent(src.id)}/similar?limit=${LIMIT}`, { signal: this.ac.signal }),
        api(`/assets/${encodeURIComponent(src.id)}`, { signal: this.ac.signal }),
      ]);
      if (this.closed) return;
      this.name = a.name;
      this.fill(r.items);
      this.error = null;
    } catch (e) {
      if (e.name === 'AbortError' || this.closed) return;
      this.error = e;
      this.total = 0;
    }
    this.onChange();
  }

  ensure() {}

  async ids(from, to) {
    const out = [];
    for (let i = Math.max(0, Math.min(from, to)); i <= Math.min(this.total - 1, Math.max(from, to)); i++) {
      const it = this.item(i);
      if (it) out.push(it.id);
    }
    return out;
  }

  refresh() { return this.source.kind === 'asset' ? this.start() : Promise.resolve(); }

  close() {
    this.closed = true;
    this.ac?.abort();
  }
}

// The search box's query text and the facet sidebar's choices, combined
// into one query of the language in docs/search.md, and kept in the URL.

const OPS = new Set(['AND', 'OR', 'NOT']);

/** A value as the query language wants it: bare when it can be, else in
 * double quotes; null when it cannot be written (it holds a quote). */
export function quoteValue(v) {
  if (/^[^\s()"*:]+$/.test(v) && !OPS.has(v) && !v.startsWith('-')) return v;
  if (v.includes('"') || !v.trim()) return null;
  return `"${v}"`;
}

/** True when text has OR at its top level (outside quotes and parentheses). */
function topLevelOr(text) {
  let depth = 0, quoted = false;
  const words = [];
  let cur = '';
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    if (!quoted && ch === ')') depth--;
    if (!quoted && depth === 0 && /\s/.test(ch)) { words.push(cur); cur = ''; } else if (depth === 0) cur += ch;
  }
  words.push(cur);
  return words.includes('OR');
}

/** filters: {facet: [values]}, ranges: {field: "price:>=10 price:<20"}
 * (a range facet's filter, as the server's bucket wrote it) -> the whole
 * query. The typed text comes first: its last word is a prefix. */
export function combineQuery(text, filters, ranges) {
  const parts = [];
  const q = (text || '').trim();
  if (q) parts.push(topLevelOr(q) ? `(${q})` : q);
  for (const [facet, values] of Object.entries(filters || {})) {
    const terms = values.map((v) => quoteValue(v)).filter(Boolean).map((v) => `${facet}:${v}`);
    if (terms.length === 1) parts.push(terms[0]);
    else if (terms.length > 1) parts.push(`(${terms.join(' OR ')})`);
  }
  for (const r of Object.values(ranges || {})) if (r) parts.push(r);
  return parts.join(' ');
}

/** Library state from the URL: {q, filters, sort, view}. */
export function readLibraryState(query) {
  const filters = {};
  for (const f of query.getAll('f')) {
    const i = f.indexOf(':');
    if (i <= 0) continue;
    const k = f.slice(0, i), v = f.slice(i + 1);
    (filters[k] ||= []).includes(v) || filters[k].push(v);
  }
  const ranges = {};
  for (const r of query.getAll('r')) {
    const m = r.match(/^([a-z][a-z0-9_.]*):/);
    if (m) ranges[m[1]] = r;
  }
  return { q: query.get('q') || '', filters, ranges, sort: query.get('sort') || '', view: query.get('view') === 'list' ? 'list' : 'grid' };
}

/** A range facet's filter from two typed bounds (either may be empty). */
export function rangeQuery(field, from, to) {
  const a = (from || '').trim(), b = (to || '').trim();
  if (/[\s"()*]/.test(a + b)) return null;
  if (a && b) return `${field}:${a}..${b}`;
  if (a) return `${field}:>=${a}`;
  if (b) return `${field}:<=${b}`;
  return '';
}

export function libraryUrl({ q, filters, ranges, sort, view }) {
  const u = new URLSearchParams();
  if (q) u.set('q', q);
  for (const [k, vs] of Object.entries(filters || {})) for (const v of vs) u.append('f', `${k}:${v}`);
  for (const r of Object.values(ranges || {})) if (r) u.append('r', r);
  if (sort) u.set('sort', sort);
  if (view && view !== 'grid') u.set('view', view);
  const s = u.toString();
  return '/ui/library' + (s ? '?' + s : '');
}

/** The word being typed at the caret: {start, end, text}. */
export function tokenAt(text, caret) {
  let start = caret, quoted = false;
  // inside quotes? count quotes before the caret
  for (let i = 0; i < caret; i++) if (text[i] === '"') quoted = !quoted;
  while (start > 0) {
    const ch = text[start - 1];
    if (ch === '"' && quoted) { start--; quoted = false; continue; }
    if (!quoted && (/\s/.test(ch) || ch === '(' || ch === ')')) break;
    start--;
  }
  let end = caret;
  while (end < text.length && !/[\s()]/.test(text[end])) end++;
  return { start, end, text: text.slice(start, caret) };
}

/** What to complete for a token: {field, prefix, negate} (field null: names, tags, terms). */
export function completionOf(token) {
  let s = token;
  let negate = '';
  if (s.startsWith('-')) { negate = '-'; s = s.slice(1); }
  const colon = s.indexOf(':');
  if (colon > 0 && /^[A-Za-z][A-Za-z0-9_.]*$/.test(s.slice(0, colon))) {
    let prefix = s.slice(colon + 1);
    if (prefix.startsWith('"')) prefix = prefix.slice(1);
    if (prefix.endsWith('"')) prefix = prefix.slice(0, -1);
    if (/^[<>]=?/.test(prefix)) return null; // a comparison: nothing to suggest
    return { field: s.slice(0, colon), prefix, negate };
  }
  if (s.startsWith('"')) s = s.slice(1);
  return { field: null, prefix: s, negate };
}

/** The text to put in place of the token for a chosen suggestion. */
export function completionText(item, ctx) {
  const neg = ctx.negate || '';
  if (item.kind === 'field') return { text: `${neg}${item.value}:`, more: true };
  const v = quoteValue(item.value) ?? item.value;
  if (ctx.field) return { text: `${neg}${ctx.field}:${v} `, more: false };
  if (item.kind === 'tag') return { text: `${neg}tag:${v} `, more: false };
  return { text: `${neg}${v} `, more: false };
}

/** The asset page's link from place i of a library search (search: the
 * library URL's "?q=…" part): the page can then step to the previous and
 * next asset of the same search, in the same order, in this tab or a new one. */
export function assetHref(id, search, i) {
  const u = new URLSearchParams();
  const s = (search || '').replace(/^\?/, '');
  if (s) u.set('in', s);
  if (i !== undefined && i !== null) u.set('at', String(i));
  const q = u.toString();
  return `/ui/asset/${encodeURIComponent(id)}${q ? '?' + q : ''}`;
}

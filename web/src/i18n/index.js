// t('key', {n: 3, name: 'x'}): the string for the current language, with
// {placeholders} filled and plurals chosen by Intl.PluralRules. Formatting
// of numbers, sizes and dates follows the same language.
import en from './en.js';

const catalogs = { en };
let lang = 'en';
let strings = en;
let plural = new Intl.PluralRules(lang);

export function setLanguage(l) {
  if (!catalogs[l]) return false;
  lang = l;
  strings = catalogs[l];
  plural = new Intl.PluralRules(l);
  document.documentElement.lang = l;
  return true;
}

export function t(key, params) {
  let s = strings[key] ?? en[key];
  if (s === undefined) return key;
  if (typeof s === 'object') s = s[plural.select(Number(params?.n ?? 0))] ?? s.other;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => {
    const v = params[k];
    if (v === undefined) return m;
    return typeof v === 'number' ? fmt('n', {}).format(v) : String(v);
  });
}

// Intl formatters are costly to make and the grid formats on every scroll
// frame: keep one per language and options.
const formatters = new Map();
function fmt(kind, opts) {
  const key = `${lang}|${kind}|${JSON.stringify(opts)}`;
  let f = formatters.get(key);
  if (!f) {
    f = kind === 'n' ? new Intl.NumberFormat(lang, opts) : new Intl.DateTimeFormat(lang, opts);
    formatters.set(key, f);
  }
  return f;
}

export function fmtNumber(n) {
  return fmt('n', {}).format(n);
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${fmt('n', { maximumFractionDigits: i && v < 10 ? 1 : 0 }).format(v)} ${units[i]}`;
}

export function fmtDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : fmt('d', { dateStyle: 'medium' }).format(d);
}

export function fmtDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : fmt('d', { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** m:ss (h:mm:ss); tenths: m:ss.s for short clips. */
export function fmtDuration(seconds, tenths = false) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '';
  if (tenths && seconds < 3600) {
    const m = Math.floor(seconds / 60), r = seconds - m * 60;
    return `${m}:${r < 10 ? '0' : ''}${r.toFixed(1)}`;
  }
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

/**
 * A number typed the way the user's locale writes it, as the API wants it
 * ("12,5" in nl or de -> "12.5"; "1.234,5" -> "1234.5"; "1,234.5" in en ->
 * "1234.5"). A lone comma is a decimal comma unless exactly three digits
 * follow it in a locale that groups with commas ("1,500" in en is 1500).
 * Text that is not such a number comes back unchanged, for the server to
 * explain. locale: the browser's (navigator.language) by default, as the
 * user types in the keyboard's convention, whatever the UI's language.
 */
export function readNumber(text, locale = (typeof navigator !== 'undefined' && navigator.language) || lang) {
  const s = String(text).trim().replace(/[\s\u00a0\u202f']/g, '');
  if (!/^[+-]?[\d.,]+(e[+-]?\d+)?$/i.test(s)) return text;
  let dec = '.', group = ',';
  try {
    for (const p of new Intl.NumberFormat(locale).formatToParts(1234.5)) {
      if (p.type === 'decimal') dec = p.value;
      if (p.type === 'group') group = p.value;
    }
  } catch { /* an unknown locale: the defaults */ }
  let out = s;
  if (s.includes(',') && s.includes('.')) {
    // both: the last one is the decimal mark
    const d = s.lastIndexOf(',') > s.lastIndexOf('.') ? ',' : '.';
    out = s.split(d === ',' ? '.' : ',').join('').replace(d, '.');
  } else if (s.includes(',')) {
    const parts = s.split(',');
    const grouped = group === ',' && parts.length > 1 && parts.slice(1).every((x) => /^\d{3}(e|$)/i.test(x));
    if (grouped) out = parts.join('');
    else if (parts.length === 2) out = parts.join('.');
    else return text;
  } else if (dec === ',' && group === '.' && /^[+-]?\d{1,3}(\.\d{3})+$/.test(s)) {
    out = s.split('.').join(''); // "1.500" in de: fifteen hundred
  }
  return Number.isFinite(Number(out)) ? out : text;
}

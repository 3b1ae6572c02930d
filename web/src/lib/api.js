// The one way the UI talks to the server: JSON in and out, the session's
// CSRF token on every change, errors as ApiError in plain words, and an
// ended session sending the user to the login page and back.
import { t } from '../i18n/index.js';

let csrf = null;
const expiredListeners = new Set();

export function setCsrf(token) { csrf = token || null; }

/** Called (once per expiry) when the server says the session ended. */
export function onSessionExpired(fn) {
  expiredListeners.add(fn);
  return () => expiredListeners.delete(fn);
}

/** Tells the app the session ended (for requests made outside request(),
 * such as tus uploads). */
export function sessionEnded(err) {
  for (const fn of [...expiredListeners]) fn(err);
}

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const e = (body && body.error) || {};
    super(e.message || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'http_' + status);
    this.field = e.field || null;
    this.serverMessage = e.message || '';
  }
}

/** An error in words a user understands. */
export function errorText(err) {
  if (!err) return '';
  if (!(err instanceof ApiError)) return t('error.generic', { message: err.message || String(err) });
  if (err.status === 0) return t('error.network');
  if (err.status >= 500 && err.status !== 507) return t('error.internal');
  const known = ['forbidden', 'csrf', 'no_space', 'invalid_credentials', 'session_expired', 'busy'];
  if (known.includes(err.code)) return t('error.' + err.code);
  if (err.code === 'too_large' && !err.serverMessage) return t('error.too_large');
  return err.serverMessage || t('error.generic', { message: `HTTP ${err.status}` });
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * request('/assets/ID', {method, json, body, headers, signal}) -> Response
 * (ok responses only; errors throw ApiError). Paths are under /api/v1.
 */
export async function request(path, o = {}) {
  const method = o.method || 'GET';
  const headers = { accept: 'application/json', ...(o.headers || {}) };
  let body = o.body;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers['content-type'] = 'application/json';
  }
  if (UNSAFE.has(method) && csrf) headers['x-csrf-token'] = csrf;
  let res;
  try {
    res = await fetch('/api/v1' + path, { method, headers, body, credentials: 'same-origin', signal: o.signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, null, e.message);
  }
  if (res.ok || res.status === 304) return res;
  let parsed = null;
  try { parsed = await res.json(); } catch { /* not JSON */ }
  const err = new ApiError(res.status, parsed);
  if (res.status === 401 && path !== '/session' && !o.noExpiry) {
    for (const fn of [...expiredListeners]) fn(err);
  }
  throw err;
}

/** JSON of a successful request (null for 204). */
export async function api(path, o) {
  const res = await request(path, o);
  if (res.status === 204 || res.status === 304) return null;
  const type = res.headers.get('content-type') || '';
  return type.includes('json') ? res.json() : res.text();
}

export const qs = (params) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => u.append(k, x));
    else u.set(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
};

export const urls = {
  thumb: (id, version) => `/api/v1/assets/${id}/renditions/thumbnail${version ? `?version=${version}` : ''}`,
  rendition: (id, name, version) => `/api/v1/assets/${id}/renditions/${name}${version ? `?version=${version}` : ''}`,
  original: (id, version) => `/api/v1/assets/${id}/original${version ? `?version=${version}` : ''}`,
  versionOriginal: (id, n) => `/api/v1/assets/${id}/versions/${n}/original`,
  zip: (ids, preset) => `/api/v1/downloads/zip?ids=${ids.join(',')}${preset ? `&preset=${encodeURIComponent(preset)}` : ''}`,
};

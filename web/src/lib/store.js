// Small shared state: the signed-in user, toasts, the last library URL.
import { useEffect, useState } from 'preact/hooks';

export function createStore(initial) {
  let value = initial;
  const subs = new Set();
  return {
    get: () => value,
    set(v) { value = typeof v === 'function' ? v(value) : v; for (const fn of [...subs]) fn(value); },
    subscribe(fn) { subs.add(fn); return () => subs.delete(fn); },
  };
}

export function useStore(store) {
  const [v, setV] = useState(store.get());
  useEffect(() => store.subscribe(setV), [store]);
  return v;
}

export const session = createStore(null); // {user_id, username, role, csrf_token}
export const toasts = createStore([]);
let toastId = 0;

/** Shows a short message in the live region; kind: info | success | error. */
export function toast(text, kind = 'info') {
  const id = ++toastId;
  toasts.set((l) => [...l, { id, text, kind }]);
  setTimeout(() => toasts.set((l) => l.filter((x) => x.id !== id)), kind === 'error' ? 10000 : 5000);
}

/** Uploads of the Upload screen: they go on while the user looks elsewhere.
 * {rows: [{id, name, status, pct, ...}], total: 0..100, running: bool} */
export const uploads = createStore({ rows: [], total: 0, running: false });

export const ROLES = ['viewer', 'contributor', 'editor', 'admin'];
export const roleAtLeast = (user, role) => !!user && ROLES.indexOf(user.role) >= ROLES.indexOf(role);

/** sessionStorage helpers that never throw (private mode, quota). */
export const saved = {
  get(k) { try { const v = sessionStorage.getItem(k); return v ? JSON.parse(v) : null; } catch { return null; } },
  set(k, v) { try { sessionStorage.setItem(k, JSON.stringify(v)); } catch { /* ignore */ } },
  del(k) { try { sessionStorage.removeItem(k); } catch { /* ignore */ } },
};

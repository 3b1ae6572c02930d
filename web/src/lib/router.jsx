// A small history router: navigate(), useLocation(), <Link>.
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set();
const read = () => ({ path: location.pathname, search: location.search, query: new URLSearchParams(location.search) });

function emit() {
  for (const fn of [...listeners]) fn();
}

export function navigate(to, { replace = false } = {}) {
  if (to === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', to);
  emit();
}

addEventListener('popstate', emit);

export function useLocation() {
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const fn = () => setLoc(read());
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, []);
  return loc;
}

/** A same-page link: plain <a> (middle click, ctrl click still work). */
export function Link({ href, onClick, ...rest }) {
  const click = (e) => {
    if (onClick) onClick(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={click} {...rest} />;
}

/** Matches "/ui/asset/:id" against a path; params or null. */
export function match(pattern, path) {
  const p = pattern.split('/'), s = path.split('/');
  if (p.length !== s.length) return null;
  const out = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) out[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return out;
}

// The top bar: brand, search, upload, admin menu, the user's menu.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { api, setCsrf } from '../lib/api.js';
import { Link, navigate, useLocation } from '../lib/router.jsx';
import { libraryUrl, readLibraryState } from '../lib/query.js';
import { roleAtLeast, session, toast, uploads, useStore } from '../lib/store.js';
import { errorText } from '../lib/api.js';
import { SearchBox } from './SearchBox.jsx';
import { forgetLibrary, searchError } from '../screens/Library.jsx';

function Menu({ label, buttonLabel, children, id }) {
  const [open, setOpen] = useState(false);
  const ref = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const away = (e) => { if (!ref.current?.contains(e.target)) setOpen(false); };
    const esc = (e) => { if (e.key === 'Escape') { setOpen(false); ref.current?.querySelector('button')?.focus(); } };
    document.addEventListener('mousedown', away);
    document.addEventListener('keydown', esc);
    return () => { document.removeEventListener('mousedown', away); document.removeEventListener('keydown', esc); };
  }, [open]);
  return (
    <div class="menu" ref={ref}>
      <button type="button" aria-expanded={open} aria-controls={id} aria-label={label || undefined} onClick={() => setOpen(!open)}>{buttonLabel} <span aria-hidden="true">▾</span></button>
      {open && <div id={id} class="menu-list" onClick={(e) => { if (e.target.closest('a,button')) setOpen(false); }}>{children}</div>}
    </div>
  );
}

export function TopBar() {
  const user = useStore(session);
  const err = useStore(searchError);
  const loc = useLocation();
  const onLibrary = loc.path === '/ui/library';
  const state = onLibrary ? readLibraryState(loc.query) : { q: '', filters: {}, ranges: {}, sort: '', view: 'grid' };

  // live: as you type (replaces the history entry instead of adding one)
  const search = (q, live = false) => navigate(libraryUrl({ ...state, q, sort: q && !state.q ? '' : state.sort }), { replace: live });
  const logout = async () => {
    try { await api('/session', { method: 'DELETE' }); } catch (e) { if (e.status !== 401) { toast(errorText(e), 'error'); return; } }
    setCsrf(null);
    forgetLibrary();
    if (uploads.get().rows.length) import('../lib/libraryUploads.js').then((m) => m.clearUploads());
    session.set(null);
    navigate('/ui/login?reason=logout', { replace: true });
  };
  const up = useStore(uploads);
  const admin = roleAtLeast(user, 'admin');
  const jobs = roleAtLeast(user, 'editor');

  return (
    <header class="topbar">
      <a class="skip" href="#main">{t('app.skip')}</a>
      <Link href="/ui/library" class="brand"><span class="brand-mark" aria-hidden="true" />dam<span class="visually-hidden">: {t('nav.library')}</span></Link>
      <SearchBox value={state.q} onSearch={search} live={onLibrary} error={onLibrary ? err : null} />
      <nav aria-label={t('nav.main')} class="topnav">
        <Link href="/ui/library" aria-current={onLibrary ? 'page' : undefined}>{t('nav.library')}</Link>
        <Link href="/ui/worklist" aria-current={loc.path === '/ui/worklist' ? 'page' : undefined}>{t('nav.worklist')}</Link>
        {roleAtLeast(user, 'contributor') && (
          <Link href="/ui/upload" aria-current={loc.path === '/ui/upload' ? 'page' : undefined}>
            {t('nav.upload')}{up.running && <span class="badge live">{t('upload.running', { pct: up.total })}</span>}
          </Link>
        )}
        {(admin || jobs) && (
          <Menu id="admin-menu" buttonLabel={t('nav.admin')}>
            {admin && <Link href="/ui/admin/users">{t('nav.users')}</Link>}
            <Link href="/ui/admin/tokens">{t('nav.tokens')}</Link>
            {admin && <Link href="/ui/admin/fields">{t('nav.fields')}</Link>}
            {admin && <Link href="/ui/admin/vocabularies">{t('nav.vocabularies')}</Link>}
            {admin && <Link href="/ui/admin/templates">{t('nav.templates')}</Link>}
            <Link href="/ui/admin/presets">{t('nav.presets')}</Link>
            <Link href="/ui/admin/jobs">{t('nav.jobs')}</Link>
            {admin && <Link href="/ui/admin/audit">{t('nav.audit')}</Link>}
          </Menu>
        )}
        <Menu id="user-menu"
          buttonLabel={<><span class="avatar" aria-hidden="true">{user.username.slice(0, 1).toUpperCase()}</span>
            <span class="who">{user.username}</span><span class="visually-hidden">{t('session.menuRest', { role: t('role.' + user.role) })}</span></>}>
          <p class="menu-who">{user.username}<br /><span class="muted">{t('role.' + user.role)}</span></p>
          {!(admin || jobs) && <Link href="/ui/admin/tokens">{t('session.tokens')}</Link>}
          <button type="button" onClick={logout}>{t('session.logout')}</button>
        </Menu>
      </nav>
    </header>
  );
}

// The application shell: who is logged in, which screen the URL names, and
// the way back to it after a session ends.
import { useEffect, useState } from 'preact/hooks';
import { t } from './i18n/index.js';
import { api, onSessionExpired, setCsrf } from './lib/api.js';
import { Link, match, navigate, useLocation } from './lib/router.jsx';
import { session, useStore } from './lib/store.js';
import { ErrorBox, Spinner, Toasts } from './components/ui.jsx';
import { TopBar } from './components/TopBar.jsx';
import { Login, safeNext } from './screens/Login.jsx';
import { Library } from './screens/Library.jsx';
import { AssetDetail } from './screens/AssetDetail.jsx';
import { Compare } from './screens/Compare.jsx';
import { Admin } from './screens/admin/Admin.jsx';
import { Worklist } from './screens/Worklist.jsx';

/** A screen loaded when first shown (Uppy is large; most visits never upload). */
function Lazy({ load, name }) {
  const [C, setC] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { load().then((m) => setC(() => m[name]), setError); }, []);
  if (error) return <div class="page"><ErrorBox error={error} /></div>;
  return C ? <C /> : <div class="page center"><Spinner /></div>;
}

function Redirect({ to }) {
  useEffect(() => { navigate(to, { replace: true }); }, [to]);
  return null;
}

function NotFound() {
  return (
    <div class="page narrow">
      <h1>{t('app.notFound')}</h1>
      <p><Link href="/ui/library">{t('app.backToLibrary')}</Link></p>
    </div>
  );
}

export function App() {
  const user = useStore(session);
  const loc = useLocation();
  const [ready, setReady] = useState(false);

  useEffect(() => {
    api('/session', { noExpiry: true })
      .then((me) => { setCsrf(me.csrf_token); session.set(me); })
      .catch(() => session.set(null))
      .finally(() => setReady(true));
  }, []);

  // The session ended (expired, logged out elsewhere, password changed):
  // log in again, then come back here. Forms keep drafts of what was typed.
  useEffect(() => onSessionExpired(() => {
    if (!session.get()) return;
    session.set(null);
    setCsrf(null);
    const here = location.pathname + location.search;
    navigate(`/ui/login?reason=expired&next=${encodeURIComponent(here)}`, { replace: true });
  }), []);

  if (!ready) return <main id="main" class="page center"><Spinner label={t('app.loading')} /></main>;

  const path = loc.path.replace(/\/+$/, '') || '/';
  if (!user) {
    if (path !== '/ui/login') {
      const next = path.startsWith('/ui/') ? `?next=${encodeURIComponent(loc.path + loc.search)}` : '';
      return <Redirect to={`/ui/login${next}`} />;
    }
    return <><Login /><Toasts /></>;
  }
  if (path === '/ui/login') return <Redirect to={safeNext(loc.query.get('next'))} />;
  if (path === '/' || path === '/ui') return <Redirect to="/ui/library" />;

  let screen;
  let m;
  if (path === '/ui/library') screen = <Library />;
  else if ((m = match('/ui/asset/:id/compare', path))) screen = <Compare id={m.id} />;
  else if ((m = match('/ui/asset/:id', path))) screen = <AssetDetail key={m.id} id={m.id} />;
  else if (path === '/ui/worklist') screen = <Worklist />;
  else if (path === '/ui/upload') screen = <Lazy load={() => import('./screens/Upload.jsx')} name="Upload" />;
  else if ((m = match('/ui/admin/:section', path))) screen = <Admin section={m.section} />;
  else screen = <NotFound />;

  return (
    <div class="app">
      <TopBar />
      <main class="screen" id="main" tabIndex={-1}>{screen}</main>
      <Toasts />
    </div>
  );
}

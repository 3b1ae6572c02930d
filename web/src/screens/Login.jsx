// Log in; afterwards go back to where the user was (?next=).
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { api, errorText, setCsrf } from '../lib/api.js';
import { navigate, useLocation } from '../lib/router.jsx';
import { session } from '../lib/store.js';
import { useId } from '../components/ui.jsx';

/** Only paths of this UI: never send a user elsewhere after login. */
export function safeNext(next) {
  return next && /^\/ui\/(?!\/)/.test(next) && !next.startsWith('/ui/login') ? next : '/ui/library';
}

export function Login() {
  const loc = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const userRef = useRef(null);
  const errId = useId('loginerr');
  const reason = loc.query.get('reason');

  useEffect(() => { userRef.current?.focus(); }, []);

  const submit = async (e) => {
    e.preventDefault();
    if (!username || !password) { setError(t('login.required')); return; }
    setBusy(true);
    setError(null);
    try {
      const me = await api('/session', { method: 'POST', json: { username, password }, noExpiry: true });
      setCsrf(me.csrf_token);
      session.set(me);
      navigate(safeNext(loc.query.get('next')), { replace: true });
    } catch (err) {
      setError(errorText(err));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="login">
      <form class="login-card" onSubmit={submit} noValidate aria-describedby={error ? errId : undefined}>
        <div class="brand big" aria-hidden="true"><span class="brand-mark" />dam</div>
        <h1>{t('login.title')}</h1>
        {reason === 'expired' && <p class="notice" role="status">{t('login.expired')}</p>}
        {reason === 'logout' && <p class="notice" role="status">{t('login.loggedOut')}</p>}
        <label for="username">{t('login.username')}</label>
        <input id="username" ref={userRef} name="username" autocomplete="username" value={username}
          onInput={(e) => setUsername(e.target.value)} aria-invalid={error ? 'true' : undefined} />
        <label for="password">{t('login.password')}</label>
        <input id="password" type="password" name="password" autocomplete="current-password" value={password}
          onInput={(e) => setPassword(e.target.value)} aria-invalid={error ? 'true' : undefined} />
        {error && <p id={errId} class="field-error" role="alert">{error}</p>}
        <button type="submit" class="primary wide" disabled={busy}>{busy ? t('login.busy') : t('login.submit')}</button>
      </form>
    </main>
  );
}

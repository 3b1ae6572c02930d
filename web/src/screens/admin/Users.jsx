import { useState } from 'preact/hooks';
import { t, fmtDateTime } from '../../i18n/index.js';
import { api } from '../../lib/api.js';
import { ROLES, toast } from '../../lib/store.js';
import { CopyField, Dialog, ErrorBox, FieldError, useAction, useId, useLoad } from '../../components/ui.jsx';

function AddUser({ onAdded }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState('contributor');
  const [password, setPassword] = useState('');
  const [created, setCreated] = useState(null);
  const act = useAction();
  const uId = useId('u'), rId = useId('r'), pId = useId('p'), eId = useId('e');
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const r = await api('/users', { method: 'POST', json: { username: username.trim(), role, password: password || undefined } });
      toast(t('users.created', { name: r.username }), 'success');
      setCreated(r);
      setUsername('');
      setPassword('');
      onAdded();
    });
  };
  const err = act.error;
  return (
    <form class="card form-grid" onSubmit={submit} noValidate>
      <h2>{t('users.add')}</h2>
      <label for={uId}>{t('users.username')}</label>
      <input id={uId} value={username} onInput={(e) => setUsername(e.target.value)} autocomplete="off"
        aria-invalid={err && (err.field === 'username' || !err.field) ? 'true' : undefined} aria-describedby={err ? eId : undefined} />
      <label for={rId}>{t('users.role')}</label>
      <select id={rId} value={role} onChange={(e) => setRole(e.target.value)}>
        {ROLES.map((r) => <option value={r}>{t('role.' + r)}</option>)}
      </select>
      <label for={pId}>{t('users.password')}</label>
      <input id={pId} type="password" value={password} onInput={(e) => setPassword(e.target.value)} autocomplete="new-password"
        aria-invalid={err?.field === 'password' ? 'true' : undefined} />
      <FieldError id={eId} error={err} />
      <div><button type="submit" class="primary" disabled={act.busy || !username.trim()}>{t('users.add')}</button></div>
      {created?.password && (
        <div class="notice">
          <p>{t('users.generated', { name: created.username })}</p>
          <CopyField value={created.password} label={t('users.generated', { name: created.username })} />
        </div>
      )}
    </form>
  );
}

function PasswordDialog({ user, onClose }) {
  const [pw, setPw] = useState('');
  const act = useAction();
  const id = useId('pw'), eId = useId('pwe');
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      await api(`/users/${encodeURIComponent(user.username)}`, { method: 'PATCH', json: { password: pw } });
      toast(t('users.passwordSet', { name: user.username }), 'success');
      onClose();
    });
  };
  return (
    <Dialog title={t('users.newPassword', { name: user.username })} onClose={onClose}
      footer={<><button type="button" onClick={onClose}>{t('common.cancel')}</button><button type="submit" form="pwform" class="primary" disabled={act.busy || !pw}>{t('common.save')}</button></>}>
      <form id="pwform" onSubmit={submit} noValidate>
        <label for={id}>{t('login.password')}</label>
        <input id={id} type="password" autocomplete="new-password" value={pw} onInput={(e) => setPw(e.target.value)}
          aria-invalid={act.error ? 'true' : undefined} aria-describedby={act.error ? eId : undefined} />
        <FieldError id={eId} error={act.error} />
      </form>
    </Dialog>
  );
}

export function Users({ user: me }) {
  const list = useLoad((signal) => api('/users', { signal }).then((r) => r.items), []);
  const [pwFor, setPwFor] = useState(null);
  const [rowError, setRowError] = useState({});
  const change = async (u, body, msg) => {
    setRowError((e) => ({ ...e, [u.username]: null }));
    try {
      const r = await api(`/users/${encodeURIComponent(u.username)}`, { method: 'PATCH', json: body });
      list.setData((l) => l.map((x) => (x.id === r.id ? r : x)));
      toast(msg(r), 'success');
    } catch (e) {
      if (e.status !== 401) setRowError((x) => ({ ...x, [u.username]: e }));
      list.reload();
    }
  };
  return (
    <div>
      <h1>{t('users.title')}</h1>
      <ErrorBox error={list.error} />
      <table class="table">
        <thead><tr>
          <th scope="col">{t('users.username')}</th><th scope="col">{t('users.role')}</th>
          <th scope="col">{t('users.disabled')}</th><th scope="col">{t('users.lastLogin')}</th><th scope="col">{t('common.actions')}</th>
        </tr></thead>
        <tbody>
          {(list.data || []).map((u) => (
            <>
              <tr key={u.id} class={u.disabled ? 'disabled' : ''}>
                <th scope="row">{u.username}{u.id === me.user_id && <span class="badge">{t('users.you')}</span>}</th>
                <td>
                  <select aria-label={t('users.roleOf', { name: u.username })} value={u.role}
                    onChange={(e) => change(u, { role: e.target.value }, (r) => t('users.roleChanged', { name: r.username, role: t('role.' + r.role) }))}>
                    {ROLES.map((r) => <option value={r}>{t('role.' + r)}</option>)}
                  </select>
                </td>
                <td>{u.disabled ? t('common.yes') : t('common.no')}</td>
                <td>{u.last_login_at ? fmtDateTime(u.last_login_at) : t('users.never')}</td>
                <td class="row">
                  <button type="button" class="small" onClick={() => change(u, { disabled: !u.disabled }, (r) => t(r.disabled ? 'users.disabledOne' : 'users.enabledOne', { name: r.username }))}>
                    {u.disabled ? t('users.enable') : t('users.disable')}
                  </button>
                  <button type="button" class="small" onClick={() => setPwFor(u)}>{t('users.setPassword')}</button>
                </td>
              </tr>
              {rowError[u.username] && <tr><td colSpan={5}><ErrorBox error={rowError[u.username]} /></td></tr>}
            </>
          ))}
        </tbody>
      </table>
      <AddUser onAdded={list.reload} />
      {pwFor && <PasswordDialog user={pwFor} onClose={() => setPwFor(null)} />}
    </div>
  );
}

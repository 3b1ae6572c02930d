import { useState } from 'preact/hooks';
import { t, fmtDateTime } from '../../i18n/index.js';
import { api } from '../../lib/api.js';
import { ROLES, roleAtLeast, toast } from '../../lib/store.js';
import { Confirm, CopyField, ErrorBox, FieldError, copyText, useAction, useId, useLoad } from '../../components/ui.jsx';

export function Tokens({ user }) {
  const admin = roleAtLeast(user, 'admin');
  const [all, setAll] = useState(false);
  const list = useLoad((signal) => api(`/tokens${all ? '?all=true' : ''}`, { signal }).then((r) => r.items), [all]);
  const [label, setLabel] = useState('');
  const [role, setRole] = useState('');
  const [days, setDays] = useState('');
  const [forUser, setForUser] = useState('');
  const [secret, setSecret] = useState(null);
  const [revoke, setRevoke] = useState(null);
  const act = useAction();
  const rev = useAction();
  const lId = useId('tl'), rId = useId('tr'), dId = useId('td'), uId = useId('tu'), eId = useId('te');

  const create = (e) => {
    e.preventDefault();
    act.run(async () => {
      const d = days.trim() ? Number(days) : undefined;
      const r = await api('/tokens', { method: 'POST', json: { label: label.trim(), role: role || undefined, expires_in_days: d, user: forUser.trim() || undefined } });
      setSecret(r.secret);
      setLabel('');
      setDays('');
      list.reload();
    });
  };
  const doRevoke = (ok) => {
    if (!ok) { setRevoke(null); rev.setError(null); return; }
    rev.run(async () => {
      await api(`/tokens/${revoke.id}`, { method: 'DELETE' });
      toast(t('tokens.revokedOne', { label: revoke.label || revoke.id }), 'success');
      setRevoke(null);
      list.reload();
    });
  };
  const maxRole = ROLES.indexOf(user.role);
  const state = (x) => (x.revoked ? t('tokens.revoked') : x.expired ? t('tokens.expired') : t('tokens.active'));

  return (
    <div>
      <h1>{t('tokens.title')}</h1>
      <p class="muted">{t('tokens.intro')}</p>
      {admin && <label class="check"><input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> {t('tokens.all')}</label>}
      <ErrorBox error={list.error} />
      {list.data && !list.data.length && <p class="muted">{t('tokens.none')}</p>}
      {list.data?.length > 0 && (
        <table class="table">
          <thead><tr>
            <th scope="col">{t('tokens.label')}</th>{all && <th scope="col">{t('tokens.user')}</th>}<th scope="col">{t('users.role')}</th>
            <th scope="col">{t('tokens.expiresAt')}</th><th scope="col">{t('tokens.lastUsed')}</th><th scope="col">{t('jobs.state')}</th><th scope="col">{t('common.actions')}</th>
          </tr></thead>
          <tbody>
            {list.data.map((x) => (
              <tr key={x.id} class={x.revoked || x.expired ? 'disabled' : ''}>
                <th scope="row">{x.label || <span class="muted">—</span>}</th>{all && <td>{x.user}</td>}<td>{t('role.' + x.role)}</td>
                <td>{x.expires_at ? fmtDateTime(x.expires_at) : t('common.never')}</td>
                <td>{x.last_used_at ? fmtDateTime(x.last_used_at) : t('common.never')}</td>
                <td>{state(x)}</td>
                <td>{!x.revoked && <button type="button" class="small danger" onClick={() => setRevoke(x)}>{t('tokens.revoke')}</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="card form-grid" onSubmit={create} noValidate>
        <h2>{t('tokens.create')}</h2>
        <label for={lId}>{t('tokens.label')}</label>
        <input id={lId} value={label} onInput={(e) => setLabel(e.target.value)} aria-invalid={act.error?.field === 'label' ? 'true' : undefined} />
        <label for={rId}>{t('tokens.role')}</label>
        <select id={rId} value={role} onChange={(e) => setRole(e.target.value)} aria-invalid={act.error?.field === 'role' ? 'true' : undefined}>
          <option value="">{t('tokens.sameRole')}</option>
          {ROLES.filter((_, i) => admin || i <= maxRole).map((r) => <option value={r}>{t('role.' + r)}</option>)}
        </select>
        <label for={dId}>{t('tokens.expires')}</label>
        <input id={dId} type="text" inputMode="numeric" value={days} onInput={(e) => setDays(e.target.value)}
          aria-invalid={act.error?.field === 'expires_in_days' ? 'true' : undefined} aria-describedby={act.error ? eId : undefined} />
        {admin && <><label for={uId}>{t('tokens.user')}</label><input id={uId} value={forUser} placeholder={user.username} onInput={(e) => setForUser(e.target.value)} /></>}
        <FieldError id={eId} error={act.error} />
        <div><button type="submit" class="primary" disabled={act.busy}>{t('tokens.create')}</button></div>
        {secret && (
          <div class="notice">
            <p>{t('tokens.secret')}</p>
            <CopyField value={secret} label={t('tokens.secret')} />
            <button type="button" onClick={async () => { if (await copyText(secret)) toast(t('tokens.copied'), 'success'); }}>{t('tokens.copy')}</button>
          </div>
        )}
      </form>
      {revoke && <Confirm title={t('tokens.revokeTitle', { label: revoke.label || revoke.id })} confirm={t('tokens.revoke')} danger
        onAnswer={doRevoke} busy={rev.busy} error={rev.error} />}
    </div>
  );
}

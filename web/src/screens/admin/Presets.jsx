// Channel presets (the delivery part of the server; where its routes are
// missing this page says so instead of failing).
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { api } from '../../lib/api.js';
import { roleAtLeast, toast } from '../../lib/store.js';
import { Confirm, ErrorBox, FieldError, useAction, useId } from '../../components/ui.jsx';
import { usePresets } from '../asset/DeliveryPanel.jsx';

export function Presets({ user }) {
  const list = usePresets();
  const admin = roleAtLeast(user, 'admin');
  const [f, setF] = useState({ name: '', spec: '', description: '' });
  const [editing, setEditing] = useState(null);
  const [removing, setRemoving] = useState(null);
  const act = useAction();
  const rm = useAction();
  const ids = { name: useId('pn'), spec: useId('ps'), desc: useId('pd'), err: useId('pe') };
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  // Edit fills the form below the list: bring it into view, at its first
  // field that can change
  const form = useRef(null);
  useEffect(() => {
    if (!editing || !form.current) return;
    form.current.scrollIntoView({ block: 'start', behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
    form.current.querySelector(`#${ids.spec}`)?.focus({ preventScroll: true });
  }, [editing]);
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const body = { spec: f.spec.trim(), description: f.description.trim() };
      if (editing) await api(`/presets/${encodeURIComponent(editing)}`, { method: 'PUT', json: body });
      else await api('/presets', { method: 'POST', json: { name: f.name.trim(), ...body } });
      toast(t('presets.saved', { name: editing || f.name.trim() }), 'success');
      setF({ name: '', spec: '', description: '' });
      setEditing(null);
      list.reload();
    });
  };
  const doRemove = (ok) => {
    if (!ok) { setRemoving(null); return; }
    rm.run(async () => {
      await api(`/presets/${encodeURIComponent(removing)}`, { method: 'DELETE' });
      setRemoving(null);
      list.reload();
    });
  };
  if (list.data === null && !list.loading && !list.error) return <div><h1>{t('presets.title')}</h1><p class="notice">{t('presets.unavailable')}</p></div>;
  const bad = (k) => (act.error && (act.error.field === k || (k === 'spec' && act.error.field === 'transform')) ? 'true' : undefined);
  return (
    <div>
      <h1>{t('presets.title')}</h1>
      <p class="muted">{t('presets.intro')}</p>
      {admin && <p class="help">{t('presets.sourceHelp')}</p>}
      <ErrorBox error={list.error} />
      {list.data && !list.data.length && <p class="muted">{t('presets.none')}</p>}
      {list.data?.length > 0 && (
        <table class="table">
          <thead><tr><th scope="col">{t('presets.name')}</th><th scope="col">{t('presets.spec')}</th><th scope="col">{t('presets.description')}</th>{admin && <th scope="col">{t('common.actions')}</th>}</tr></thead>
          <tbody>
            {list.data.map((p) => (
              <tr key={p.name}>
                <th scope="row">{p.name}{p.source === 'builtin' && <span class="badge">{t('presets.builtin')}</span>}
                  {p.source === 'config' && <span class="badge">{t('presets.fromConfig')}</span>}</th>
                <td><code>{p.spec}</code></td><td>{p.description}</td>
                {admin && <td class="row">
                  <button type="button" class="small" aria-label={`${t('presets.edit')} ${p.name}`} onClick={() => { setEditing(p.name); setF({ name: p.name, spec: p.spec, description: p.description || '' }); }}>{t('presets.edit')}</button>
                  {/* built-in and dam.conf presets cannot be deleted (the server refuses) */}
                  {(!p.source || p.source === 'api') && <button type="button" class="small danger" aria-label={`${t('presets.remove')} ${p.name}`} onClick={() => setRemoving(p.name)}>{t('presets.remove')}</button>}
                </td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {admin && (
        <form class="card form-grid" onSubmit={submit} noValidate ref={form}>
          <h2>{editing ? `${t('presets.edit')} ${editing}` : t('presets.add')}</h2>
          <label for={ids.name}>{t('presets.name')}</label>
          <input id={ids.name} value={f.name} onInput={set('name')} disabled={!!editing} aria-invalid={bad('name')} />
          <label for={ids.spec}>{t('presets.spec')}</label>
          <input id={ids.spec} value={f.spec} onInput={set('spec')} placeholder="w_800,h_800,fit_cover,f_jpeg" aria-invalid={bad('spec')} aria-describedby={act.error ? ids.err : undefined} />
          <label for={ids.desc}>{t('presets.description')}</label>
          <input id={ids.desc} value={f.description} onInput={set('description')} />
          <FieldError id={ids.err} error={act.error} />
          <div class="row">
            <button type="submit" class="primary" disabled={act.busy || !f.name.trim() || !f.spec.trim()}>{t('presets.save')}</button>
            {editing && <button type="button" onClick={() => { setEditing(null); setF({ name: '', spec: '', description: '' }); }}>{t('common.cancel')}</button>}
          </div>
        </form>
      )}
      {removing && <Confirm title={t('presets.removeTitle', { name: removing })} confirm={t('presets.remove')} danger onAnswer={doRemove} busy={rm.busy} error={rm.error} />}
    </div>
  );
}

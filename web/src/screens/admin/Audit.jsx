// The whole audit trail for administrators: filter by user, action, dates
// and asset (kept in the URL), page through it newest first (keyset
// cursors), and download the filtered trail as CSV.
import { useEffect, useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { api, qs } from '../../lib/api.js';
import { navigate, useLocation } from '../../lib/router.jsx';
import { ErrorBox, FieldError, useId, useLoad } from '../../components/ui.jsx';
import { AuditTable } from '../../components/AuditTable.jsx';

const PAGE = 50;
const ACTIONS = ['asset.', 'asset.create', 'asset.update', 'asset.delete', 'asset.restore', 'asset.focal', 'version.',
  'user.', 'token.', 'session.', 'field.', 'vocab.', 'template.', 'pattern.', 'preset.', 'delivery_key.', 'job.', 'library.'];
const KEYS = ['actor', 'action', 'from', 'to', 'asset'];

/** The day after a YYYY-MM-DD date (the end of a range is inclusive). */
function dayAfter(d) {
  const x = new Date(d + 'T00:00:00Z');
  x.setUTCDate(x.getUTCDate() + 1);
  return x.toISOString().slice(0, 10);
}

/** The API query of the filters in the URL. */
function apiFilters(f) {
  return { actor: f.actor, action: f.action, asset: f.asset, since: f.from, until: f.to ? dayAfter(f.to) : undefined };
}

export function Audit() {
  const loc = useLocation();
  const applied = Object.fromEntries(KEYS.map((k) => [k, loc.query.get(k) || '']));
  const [form, setForm] = useState(applied);
  const [cursors, setCursors] = useState([null]); // cursor of each page shown so far
  const [rangeError, setRangeError] = useState(null);
  const users = useLoad((signal) => api('/users', { signal }).then((r) => r.items), []);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad((signal) => api('/audit' + qs({ ...apiFilters(applied), limit: PAGE, cursor }), { signal }),
    [loc.search, cursor]);
  const ids = Object.fromEntries(KEYS.map((k) => [k, useId('audit-' + k)]));
  // back and forward: the form and the pages follow the URL
  useEffect(() => { setForm(applied); setCursors([null]); }, [loc.search]);

  const set = (k) => (e) => setForm((f) => ({ ...f, [k]: e.target.value }));
  const apply = (e) => {
    e.preventDefault();
    if (form.from && form.to && form.from > form.to) { setRangeError(t('audit.badRange')); return; }
    setRangeError(null);
    setCursors([null]);
    navigate('/ui/admin/audit' + qs(Object.fromEntries(KEYS.map((k) => [k, form[k].trim()]))));
  };
  const reset = () => {
    setForm(Object.fromEntries(KEYS.map((k) => [k, ''])));
    setCursors([null]);
    setRangeError(null);
    navigate('/ui/admin/audit');
  };
  const csv = '/api/v1/audit' + qs({ ...apiFilters(applied), format: 'csv' });
  const rows = page.data?.items || [];
  const filtered = KEYS.some((k) => applied[k]);

  return (
    <div class="audit">
      <h1>{t('audit.title')}</h1>
      <p class="muted">{t('audit.intro')}</p>
      <form class="audit-filters row wrap" onSubmit={apply} aria-label={t('audit.filters')}>
        <div class="stack">
          <label for={ids.actor}>{t('audit.actor')}</label>
          <input id={ids.actor} value={form.actor} onInput={set('actor')} list="audit-actors" placeholder={t('audit.actorHelp')} />
        </div>
        <datalist id="audit-actors">
          {(users.data || []).map((u) => <option value={`user:${u.username}`} />)}
          <option value="system" />
        </datalist>
        <div class="stack">
          <label for={ids.action}>{t('audit.actionPrefix')}</label>
          <select id={ids.action} value={form.action} onChange={set('action')}>
            <option value="">{t('audit.anyAction')}</option>
            {ACTIONS.map((a) => <option value={a}>{a.endsWith('.') ? `${a}*` : a}</option>)}
          </select>
        </div>
        <div class="stack">
          <label for={ids.from}>{t('audit.from')}</label>
          <input id={ids.from} type="date" value={form.from} onInput={set('from')}
            aria-invalid={rangeError ? 'true' : undefined} aria-describedby={rangeError ? 'audit-range-err' : undefined} />
        </div>
        <div class="stack">
          <label for={ids.to}>{t('audit.to')}</label>
          <input id={ids.to} type="date" value={form.to} onInput={set('to')} />
        </div>
        <div class="stack">
          <label for={ids.asset}>{t('audit.asset')}</label>
          <input id={ids.asset} value={form.asset} onInput={set('asset')} spellcheck={false} />
        </div>
        <div class="row">
          <button type="submit" class="primary">{t('audit.apply')}</button>
          <button type="button" onClick={reset}>{t('audit.reset')}</button>
          <a class="button" href={csv} download>{t('audit.csv')}</a>
        </div>
      </form>
      <FieldError id="audit-range-err" error={rangeError} />
      <ErrorBox error={page.error} />
      {page.data && !rows.length && <p class="muted">{filtered ? t('audit.noneMatch') : t('audit.none')}</p>}
      {rows.length > 0 && <AuditTable rows={rows} caption={t('audit.title')} />}
      <nav class="row pager" aria-label={t('audit.pages')}>
        <button type="button" disabled={cursors.length < 2 || page.loading} onClick={() => setCursors((c) => c.slice(0, -1))}>{t('audit.newer')}</button>
        <button type="button" disabled={!page.data?.next || page.loading} onClick={() => setCursors((c) => [...c, page.data.next])}>{t('audit.older')}</button>
      </nav>
    </div>
  );
}

// The worklist: assets missing required fields (GET /incomplete), each with
// its thumbnail and an input per missing field typed by the field's
// definition (vocabulary choices, dates, numbers ...). Each asset is saved
// on its own through PATCH /assets/{id}; the server's validation error is
// shown at its input, and an asset leaves the list once complete. Long
// lists are shown a page at a time.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { api, errorText, urls } from '../lib/api.js';
import { Link } from '../lib/router.jsx';
import { roleAtLeast, session, toast, useStore } from '../lib/store.js';
import { ErrorBox, Spinner, useLoad } from '../components/ui.jsx';
import { Input } from './asset/FieldsPanel.jsx';

const PAGE_SIZE = 20;
const domId = (asset, key) => `wl-${asset}-${key.replace(/[^a-z0-9_-]/gi, (c) => '_' + c.charCodeAt(0).toString(16))}`;

/** Whether fields hold a value for the field key (any language of a multilang one). */
function filled(fields, key, def) {
  if ((fields[key] ?? '') !== '') return true;
  return !!def?.multilang && Object.entries(fields).some(([k, v]) => k.startsWith(key + '@') && v !== '');
}

function Thumb({ id }) {
  const [failed, setFailed] = useState(false);
  return (
    <div class="thumb worklist-thumb" aria-hidden="true">
      {!failed && <img src={urls.thumb(id)} alt="" loading="lazy" width={96} height={96} onError={() => setFailed(true)} />}
    </div>
  );
}

function WorkRow({ row, defs, vocabs, canEdit, onSaved }) {
  const [values, setValues] = useState({});
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const set = (k, v) => {
    setValues((x) => ({ ...x, [k]: v }));
    if (errors[k]) setErrors((e) => { const n = { ...e }; delete n[k]; return n; });
  };

  const save = async (e) => {
    e.preventDefault();
    const fields = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v !== ''));
    if (!Object.keys(fields).length) { setError(t('worklist.nothingTyped')); return; }
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      const next = await api(`/assets/${row.id}`, { method: 'PATCH', json: { fields } });
      const still = row.missing.filter((k) => !filled(next.fields || {}, k, defs[k]));
      setValues({});
      onSaved(row, still);
    } catch (err) {
      const key = err.field ? err.field.replace(/@.*/, '') : null;
      if (err.status === 400 && key && row.missing.includes(key)) {
        setErrors({ [key]: errorText(err) });
        requestAnimationFrame(() => document.getElementById(domId(row.id, key))?.focus());
      } else if (err.status !== 401) {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <li class="worklist-row" data-id={row.id}>
      <Thumb id={row.id} />
      <form class="worklist-form" onSubmit={save} noValidate aria-label={row.name}>
        <h2 class="worklist-name"><Link href={`/ui/asset/${row.id}`}>{row.name}</Link></h2>
        <p class="muted">{t('worklist.missing', { n: row.missing.length })}</p>
        <div class="worklist-fields">
          {row.missing.map((k) => {
            const def = defs[k];
            const id = domId(row.id, k);
            const label = def?.labels?.en || k;
            const err = errors[k];
            return (
              <div class={`form-row${err ? ' has-error' : ''}`} key={k}>
                <label for={id}>{label}<span class="req" aria-hidden="true"> *</span>
                  <span class="visually-hidden"> ({t('fields.required')})</span></label>
                <div class="form-input">
                  <Input def={{ ...(def || {}), required: true }} id={id} value={values[k] ?? ''} onChange={(v) => set(k, v)}
                    disabled={!canEdit || busy} invalid={!!err} describedBy={err ? `${id}-err` : undefined}
                    vocab={def?.vocab ? vocabs[def.vocab] : null} label={label} />
                </div>
                {def?.help && <p class="help">{def.help}</p>}
                {err && <p id={`${id}-err`} class="field-error" role="alert">{err}</p>}
              </div>
            );
          })}
        </div>
        <ErrorBox error={error} />
        {canEdit && <button type="submit" class="primary" disabled={busy}>{busy ? t('worklist.saving') : t('worklist.save')}</button>}
      </form>
    </li>
  );
}

export function Worklist() {
  const user = useStore(session);
  const canEdit = roleAtLeast(user, 'contributor');
  const load = useLoad(async (signal) => {
    const [inc, fields] = await Promise.all([api('/incomplete', { signal }), api('/fields', { signal })]);
    const defs = Object.fromEntries(fields.items.map((d) => [d.key, d]));
    const names = [...new Set(fields.items.filter((d) => d.required && d.vocab).map((d) => d.vocab))];
    const vocabs = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await api(`/vocabularies/${encodeURIComponent(n)}`, { signal })])));
    return { items: inc.assets, defs, vocabs };
  }, []);
  const [items, setItems] = useState(null);
  const [page, setPage] = useState(0);
  const heading = useRef(null);
  useEffect(() => { if (load.data) setItems(load.data.items); }, [load.data]);

  if (load.error) return <div class="page"><ErrorBox error={load.error} /></div>;
  if (!items) return <div class="page center"><Spinner /></div>;
  const pages = Math.max(1, Math.ceil(items.length / PAGE_SIZE));
  const cur = Math.min(page, pages - 1);
  const rows = items.slice(cur * PAGE_SIZE, (cur + 1) * PAGE_SIZE);

  const saved = (row, still) => {
    if (still.length) {
      setItems((list) => list.map((x) => (x.id === row.id ? { ...x, missing: still } : x)));
      toast(t('worklist.stillMissing', { keys: still.join(', ') }), 'success');
      return;
    }
    // The row leaves; focus goes to the next row's first input, else the heading.
    const i = items.findIndex((x) => x.id === row.id);
    const after = items[i + 1] || items[i - 1];
    setItems((list) => list.filter((x) => x.id !== row.id));
    toast(t('worklist.complete', { name: row.name }), 'success');
    requestAnimationFrame(() => {
      const next = after && document.querySelector(`li[data-id="${after.id}"] input, li[data-id="${after.id}"] select, li[data-id="${after.id}"] textarea`);
      (next || heading.current)?.focus();
    });
  };

  return (
    <div class="page worklist">
      <h1 ref={heading} tabIndex={-1}>{t('worklist.title')}
        <span class="count" role="status"> {t('worklist.count', { n: items.length })}</span></h1>
      <p class="muted">{t('worklist.intro')}</p>
      {!canEdit && <p class="notice">{t('worklist.readOnly')}</p>}
      {!items.length && <p class="empty">{t('worklist.none')}</p>}
      <ul class="worklist-list">
        {rows.map((r) => <WorkRow key={r.id} row={r} defs={load.data.defs} vocabs={load.data.vocabs} canEdit={canEdit} onSaved={saved} />)}
      </ul>
      {pages > 1 && (
        <nav class="row pager" aria-label={t('worklist.pages')}>
          <button type="button" disabled={cur === 0} onClick={() => setPage(cur - 1)}>{t('worklist.prev')}</button>
          <span>{t('worklist.page', { page: cur + 1, pages })}</span>
          <button type="button" disabled={cur >= pages - 1} onClick={() => setPage(cur + 1)}>{t('worklist.next')}</button>
        </nav>
      )}
    </div>
  );
}

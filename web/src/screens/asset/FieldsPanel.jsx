// The schema-driven form for an asset's fields: one input per defined
// field as its type wants (vocabulary pickers for choices, one value per
// language for multi-language fields, required markers), the free fields
// the asset carries, and the server's validation errors at the field they
// concern. What the user typed survives errors, conflicts, reloads and an
// ended session (a draft is kept in sessionStorage until saved).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { t, readNumber } from '../../i18n/index.js';
import { api, request, errorText } from '../../lib/api.js';
import { saved, toast } from '../../lib/store.js';
import { ErrorBox, useLoad } from '../../components/ui.jsx';

const draftKey = (id) => `dam.draft.fields.${id}`;
const domId = (key) => 'f-' + key.replace(/[^a-z0-9_-]/gi, (c) => '_' + c.charCodeAt(0).toString(16));
const KEY_RE = /^[a-z0-9_.-]{1,64}$/;

function termOptions(vocab) {
  const terms = vocab?.terms || [];
  const kids = new Map();
  for (const tm of terms) {
    const p = tm.parent ? tm.parent.toLowerCase() : '';
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(tm);
  }
  const out = [];
  const walk = (p, depth, seen) => {
    for (const tm of kids.get(p) || []) {
      const k = tm.term.toLowerCase();
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ value: tm.term, label: `${'\u00a0\u00a0'.repeat(depth)}${tm.labels?.en || tm.term}` });
      walk(k, depth + 1, seen);
    }
  };
  walk('', 0, new Set());
  return out;
}

export function Input({ def, id, value, onChange, disabled, invalid, describedBy, vocab, label }) {
  const common = { id, disabled, 'aria-invalid': invalid ? 'true' : undefined, 'aria-describedby': describedBy || undefined, 'aria-required': def?.required ? 'true' : undefined };
  const type = def?.type || 'text';
  if (type === 'longtext') return <textarea {...common} rows={4} value={value} onInput={(e) => onChange(e.target.value)} />;
  if (type === 'boolean') {
    return (
      <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{t('fields.none')}</option>
        <option value="true">{t('fields.yes')}</option>
        <option value="false">{t('fields.no')}</option>
      </select>
    );
  }
  if (type === 'choice' && vocab) {
    const opts = termOptions(vocab);
    const known = !value || opts.some((o) => o.value.toLowerCase() === value.toLowerCase());
    return (
      <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{t('fields.none')}</option>
        {!known && <option value={value}>{value}</option>}
        {opts.map((o) => <option value={o.value}>{o.label}</option>)}
      </select>
    );
  }
  if (type === 'multichoice' && vocab) {
    const chosen = value.split(',').map((x) => x.trim()).filter(Boolean);
    const lower = chosen.map((x) => x.toLowerCase());
    const opts = termOptions(vocab);
    const toggle = (v, on) => {
      const next = on ? [...chosen, v] : chosen.filter((x) => x.toLowerCase() !== v.toLowerCase());
      onChange(next.join(', '));
    };
    return (
      <fieldset class="choices" aria-describedby={describedBy || undefined} aria-invalid={invalid ? 'true' : undefined}>
        <legend class="visually-hidden">{label}</legend>
        {opts.map((o) => (
          <label class="check"><input type="checkbox" disabled={disabled} checked={lower.includes(o.value.toLowerCase())}
            onChange={(e) => toggle(o.value, e.target.checked)} /> {o.label.trim()}</label>
        ))}
      </fieldset>
    );
  }
  if (type === 'date' && (!value || /^\d{4}-\d{2}-\d{2}$/.test(value))) return <input {...common} type="date" value={value} onInput={(e) => onChange(e.target.value)} />;
  if (type === 'number') return <input {...common} type="text" inputMode="decimal" value={value} onInput={(e) => onChange(e.target.value)} />;
  if (type === 'url') return <input {...common} type="url" value={value} onInput={(e) => onChange(e.target.value)} />;
  return <input {...common} type="text" value={value} onInput={(e) => onChange(e.target.value)} />;
}

export function FieldsPanel({ asset, etag, canEdit, onSaved }) {
  const schema = useLoad(async (signal) => {
    const [fields, langs] = await Promise.all([api('/fields', { signal }), api('/languages', { signal })]);
    const vocabNames = [...new Set(fields.items.map((d) => d.vocab).filter(Boolean))];
    const vocabs = Object.fromEntries(await Promise.all(vocabNames.map(async (n) => [n, await api(`/vocabularies/${encodeURIComponent(n)}`, { signal })])));
    return { defs: fields.items, languages: langs.languages, vocabs };
  }, []);
  const base = asset.fields || {};
  const [values, setValues] = useState(() => ({ ...base }));
  const [extra, setExtra] = useState([]); // keys added in this form
  const [errors, setErrors] = useState({});
  const [summary, setSummary] = useState(null);
  const [conflict, setConflict] = useState(false);
  const [busy, setBusy] = useState(false);
  const [restored, setRestored] = useState(false);
  const [newKey, setNewKey] = useState('');
  const [newValue, setNewValue] = useState('');
  const [newKeyError, setNewKeyError] = useState(null);

  // A draft left by an earlier visit (error, expired session, reload).
  useEffect(() => {
    const d = saved.get(draftKey(asset.id));
    if (d && Object.keys(d).length) {
      setValues((v) => ({ ...v, ...d }));
      setExtra(Object.keys(d).filter((k) => !(k in base)));
      setRestored(true);
    }
  }, [asset.id]);

  // The asset changed underneath (tags saved, a new version): new values,
  // with this form's unsaved edits on top.
  useEffect(() => {
    setValues({ ...(asset.fields || {}), ...(saved.get(draftKey(asset.id)) || {}) });
  }, [asset]);

  const changes = useMemo(() => {
    const out = {};
    for (const [k, v] of Object.entries(values)) if ((base[k] ?? '') !== (v ?? '')) out[k] = v;
    return out;
  }, [values, asset]);
  const dirty = Object.keys(changes).length > 0;
  useEffect(() => {
    if (dirty) saved.set(draftKey(asset.id), changes); else saved.del(draftKey(asset.id));
  }, [changes]);

  const set = (k, v) => {
    setValues((x) => ({ ...x, [k]: v }));
    if (errors[k]) setErrors((e) => { const n = { ...e }; delete n[k]; return n; });
  };

  const save = async (e, force = false) => {
    e?.preventDefault();
    setBusy(true);
    setSummary(null);
    setErrors({});
    try {
      // numbers as the user's locale writes them ("12,5") go out as 12.5
      const isNumber = (k) => schema.data?.defs.find((d) => d.key === k.split('@')[0])?.type === 'number';
      const fields = Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, v === '' ? null : isNumber(k) ? readNumber(v) : v]));
      const res = await request(`/assets/${asset.id}`, { method: 'PATCH', json: { fields }, headers: force || !etag ? {} : { 'if-match': etag } });
      const next = await res.json();
      saved.del(draftKey(asset.id));
      setConflict(false);
      setRestored(false);
      setExtra([]);
      setValues({ ...(next.fields || {}) });
      toast(t('fields.saved'), 'success');
      onSaved(next, res.headers.get('etag'));
    } catch (err) {
      if (err.status === 412) setConflict(true);
      else if (err.status === 400 && err.field && (err.field in values || err.field.replace(/@.*/, '') in values || schema.data?.defs.some((d) => d.key === err.field.replace(/@.*/, '')))) {
        setErrors({ [err.field]: errorText(err) });
        setSummary(t('fields.errorSummary'));
        requestAnimationFrame(() => document.getElementById(domId(err.field))?.focus());
      } else if (err.status !== 401) setSummary(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const discard = () => {
    saved.del(draftKey(asset.id));
    setValues({ ...base });
    setExtra([]);
    setErrors({});
    setSummary(null);
    setRestored(false);
  };

  const addField = (e) => {
    e.preventDefault();
    const k = newKey.trim();
    if (!KEY_RE.test(k)) { setNewKeyError(t('fields.keyInvalid')); return; }
    setNewKeyError(null);
    if (!(k in values)) setExtra((x) => [...x, k]);
    set(k, newValue);
    setNewKey('');
    setNewValue('');
    requestAnimationFrame(() => document.getElementById(domId(k))?.focus());
  };

  if (schema.error) return <ErrorBox error={schema.error} />;
  if (!schema.data) return <p class="muted">{t('common.loading')}</p>;
  const { defs, languages, vocabs } = schema.data;
  const defined = new Set(defs.map((d) => d.key));
  const freeKeys = [...new Set([...Object.keys(base), ...extra])].filter((k) => !defined.has(k.replace(/@.*/, ''))).sort();

  const row = (key, def, labelText) => {
    const id = domId(key);
    const err = errors[key];
    const v = values[key] ?? '';
    const requiredEmpty = def?.required && !v && !(def.multilang && languages.some((l) => values[`${def.key}@${l}`]));
    const help = def?.help ? `${id}-help` : null;
    const described = [err ? `${id}-err` : null, help, requiredEmpty ? `${id}-req` : null].filter(Boolean).join(' ');
    return (
      <div class={`form-row${err ? ' has-error' : ''}${key in changes ? ' changed' : ''}`} key={key}>
        <label for={id}>
          {labelText}
          {def?.required && <span class="req" aria-hidden="true"> *</span>}
          {def?.required && <span class="visually-hidden"> ({t('fields.required')})</span>}
        </label>
        <div class="form-input">
          <Input def={def} id={id} value={v} onChange={(x) => set(key, x)} disabled={!canEdit}
            invalid={!!err} describedBy={described} vocab={def?.vocab ? vocabs[def.vocab] : null} label={labelText} />
          {!def && canEdit && (
            <button type="button" class="icon-button small" aria-label={t('fields.remove', { name: key })} onClick={() => set(key, '')}>×</button>
          )}
        </div>
        {help && <p id={help} class="help">{def.help}</p>}
        {err && <p id={`${id}-err`} class="field-error" role="alert">{err}</p>}
        {requiredEmpty && !err && <p id={`${id}-req`} class="help warn">{t('fields.requiredEmpty')}</p>}
      </div>
    );
  };

  return (
    <form class="fields-form" onSubmit={save} noValidate>
      {!canEdit && <p class="notice">{t('fields.noRight')}</p>}
      {restored && <p class="notice" role="status">{t('fields.draftRestored')}</p>}
      {conflict && (
        <div class="error-box" role="alert">
          <p>{t('fields.conflict')}</p>
          <div class="row">
            <button type="button" onClick={(e) => save(e, true)}>{t('fields.overwrite')}</button>
            <button type="button" onClick={() => { discard(); onSaved(null); }}>{t('fields.reload')}</button>
          </div>
        </div>
      )}
      {summary && <div class="error-box" role="alert">{summary}</div>}
      {defs.map((d) => {
        const label = d.labels?.en || d.key;
        if (!d.multilang) return row(d.key, d, label);
        return (
          <fieldset class="multilang" key={d.key}>
            <legend>{label}{d.required && <span class="req" aria-hidden="true"> *</span>}</legend>
            {languages.map((l) => row(`${d.key}@${l}`, { ...d, required: false }, t('fields.lang', { label, lang: l })))}
          </fieldset>
        );
      })}
      {freeKeys.length > 0 && <h3>{t('fields.other')}</h3>}
      {freeKeys.map((k) => row(k, null, k))}
      {canEdit && (
        <div class="add-field">
          <h3>{t('fields.add')}</h3>
          <div class="row wrap">
            <label class="stack">{t('fields.addKey')}
              <input value={newKey} onInput={(e) => setNewKey(e.target.value)} list="field-keys"
                aria-invalid={newKeyError ? 'true' : undefined} aria-describedby={newKeyError ? 'newkey-err' : undefined} />
            </label>
            <datalist id="field-keys">{defs.map((d) => <option value={d.key} />)}</datalist>
            <label class="stack">{t('fields.addValue')}
              <input value={newValue} onInput={(e) => setNewValue(e.target.value)} />
            </label>
            <button type="button" onClick={addField} disabled={!newKey.trim()}>{t('fields.addButton')}</button>
          </div>
          {newKeyError && <p id="newkey-err" class="field-error" role="alert">{newKeyError}</p>}
        </div>
      )}
      {canEdit && (
        <div class="form-actions sticky">
          {dirty && <span class="muted" role="status">{t('fields.unsaved')}</span>}
          <button type="button" onClick={discard} disabled={!dirty || busy}>{t('fields.revert')}</button>
          <button type="submit" class="primary" disabled={!dirty || busy}>{busy ? t('fields.saving') : t('fields.save')}</button>
        </div>
      )}
    </form>
  );
}

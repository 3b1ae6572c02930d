// The metadata schema: field definitions and languages, vocabularies with
// their terms, and metadata templates.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { api } from '../../lib/api.js';
import { toast } from '../../lib/store.js';
import { Confirm, ErrorBox, FieldError, useAction, useId, useLoad } from '../../components/ui.jsx';

const TYPES = ['text', 'longtext', 'number', 'date', 'boolean', 'choice', 'multichoice', 'url', 'person'];

function Languages() {
  const r = useLoad((signal) => api('/languages', { signal }), []);
  const [text, setText] = useState('');
  const act = useAction();
  const id = useId('langs'), eId = useId('lange');
  useEffect(() => { if (r.data) setText(r.data.languages.join(', ')); }, [r.data]);
  const save = (e) => {
    e.preventDefault();
    act.run(async () => {
      await api('/languages', { method: 'PUT', json: { languages: text.split(',').map((x) => x.trim()).filter(Boolean) } });
      toast(t('fieldsAdmin.languagesSaved'), 'success');
      r.reload();
    });
  };
  return (
    <form class="card row wrap" onSubmit={save} noValidate>
      <label for={id}>{t('fieldsAdmin.languages')}</label>
      <input id={id} value={text} onInput={(e) => setText(e.target.value)} aria-invalid={act.error ? 'true' : undefined} aria-describedby={act.error ? eId : undefined} />
      <button type="submit" disabled={act.busy}>{t('fieldsAdmin.languagesSave')}</button>
      <FieldError id={eId} error={act.error} />
    </form>
  );
}

export function FieldsAdmin() {
  const list = useLoad((signal) => api('/fields', { signal }).then((r) => r.items), []);
  const vocabs = useLoad((signal) => api('/vocabularies', { signal }).then((r) => r.items), []);
  const empty = { key: '', type: 'text', label: '', help: '', vocab: '', default: '', required: false, facetable: false, searchable: true, multilang: false };
  const [f, setF] = useState(empty);
  const [editing, setEditing] = useState(null); // the key being changed, or null: a new field
  const [removing, setRemoving] = useState(null);
  const act = useAction();
  const rm = useAction();
  const ids = { key: useId('fk'), type: useId('ft'), label: useId('fl'), help: useId('fh'), vocab: useId('fv'), def: useId('fd'), err: useId('fe') };
  const form = useRef(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const edit = (d) => {
    setEditing(d.key);
    act.setError(null);
    setF({ key: d.key, type: d.type, label: d.labels?.en || '', help: d.help || '', vocab: d.vocab || '', default: d.default ?? '',
      required: !!d.required, facetable: !!d.facetable, searchable: d.searchable !== false, multilang: !!d.multilang, labels: d.labels || {} });
  };
  const cancel = () => { setEditing(null); setF(empty); act.setError(null); };
  useEffect(() => {
    if (!editing || !form.current) return;
    form.current.scrollIntoView({ block: 'start' });
    form.current.querySelector(`#${ids.type}`)?.focus({ preventScroll: true });
  }, [editing]);
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const body = { key: f.key.trim(), type: f.type, required: f.required, facetable: f.facetable, searchable: f.searchable, multilang: f.multilang };
      // labels of other languages (set through the API) are kept
      const labels = { ...(f.labels || {}) };
      if (f.label.trim()) labels.en = f.label.trim(); else delete labels.en;
      if (Object.keys(labels).length) body.labels = labels;
      if (f.help.trim()) body.help = f.help.trim();
      if (f.vocab) body.vocab = f.vocab;
      if (f.default.trim()) body.default = f.default.trim();
      if (editing) {
        await api(`/fields/${encodeURIComponent(editing)}`, { method: 'PUT', json: body });
        toast(t('fieldsAdmin.changed', { key: body.key }), 'success');
      } else {
        await api('/fields', { method: 'POST', json: body });
        toast(t('fieldsAdmin.added', { key: body.key }), 'success');
      }
      setF(empty);
      setEditing(null);
      list.reload();
    });
  };
  const doRemove = (ok) => {
    if (!ok) { setRemoving(null); return; }
    rm.run(async () => {
      await api(`/fields/${encodeURIComponent(removing)}`, { method: 'DELETE' });
      setRemoving(null);
      list.reload();
    });
  };
  const bad = (k) => (act.error && (act.error.field === k || (!act.error.field && k === 'key')) ? 'true' : undefined);
  return (
    <div>
      <h1>{t('fieldsAdmin.title')}</h1>
      <p class="muted">{t('fieldsAdmin.intro')}</p>
      <ErrorBox error={list.error} />
      <table class="table">
        <thead><tr><th scope="col">{t('fieldsAdmin.key')}</th><th scope="col">{t('fieldsAdmin.label')}</th><th scope="col">{t('fieldsAdmin.type')}</th>
          <th scope="col">{t('fieldsAdmin.vocab')}</th><th scope="col">{t('fieldsAdmin.required')}</th><th scope="col">{t('fieldsAdmin.facetable')}</th><th scope="col">{t('common.actions')}</th></tr></thead>
        <tbody>
          {(list.data || []).map((d) => (
            <tr key={d.key}>
              <th scope="row" class="mono">{d.key}</th><td>{d.labels?.en || ''}</td><td>{t('type.' + d.type)}{d.multilang ? ' · ' + t('fieldsAdmin.multilang') : ''}</td>
              <td>{d.vocab || ''}</td><td>{d.required ? t('common.yes') : ''}</td><td>{d.facetable ? t('common.yes') : ''}</td>
              <td class="row"><button type="button" class="small" aria-label={t('fieldsAdmin.editKey', { key: d.key })} onClick={() => edit(d)}>{t('fieldsAdmin.edit')}</button>
                <button type="button" class="small danger" onClick={() => setRemoving(d.key)}>{t('fieldsAdmin.remove')}</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <Languages />
      <form class="card form-grid" onSubmit={submit} noValidate ref={form}>
        <h2>{editing ? t('fieldsAdmin.editKey', { key: editing }) : t('fieldsAdmin.add')}</h2>
        <label for={ids.key}>{t('fieldsAdmin.key')}</label>
        <input id={ids.key} value={f.key} onInput={set('key')} disabled={!!editing} aria-invalid={bad('key')} aria-describedby={act.error ? ids.err : undefined} />
        <label for={ids.type}>{t('fieldsAdmin.type')}</label>
        <select id={ids.type} value={f.type} onChange={set('type')} aria-invalid={bad('type')}>
          {TYPES.map((x) => <option value={x}>{t('type.' + x)}</option>)}
        </select>
        <label for={ids.label}>{t('fieldsAdmin.label')}</label>
        <input id={ids.label} value={f.label} onInput={set('label')} />
        <label for={ids.help}>{t('fieldsAdmin.help')}</label>
        <input id={ids.help} value={f.help} onInput={set('help')} />
        <label for={ids.vocab}>{t('fieldsAdmin.vocab')}</label>
        <select id={ids.vocab} value={f.vocab} onChange={set('vocab')} aria-invalid={bad('vocab')}>
          <option value="">—</option>
          {(vocabs.data || []).map((v) => <option value={v.name}>{v.name}</option>)}
        </select>
        <label for={ids.def}>{t('fieldsAdmin.default')}</label>
        <input id={ids.def} value={f.default} onInput={set('default')} aria-invalid={bad('default')} />
        <div class="checks">
          <label class="check"><input type="checkbox" checked={f.required} onChange={set('required')} /> {t('fieldsAdmin.required')}</label>
          <label class="check"><input type="checkbox" checked={f.facetable} onChange={set('facetable')} /> {t('fieldsAdmin.facetable')}</label>
          <label class="check"><input type="checkbox" checked={f.searchable} onChange={set('searchable')} /> {t('fieldsAdmin.searchable')}</label>
          <label class="check"><input type="checkbox" checked={f.multilang} onChange={set('multilang')} /> {t('fieldsAdmin.multilang')}</label>
        </div>
        <FieldError id={ids.err} error={act.error} />
        <div class="row">
          <button type="submit" class="primary" disabled={act.busy || !f.key.trim()}>{editing ? t('fieldsAdmin.save') : t('fieldsAdmin.add')}</button>
          {editing && <button type="button" onClick={cancel}>{t('common.cancel')}</button>}
        </div>
      </form>
      {removing && <Confirm title={t('fieldsAdmin.removeTitle', { key: removing })} text={t('fieldsAdmin.removeText')} confirm={t('fieldsAdmin.remove')}
        danger onAnswer={doRemove} busy={rm.busy} error={rm.error} />}
    </div>
  );
}

function Terms({ name, onChanged }) {
  const v = useLoad((signal) => api(`/vocabularies/${encodeURIComponent(name)}`, { signal }), [name]);
  const [term, setTerm] = useState('');
  const [parent, setParent] = useState('');
  const [syn, setSyn] = useState('');
  const [editing, setEditing] = useState(null); // the term being changed (PATCH: rename, move, synonyms)
  const act = useAction();
  const ids = { term: useId('vt'), parent: useId('vp'), syn: useId('vs'), err: useId('ve') };
  const form = useRef(null);
  const clear = () => { setEditing(null); setTerm(''); setParent(''); setSyn(''); act.setError(null); };
  const edit = (x) => {
    setEditing(x.term);
    setTerm(x.term);
    setParent(x.parent || '');
    setSyn((x.synonyms || []).join(', '));
    act.setError(null);
    requestAnimationFrame(() => { form.current?.scrollIntoView({ block: 'nearest' }); form.current?.querySelector(`#${ids.term}`)?.focus(); });
  };
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const body = { parent: parent || null, synonyms: syn.split(',').map((x) => x.trim()).filter(Boolean) };
      if (editing) {
        await api(`/vocabularies/${encodeURIComponent(name)}/terms/${encodeURIComponent(editing)}`, { method: 'PATCH', json: { ...body, term: term.trim() } });
      } else {
        await api(`/vocabularies/${encodeURIComponent(name)}/terms/${encodeURIComponent(term.trim())}`, { method: 'PUT', json: body });
      }
      toast(t('vocab.termSaved', { term: term.trim() }), 'success');
      clear();
      v.reload();
      onChanged(); // the vocabulary's term count above
    });
  };
  const terms = v.data?.terms || [];
  return (
    <section class="card">
      <h2>{t('vocab.terms', { name })}</h2>
      <ErrorBox error={v.error} />
      {!terms.length && <p class="muted">{t('vocab.noTerms')}</p>}
      <ul class="terms">
        {terms.map((x) => (
          <li><strong>{x.term}</strong>{x.parent ? <span class="muted"> ← {x.parent}</span> : null}
            {x.synonyms?.length ? <span class="muted"> ({x.synonyms.join(', ')})</span> : null}
            {' '}<button type="button" class="small" aria-label={t('vocab.editTerm', { term: x.term })} onClick={() => edit(x)}>{t('vocab.edit')}</button></li>
        ))}
      </ul>
      <form class="form-grid" onSubmit={submit} noValidate ref={form}>
        {editing && <h3>{t('vocab.editTerm', { term: editing })}</h3>}
        <label for={ids.term}>{t('vocab.term')}</label>
        <input id={ids.term} value={term} onInput={(e) => setTerm(e.target.value)} aria-invalid={act.error ? 'true' : undefined} aria-describedby={act.error ? ids.err : undefined} />
        <label for={ids.parent}>{t('vocab.parent')}</label>
        <select id={ids.parent} value={parent} onChange={(e) => setParent(e.target.value)}>
          <option value="">{t('vocab.noParent')}</option>
          {terms.filter((x) => x.term !== editing).map((x) => <option value={x.term}>{x.term}</option>)}
        </select>
        <label for={ids.syn}>{t('vocab.synonyms')}</label>
        <input id={ids.syn} value={syn} onInput={(e) => setSyn(e.target.value)} />
        {editing && <p class="help">{t('vocab.renameHelp')}</p>}
        <FieldError id={ids.err} error={act.error} />
        <div class="row">
          <button type="submit" class="primary" disabled={act.busy || !term.trim()}>{t('vocab.saveTerm')}</button>
          {editing && <button type="button" onClick={clear}>{t('common.cancel')}</button>}
        </div>
      </form>
    </section>
  );
}

export function Vocabularies() {
  const list = useLoad((signal) => api('/vocabularies', { signal }).then((r) => r.items), []);
  const [name, setName] = useState('');
  const [open, setOpen] = useState(null);
  const act = useAction();
  const id = useId('vn'), eId = useId('vne');
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      await api('/vocabularies', { method: 'POST', json: { name: name.trim() } });
      toast(t('vocab.added', { name: name.trim() }), 'success');
      setOpen(name.trim());
      setName('');
      list.reload();
    });
  };
  return (
    <div>
      <h1>{t('vocab.title')}</h1>
      <ErrorBox error={list.error} />
      {list.data && !list.data.length && <p class="muted">{t('vocab.none')}</p>}
      <ul class="pills">
        {(list.data || []).map((v) => (
          <li><button type="button" aria-pressed={open === v.name} class={open === v.name ? 'on' : ''} onClick={() => setOpen(v.name)}>{v.name} <span class="muted">({v.terms})</span></button></li>
        ))}
      </ul>
      <form class="card row wrap" onSubmit={submit} noValidate>
        <label for={id}>{t('vocab.add')}</label>
        <input id={id} value={name} onInput={(e) => setName(e.target.value)} aria-invalid={act.error ? 'true' : undefined} aria-describedby={act.error ? eId : undefined} />
        <button type="submit" disabled={act.busy || !name.trim()}>{t('vocab.add')}</button>
        <FieldError id={eId} error={act.error} />
      </form>
      {open && <Terms key={open} name={open} onChanged={list.reload} />}
    </div>
  );
}

export function Templates() {
  const list = useLoad((signal) => api('/templates', { signal }).then((r) => r.items), []);
  const [f, setF] = useState({ name: '', match: '', fields: '', tags: '' });
  const [removing, setRemoving] = useState(null);
  const act = useAction();
  const rm = useAction();
  const ids = { name: useId('tn'), match: useId('tm'), fields: useId('tf'), tags: useId('tt'), err: useId('te') };
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const submit = (e) => {
    e.preventDefault();
    const fields = {};
    for (const line of f.fields.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) fields[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    act.run(async () => {
      await api('/templates', { method: 'POST', json: { name: f.name.trim(), match: f.match.trim() || undefined, fields, tags: f.tags.split(',').map((x) => x.trim()).filter(Boolean) } });
      toast(t('templates.added', { name: f.name.trim() }), 'success');
      setF({ name: '', match: '', fields: '', tags: '' });
      list.reload();
    });
  };
  const doRemove = (ok) => {
    if (!ok) { setRemoving(null); return; }
    rm.run(async () => {
      await api(`/templates/${encodeURIComponent(removing)}`, { method: 'DELETE' });
      setRemoving(null);
      list.reload();
    });
  };
  return (
    <div>
      <h1>{t('templates.title')}</h1>
      <ErrorBox error={list.error} />
      {list.data && !list.data.length && <p class="muted">{t('templates.none')}</p>}
      <ul class="cards">
        {(list.data || []).map((x) => (
          <li class="card">
            <strong>{x.name}</strong>{x.match ? <code class="muted"> {x.match}</code> : null}
            <dl class="kv">{Object.entries(x.fields || {}).map(([k, v]) => <><dt>{k}</dt><dd>{v}</dd></>)}</dl>
            {x.tags?.length ? <p>{x.tags.map((g) => <span class="chip">{g}</span>)}</p> : null}
            <button type="button" class="small danger" onClick={() => setRemoving(x.name)}>{t('templates.remove')}</button>
          </li>
        ))}
      </ul>
      <form class="card form-grid" onSubmit={submit} noValidate>
        <h2>{t('templates.add')}</h2>
        <label for={ids.name}>{t('templates.name')}</label>
        <input id={ids.name} value={f.name} onInput={set('name')} aria-invalid={act.error ? 'true' : undefined} aria-describedby={act.error ? ids.err : undefined} />
        <label for={ids.match}>{t('templates.match')}</label>
        <input id={ids.match} value={f.match} onInput={set('match')} placeholder="shoots/*" />
        <label for={ids.fields}>{t('templates.fields')}</label>
        <textarea id={ids.fields} rows={4} value={f.fields} onInput={set('fields')} placeholder="season=SS26" />
        <label for={ids.tags}>{t('templates.tags')}</label>
        <input id={ids.tags} value={f.tags} onInput={set('tags')} />
        <FieldError id={ids.err} error={act.error} />
        <div><button type="submit" class="primary" disabled={act.busy || !f.name.trim()}>{t('templates.add')}</button></div>
      </form>
      {removing && <Confirm title={t('templates.removeTitle', { name: removing })} confirm={t('templates.remove')} danger onAnswer={doRemove} busy={rm.busy} error={rm.error} />}
    </div>
  );
}

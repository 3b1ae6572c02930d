// The library's sidebar: saved searches and the facets of the current
// result with their counts (ticking values of one facet means "any of
// them"; different facets must all match).
import { useState } from 'preact/hooks';
import { t, fmtNumber, readNumber } from '../i18n/index.js';
import { api } from '../lib/api.js';
import { toast } from '../lib/store.js';
import { Link } from '../lib/router.jsx';
import { combineQuery, libraryUrl, rangeQuery } from '../lib/query.js';
import { ErrorBox, FieldError, useAction, useId, useLoad } from './ui.jsx';

const ORDER = ['type', 'format', 'tag', 'autotag', 'color', 'orientation', 'aspect', 'resolution', 'transparency', 'status'];
const SHOW = 8;

function facetLabel(f, defs) {
  const key = 'facet.' + f;
  const s = t(key);
  if (s !== key) return s;
  const d = defs?.find((x) => x.key === f);
  return d?.labels?.en || f;
}

function valueLabel(facet, v) {
  if (facet === 'type') { const s = t('kind.' + v); return s === 'kind.' + v ? v : s; }
  if (facet === 'status') { const s = t('status.' + v); return s === 'status.' + v ? v : s; }
  return v;
}

function Facet({ name, counts, chosen, onToggle, defs, matched }) {
  const [all, setAll] = useState(false);
  const [open, setOpen] = useState(true);
  const headId = useId('facet');
  const entries = Object.entries(counts || {});
  for (const v of chosen) if (!entries.some(([k]) => k === v)) entries.push([v, 0]);
  entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = all ? entries : entries.slice(0, SHOW);
  if (!entries.length) return null;
  return (
    <section class="facet" aria-labelledby={headId}>
      <h3 id={headId}>
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
          <span aria-hidden="true" class="chev">{open ? '▾' : '▸'}</span>{facetLabel(name, defs)}
        </button>
      </h3>
      {open && (
        <ul>
          {shown.map(([v, n]) => {
            const on = chosen.includes(v);
            return (
              <li key={v}>
                <label class={on ? 'on' : ''}>
                  <input type="checkbox" checked={on} onChange={() => onToggle(name, v)}
                    aria-label={t('facet.value', { value: valueLabel(name, v), n: fmtNumber(n) })} />
                  <span class="facet-value">{valueLabel(name, v)}
                    {matched?.[v.toLowerCase()] && <span class="facet-matched"> {t('facets.matched', { word: matched[v.toLowerCase()] })}</span>}
                  </span>
                  <span class="facet-count" aria-hidden="true">{fmtNumber(n)}</span>
                </label>
              </li>
            );
          })}
        </ul>
      )}
      {open && entries.length > SHOW && (
        <button type="button" class="link-button" onClick={() => setAll(!all)}>
          {all ? t('facets.less') : t('facets.more', { n: entries.length })}
        </button>
      )}
    </section>
  );
}

/* A number or date field: a histogram of the result's values in buckets
 * (from the server, each with its filter), and a from/to range to type. */
function RangeFacet({ name, range, chosen, onRange, defs }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [bad, setBad] = useState(false);
  const headId = useId('range');
  const fromId = useId('rfrom');
  const toId = useId('rto');
  const max = Math.max(1, ...(range?.buckets || []).map((b) => b.count));
  const apply = (e) => {
    e.preventDefault();
    // a number field reads the user's decimal comma ("12,5"); dates stay as typed
    const num = (v) => (range?.type === 'date' || !v.trim() ? v : String(readNumber(v)));
    const q = rangeQuery(name, num(from), num(to));
    setBad(q === null);
    if (q !== null) onRange(name, q);
  };
  const date = range?.type === 'date';
  return (
    <section class="facet range-facet" aria-labelledby={headId}>
      <h3 id={headId}>{facetLabel(name, defs)}</h3>
      {chosen && (
        <p class="range-chosen"><code>{chosen}</code>{' '}
          <button type="button" class="link-button" onClick={() => onRange(name, null)}>{t('facets.rangeClear')}</button></p>
      )}
      {range && (
        <ul class="histogram">
          {range.buckets.map((b) => (
            <li key={b.q}>
              <button type="button" class={`bucket${chosen === b.q ? ' on' : ''}`} aria-pressed={chosen === b.q}
                onClick={() => onRange(name, chosen === b.q ? null : b.q)}
                aria-label={t('facets.bucket', { from: String(b.from), to: String(b.to), n: fmtNumber(b.count) })}>
                <span class="bucket-label">{date && b.from === b.to ? b.from : `${date ? b.from : fmtNumber(b.from)} – ${date ? b.to : fmtNumber(b.to)}`}</span>
                <span class="bucket-bar" aria-hidden="true"><span style={`width:${Math.round((100 * b.count) / max)}%`} /></span>
                <span class="facet-count" aria-hidden="true">{fmtNumber(b.count)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <form class="range-form" onSubmit={apply} noValidate>
        <label for={fromId}>{t('facets.from')}</label>
        <input id={fromId} value={from} onInput={(e) => setFrom(e.target.value)} size={10}
          placeholder={date ? 'now-7d' : '10'} aria-invalid={bad ? 'true' : undefined} />
        <label for={toId}>{t('facets.to')}</label>
        <input id={toId} value={to} onInput={(e) => setTo(e.target.value)} size={10}
          placeholder={date ? 'now+30d' : '20'} aria-invalid={bad ? 'true' : undefined} />
        <button type="submit">{t('facets.apply')}</button>
        {bad && <p class="field-error" role="alert">{t('facets.rangeBad')}</p>}
      </form>
    </section>
  );
}

/* "tag" counts every tag, "autotag" the automatic ones again: a value
 * only the analysis set (its counts equal) belongs under "Automatic tags"
 * alone; people's tags stay under "Tags". */
function peoplesTags(facets) {
  if (!facets.tag || !facets.autotag) return facets;
  const tag = Object.fromEntries(Object.entries(facets.tag).filter(([v, n]) => facets.autotag[v] !== n));
  return { ...facets, tag };
}

export function Facets({ facets: all, filters, onToggle, onClear, defs, ranges, chosenRanges, onRange, synonyms }) {
  if (!all) return null;
  const facets = peoplesTags(all);
  const rangeNames = [...new Set([...Object.keys(ranges || {}), ...Object.keys(chosenRanges || {})])].sort();
  const names = [...ORDER.filter((f) => f in facets), ...Object.keys(facets).filter((f) => !ORDER.includes(f) && !rangeNames.includes(f)).sort()];
  for (const f of Object.keys(filters)) if (!names.includes(f)) names.push(f);
  const any = Object.values(filters).some((v) => v.length) || Object.keys(chosenRanges || {}).length > 0;
  // a facet value that a synonym of the query stands for: "sneakers (matched: trainers)"
  const matched = {};
  for (const m of synonyms || []) matched[m.term.toLowerCase()] = m.word;
  return (
    <div class="facets">
      <div class="facets-head">
        <h2>{t('facets.title')}</h2>
        {any && <button type="button" class="link-button" onClick={onClear}>{t('facets.clear')}</button>}
      </div>
      {names.map((f) => <Facet key={f} name={f} counts={facets[f]} chosen={filters[f] || []} onToggle={onToggle} defs={defs} matched={matched} />)}
      {rangeNames.map((f) => <RangeFacet key={f} name={f} range={ranges?.[f]} chosen={chosenRanges?.[f]} onRange={onRange} defs={defs} />)}
    </div>
  );
}

export function SavedSearches({ state, user }) {
  const list = useLoad((signal) => api('/searches', { signal }), []);
  const [adding, setAdding] = useState(false);
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const act = useAction();
  const headId = useId('saved');
  const nameId = useId('savedname');
  const errId = useId('savederr');

  const save = (e) => {
    e.preventDefault();
    act.run(async () => {
      await api('/searches', { method: 'POST', json: { name: name.trim(), query: combineQuery(state.q, state.filters, state.ranges), sort: state.sort || undefined, shared } });
      toast(t('saved.saved', { name: name.trim() }), 'success');
      setAdding(false);
      setName('');
      list.reload();
    });
  };
  const remove = (s) => act.run(async () => {
    await api(`/searches/${s.id}`, { method: 'DELETE' });
    toast(t('saved.deleted', { name: s.name }), 'success');
    list.reload();
  });

  return (
    <section class="saved" aria-labelledby={headId}>
      <h2 id={headId}>{t('saved.title')}</h2>
      <ErrorBox error={list.error} />
      {list.data && !list.data.items.length && <p class="muted">{t('saved.none')}</p>}
      <ul>
        {list.data?.items.map((s) => (
          <li key={s.id}>
            <Link href={libraryUrl({ q: s.query, filters: {}, sort: s.sort || '', view: state.view })}>{s.name}</Link>
            {s.shared && <span class="badge">{t('saved.sharedBadge')}</span>}
            {s.mine && <button type="button" class="icon-button small" aria-label={t('saved.delete', { name: s.name })}
              onClick={() => remove(s)}>×</button>}
          </li>
        ))}
      </ul>
      {!adding && <button type="button" class="link-button" onClick={() => setAdding(true)}>{t('saved.save')}</button>}
      {adding && (
        <form class="saved-form" onSubmit={save} noValidate>
          <label for={nameId}>{t('saved.name')}</label>
          <input id={nameId} value={name} onInput={(e) => setName(e.target.value)} maxLength={200} required
            aria-invalid={act.error ? 'true' : undefined} aria-describedby={act.error ? errId : undefined} autoFocus />
          <FieldError id={errId} error={act.error} />
          <label class="check"><input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} /> {t('saved.shared')}</label>
          <div class="row">
            <button type="submit" class="primary" disabled={act.busy || !name.trim()}>{t('saved.submit')}</button>
            <button type="button" onClick={() => { setAdding(false); act.setError(null); }}>{t('saved.cancel')}</button>
          </div>
        </form>
      )}
    </section>
  );
}

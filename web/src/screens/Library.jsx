// The library: results of the query in the URL (search box + facets +
// sort), as a grid or a list, with selection and bulk actions.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { api } from '../lib/api.js';
import { navigate, useLocation } from '../lib/router.jsx';
import { assetHref, combineQuery, libraryUrl, readLibraryState } from '../lib/query.js';
import { Results } from '../lib/results.js';
import { SimilarResults } from '../lib/similar.js';
import { createStore, saved, session, useStore } from '../lib/store.js';
import { AssetGrid } from '../components/AssetGrid.jsx';
import { Facets, SavedSearches } from '../components/Sidebar.jsx';
import { BulkBar } from '../components/Bulk.jsx';
import { ErrorBox, useLoad } from '../components/ui.jsx';

/** The library's query error, shown by the search box in the top bar. */
export const searchError = createStore(null);
/** Where "back to the library" goes. */
export const LAST_LIBRARY = 'dam.lastLibrary';

const SORTS = ['relevance', 'created', '-created', 'updated', 'name', '-name', 'size', '-size'];

/* The last library view, kept while an asset is open so that coming back
 * shows the same results at the same place, with the same selection. */
let kept = null; // {key, results, top, active, selection}

/** Forgets the kept view (logging out). */
export function forgetLibrary() {
  kept?.results.close();
  kept = null;
}

export function Library() {
  const loc = useLocation();
  const user = useStore(session);
  const state = readLibraryState(loc.query);
  const query = combineQuery(state.q, state.filters, state.ranges);
  const [rev, setRev] = useState(0);
  // ?similar=<asset id>|picture-N: visually similar assets instead of a search
  const similar = loc.query.get('similar') || '';
  const key = similar ? `similar\u0000${similar}` : `${query}\u0000${state.sort}`;
  const back = kept && kept.key === key ? kept : null;
  const [selection, setSelection] = useState(() => back?.selection || new Set());
  const [active, setActive] = useState(back ? back.active : null);
  const topRef = useRef(back ? back.top : 0);
  const [filtersOpen, setFiltersOpen] = useState(false);
  const defs = useLoad((signal) => api('/fields', { signal }).then((r) => r.items), []);
  const names = useRef(new Map());

  const results = useMemo(() => {
    if (back) {
      back.results.onChange = () => setRev((r) => r + 1);
      return back.results;
    }
    if (kept) kept.results.close();
    kept = null;
    if (similar) return new SimilarResults(similar, () => setRev((r) => r + 1));
    return new Results(query, state.sort, () => setRev((r) => r + 1));
  }, [key]);
  const reused = useRef(!!back);
  useEffect(() => {
    if (reused.current) results.refresh(); else { results.start(); setActive(null); topRef.current = 0; }
    reused.current = false;
    return () => {
      // kept for the way back; closed when another search replaces it
      kept = { key, results, top: topRef.current, active: activeRef.current, selection: selectionRef.current };
    };
  }, [results]);
  const activeRef = useRef(active);
  activeRef.current = active;
  const selectionRef = useRef(selection);
  selectionRef.current = selection;
  useEffect(() => { saved.set(LAST_LIBRARY, loc.path + loc.search); }, [loc.path, loc.search]);
  useEffect(() => {
    searchError.set(results.error?.status === 400 ? results.error : null);
    return () => searchError.set(null);
  }, [results, rev]);

  // Assets still processing: refresh the loaded pages until they are done.
  useEffect(() => {
    let pending = false;
    for (const items of results.pages.values()) if (items.some((x) => x.status === 'pending')) { pending = true; break; }
    if (!pending) return undefined;
    const timer = setTimeout(() => results.refresh(), 2500);
    return () => clearTimeout(timer);
  }, [results, rev]);

  // Remember names of selected items (for messages).
  for (const items of results.pages.values()) for (const it of items) if (selection.has(it.id)) names.current.set(it.id, it.name);

  const go = (next, replace = false) => navigate(libraryUrl({ ...state, ...next }), { replace });
  const toggle = (facet, value) => {
    const f = { ...state.filters };
    const cur = f[facet] || [];
    f[facet] = cur.includes(value) ? cur.filter((v) => v !== value) : [...cur, value];
    if (!f[facet].length) delete f[facet];
    go({ filters: f });
  };
  const setRange = (field, q) => {
    const r = { ...state.ranges };
    if (q) r[field] = q; else delete r[field];
    go({ ranges: r });
  };
  // The asset page gets the search and the place in it, for its previous
  // and next buttons.
  const hrefOf = (item, i) => assetHref(item.id, loc.search, i);
  const open = (item, i) => {
    setActive(i);
    navigate(hrefOf(item, i));
  };
  const refresh = () => { results.refresh(); };

  const total = results.total;
  const sortValue = state.sort || (state.q.trim() ? 'relevance' : 'created');
  const hasQuery = !!query;

  return (
    <div class={`library${filtersOpen ? ' filters-open' : ''}`}>
      <aside class="sidebar" id="sidebar" aria-label={t('facets.title')}>
        <button type="button" class="icon-button sidebar-close" aria-label={t('facets.close')} onClick={() => setFiltersOpen(false)}>×</button>
        <SavedSearches state={state} user={user} />
        <Facets facets={results.facets} filters={state.filters} onToggle={toggle} onClear={() => go({ filters: {}, ranges: {} })}
          defs={defs.data} ranges={results.ranges} chosenRanges={state.ranges} onRange={setRange} synonyms={results.synonyms} />
      </aside>
      <section class="results" aria-labelledby="results-title">
        <div class="toolbar">
          <h1 id="results-title" class="results-title">
            {t('nav.library')}
            <span class="count" role="status">
              {total === null ? '' : t('search.count', { n: total })}
            </span>
          </h1>
          <button type="button" class="filters-toggle" aria-controls="sidebar" aria-expanded={filtersOpen}
            onClick={() => setFiltersOpen(!filtersOpen)}>{t('facets.toggle')}</button>
          <div class="toolbar-right">
            <label for="sort">{t('sort.label')}</label>
            <select id="sort" value={sortValue} onChange={(e) => go({ sort: e.target.value })}>
              {SORTS.filter((s) => s !== 'relevance' || state.q.trim()).map((s) => <option value={s}>{t('sort.' + s)}</option>)}
            </select>
            <div class="segmented" role="radiogroup" aria-label={t('view.label')}>
              {['grid', 'list'].map((v) => (
                <button type="button" role="radio" aria-checked={state.view === v} class={state.view === v ? 'on' : ''}
                  onClick={() => go({ view: v }, true)}>{t('view.' + v)}</button>
              ))}
            </div>
          </div>
        </div>
        {results.synonyms.length > 0 && (
          <p class="matched muted" role="status">
            {results.synonyms.map((m) => t('search.matched', { term: m.term, word: m.word })).join(' · ')}
          </p>
        )}
        {selection.size > 0 && (
          <BulkBar selection={selection} names={names.current} user={user}
            onClear={() => setSelection(new Set())} onDone={refresh} />
        )}
        {similar && <SimilarBanner results={results} />}
        {results.error && results.error.status !== 400 && <ErrorBox error={results.error} />}
        {total === 0 && !similar && (
          <div class="empty">
            <p>{hasQuery ? t('search.none') : t('search.empty')}</p>
            <p class="muted">{hasQuery ? t('search.noneHint') : t('search.emptyHint')}</p>
          </div>
        )}
        <AssetGrid results={results} rev={rev} view={state.view} selection={selection} onSelection={setSelection}
          active={active} onActive={setActive} onOpen={open} hrefOf={hrefOf} sort={state.sort} onSort={(s) => go({ sort: s })} topRef={topRef}
          labelledBy="results-title" />
      </section>
    </div>
  );
}

/** What the grid shows instead of search results, and the way back. */
function SimilarBanner({ results }) {
  const src = results.source;
  let text;
  if (src.kind === 'picture') text = src.gone ? t('similarView.gone') : t('similarView.picture', { name: src.name });
  else text = results.name ? t('similarView.asset', { name: results.name }) : '';
  return (
    <div class="notice row similar-banner">
      <span role="status">{text}</span>
      {results.total === 0 && !src.gone && <span class="muted">{t('similar.none')}</span>}
      <button type="button" onClick={() => navigate('/ui/library')}>{t('similarView.clear')}</button>
    </div>
  );
}

// One asset: a large preview (zoom, deep zoom, video with key frames), and
// tabs for details, fields, tags, versions, renditions and links, similar
// assets. The tab is in the URL, so a reload or a new login comes back to it.
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { api, request, urls, errorText } from '../lib/api.js';
import { PAGE, Results } from '../lib/results.js';
import { assetHref, combineQuery, libraryUrl, readLibraryState } from '../lib/query.js';
import { Link, navigate, useLocation } from '../lib/router.jsx';
import { roleAtLeast, saved, session, toast, useStore } from '../lib/store.js';
import { Confirm, ErrorBox, Spinner, Tabs, useAction } from '../components/ui.jsx';
import { Viewer } from '../components/Viewer.jsx';
import { LAST_LIBRARY } from './Library.jsx';
import { InfoPanel } from './asset/InfoPanel.jsx';
import { FieldsPanel } from './asset/FieldsPanel.jsx';
import { TagsPanel } from './asset/TagsPanel.jsx';
import { VersionsPanel } from './asset/VersionsPanel.jsx';
import { DeliveryPanel } from './asset/DeliveryPanel.jsx';
import { SimilarPanel } from './asset/SimilarPanel.jsx';
import { HistoryPanel } from './asset/HistoryPanel.jsx';

const TABS = ['info', 'fields', 'tags', 'versions', 'delivery', 'similar', 'history'];

export function useAsset(id) {
  const [state, setState] = useState({ asset: null, etag: null, error: null });
  const [n, setN] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    request(`/assets/${id}`, { signal: ac.signal })
      .then(async (res) => setState({ asset: await res.json(), etag: res.headers.get('etag'), error: null }))
      .catch((error) => { if (error.name !== 'AbortError') setState((s) => ({ ...s, error })); });
    return () => ac.abort();
  }, [id, n]);
  return {
    ...state,
    reload: () => setN((x) => x + 1),
    set: (asset, etag) => setState((s) => ({ ...s, asset, etag: etag || s.etag })),
  };
}

/* How far from its remembered place an asset is looked for when the search
 * changed since (assets added or removed in between). */
const NEIGHBOUR_WINDOW = 50;

/**
 * The assets before and after this one in the library search it was opened
 * from: the page's "in" (the library URL's query) and "at" (the place in
 * its results), the same query and order, across result pages.
 * {prev, next, at, total} with prev/next {id, href} or null; null when the
 * asset was not opened from a search.
 */
function useNeighbours(id, query) {
  const from = query.get('in') ?? '';
  const at = Number.parseInt(query.get('at') ?? '', 10);
  const [out, setOut] = useState(null);
  useEffect(() => {
    if (!Number.isInteger(at) || at < 0) { setOut(null); return undefined; }
    // the library's own query and requests (lib/results.js), so the order
    // and the results are exactly the grid's
    const st = readLibraryState(new URLSearchParams(from));
    const r = new Results(combineQuery(st.q, st.filters, st.ranges), st.sort, () => {});
    const around = async (lo, hi) => {
      await r.ids(lo, hi);
      const items = [];
      for (let i = lo; i <= hi; i++) items.push(r.item(i));
      return items;
    };
    (async () => {
      await r.load(Math.floor(at / PAGE), false, true); // the total
      let base = Math.max(0, at - 1);
      let items = await around(base, at + 1);
      let i = items.findIndex((x) => x?.id === id);
      if (i < 0) { // the search changed since: look around the old place
        base = Math.max(0, at - NEIGHBOUR_WINDOW);
        items = await around(base, at + NEIGHBOUR_WINDOW);
        i = items.findIndex((x) => x?.id === id);
      }
      if (r.closed) return;
      if (i < 0) { setOut(null); return; }
      const link = (x, j) => (x ? { id: x.id, href: assetHref(x.id, from, base + j) } : null);
      setOut({ prev: link(items[i - 1], i - 1), next: link(items[i + 1], i + 1), at: base + i, total: r.total, back: libraryUrl(st) });
    })().catch(() => { if (!r.closed) setOut(null); });
    return () => r.close();
  }, [id, from, at]);
  return out;
}

/** Keeps the asset page's tab (and the search) when stepping to another asset. */
function withTab(href, tab) {
  return tab === 'info' ? href : `${href}${href.includes('?') ? '&' : '?'}tab=${tab}`;
}

/* Arrow keys step between assets unless something on the page uses them
 * (text fields, tabs, the zoomed viewer, the page strip). */
function arrowsFree(e) {
  if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return false;
  const el = e.target;
  return !(el instanceof Element) || !el.closest('input, textarea, select, [contenteditable], [role=tablist], [role=slider], [role=listbox], video, audio, .zoom-box, .page-strip, dialog');
}

/** What an asset is called: its title field (a multi-language title's
 * first language, as the search results give it) or else its file name. */
export function titleOf(asset) {
  const f = asset.fields || {};
  if (f.title) return f.title;
  const k = Object.keys(f).filter((x) => x.startsWith('title@') && f[x]).sort()[0];
  return k ? f[k] : asset.name;
}

export function canEditAsset(user, asset) {
  return roleAtLeast(user, 'editor') || (roleAtLeast(user, 'contributor') && asset?.created_by === user.user_id);
}

export function AssetDetail({ id }) {
  const user = useStore(session);
  const loc = useLocation();
  const a = useAsset(id);
  const tab = TABS.includes(loc.query.get('tab')) ? loc.query.get('tab') : 'info';
  const [confirm, setConfirm] = useState(false);
  const [focalMode, setFocalMode] = useState(false);
  const [focal, setFocal] = useState(null);
  const act = useAction();
  const near = useNeighbours(id, loc.query);
  const back = near?.back || saved.get(LAST_LIBRARY) || '/ui/library';
  const step = (to) => { if (to) navigate(withTab(to.href, tab)); };
  useEffect(() => {
    const key = (e) => {
      if ((e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') || !arrowsFree(e)) return;
      const to = e.key === 'ArrowLeft' ? near?.prev : near?.next;
      if (!to) return;
      e.preventDefault();
      step(to);
    };
    addEventListener('keydown', key);
    return () => removeEventListener('keydown', key);
  }, [near, tab]);

  const asset = a.asset;
  useEffect(() => { setFocal(asset?.focal || null); }, [asset?.focal?.x, asset?.focal?.y]);
  // Still processing: look again until done.
  const pending = asset?.versions?.some((v) => v.id === asset.current_version_id && v.status === 'pending');
  useEffect(() => {
    if (!pending) return undefined;
    const timer = setTimeout(a.reload, 2000);
    return () => clearTimeout(timer);
  }, [pending, asset]);
  useEffect(() => { if (asset) document.title = `${asset.name} · dam`; return () => { document.title = 'dam'; }; }, [asset?.name]);

  if (a.error) {
    return <div class="page"><p><Link href={back}>← {t('app.backToLibrary')}</Link></p><ErrorBox error={a.error} /></div>;
  }
  if (!asset) return <div class="page center"><Spinner label={t('asset.loading')} /></div>;

  const version = asset.versions.find((v) => v.id === asset.current_version_id) || asset.versions[asset.versions.length - 1];
  const canEdit = canEditAsset(user, asset);
  const canDelete = roleAtLeast(user, 'editor');
  const setTab = (x) => {
    const u = new URLSearchParams(loc.query);
    if (x === 'info') u.delete('tab'); else u.set('tab', x);
    const q = u.toString();
    navigate(`/ui/asset/${id}${q ? '?' + q : ''}`, { replace: true });
  };
  const saved2 = (next, etag) => { if (next) a.set(next, etag); else a.reload(); };

  const del = (ok) => {
    if (!ok) { setConfirm(false); return; }
    act.run(async () => {
      await api(`/assets/${id}`, { method: 'DELETE' });
      toast(t('asset.deleted', { name: asset.name }), 'success');
      setConfirm(false);
      navigate(back);
    });
  };
  const restoreAsset = () => act.run(async () => {
    await api(`/assets/${id}/restore`, { method: 'POST' });
    toast(t('asset.restoredAsset', { name: asset.name }), 'success');
    a.reload();
  });
  const saveFocal = (p) => act.run(async () => {
    const res = await request(`/assets/${id}`, { method: 'PATCH', json: { focal: p } });
    a.set(await res.json(), res.headers.get('etag'));
    toast(t('viewer.focalSaved'), 'success');
  });

  const tabs = [
    { id: 'info', label: t('tab.info') },
    { id: 'fields', label: t('tab.fields') },
    { id: 'tags', label: t('tab.tags'), badge: asset.tags.length || null },
    { id: 'versions', label: t('tab.versions'), badge: asset.versions.length > 1 ? asset.versions.length : null },
    { id: 'delivery', label: t('tab.delivery') },
    { id: 'similar', label: t('tab.similar') },
    { id: 'history', label: t('tab.history') },
  ];
  const hasFocal = 'focal' in asset && asset.kind === 'image';

  return (
    <div class="asset-page">
      <div class="asset-head">
        <Link href={back} class="back">← {t('nav.library')}</Link>
        {near && (
          <nav class="asset-steps" aria-label={t('asset.steps')}>
            {near.prev ? <Link class="button small" href={withTab(near.prev.href, tab)} rel="prev" aria-keyshortcuts="ArrowLeft" title={t('asset.prevKey')}>
              <span aria-hidden="true">‹</span> {t('asset.prev')}</Link>
              : <span class="button small" aria-disabled="true"><span aria-hidden="true">‹</span> {t('asset.prev')}</span>}
            <span class="muted step-pos">{t('asset.position', { n: near.at + 1, total: near.total })}</span>
            {near.next ? <Link class="button small" href={withTab(near.next.href, tab)} rel="next" aria-keyshortcuts="ArrowRight" title={t('asset.nextKey')}>
              {t('asset.next')} <span aria-hidden="true">›</span></Link>
              : <span class="button small" aria-disabled="true">{t('asset.next')} <span aria-hidden="true">›</span></span>}
          </nav>
        )}
        <h1 title={asset.name}>{titleOf(asset)}</h1>
        <span class="badge">{t('kind.' + asset.kind)}</span>
        {version.format && <span class="badge">{version.format}</span>}
        <div class="asset-actions">
          <a class="button" href={urls.original(id)} download>{t('asset.download')}</a>
          {(asset.kind === 'image' || asset.kind === 'video') && <Link class="button" href={`/ui/library?similar=${id}`}>{t('asset.findSimilar')}</Link>}
          {canDelete && !asset.deleted && <button type="button" class="danger" onClick={() => setConfirm(true)}>{t('asset.delete')}</button>}
        </div>
      </div>
      {asset.deleted && (
        <div class="notice row">{t('asset.isDeleted')} {canDelete && <button type="button" onClick={restoreAsset}>{t('asset.restoreAsset')}</button>}</div>
      )}
      {version.status === 'failed' && <div class="error-box" role="alert">{t('asset.failed', { error: version.error || '' })}</div>}
      <div class="asset-body">
        <section class="asset-view" aria-label={asset.name}>
          <Viewer asset={asset} version={version} focalMode={focalMode} focal={hasFocal ? focal : null}
            onPick={(p) => setFocal(p)} />
          {hasFocal && canEdit && (
            <div class="focal-bar">
              {!focalMode && <button type="button" onClick={() => setFocalMode(true)}>{t('viewer.focal')}</button>}
              {focalMode && <>
                <span class="help">{t('viewer.focalHelp')}</span>
                {focal && <span class="muted" role="status">{t('viewer.focalPoint', { x: Math.round(focal.x * 100), y: Math.round(focal.y * 100) })}</span>}
                <button type="button" class="primary" disabled={!focal || act.busy} onClick={async () => { await saveFocal(focal); setFocalMode(false); }}>{t('viewer.focalDone')}</button>
                <button type="button" onClick={async () => { await saveFocal(null); setFocal(null); setFocalMode(false); }}>{t('viewer.focalClear')}</button>
              </>}
            </div>
          )}
          <ErrorBox error={act.error && !confirm ? act.error : null} />
        </section>
        <section class="asset-side">
          <Tabs tabs={tabs} current={tab} onChange={setTab} label={t('asset.tabs')} />
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} class="tab-panel" tabIndex={0}>
            {tab === 'info' && <InfoPanel asset={asset} version={version} />}
            {tab === 'fields' && <FieldsPanel asset={asset} etag={a.etag} canEdit={canEdit && !asset.deleted} onSaved={saved2} />}
            {tab === 'tags' && <TagsPanel asset={asset} canEdit={canEdit && !asset.deleted} onSaved={saved2} />}
            {tab === 'versions' && <VersionsPanel asset={asset} canEdit={canEdit} onChanged={a.reload} />}
            {tab === 'delivery' && <DeliveryPanel asset={asset} version={version} />}
            {tab === 'similar' && <SimilarPanel asset={asset} />}
            {tab === 'history' && <HistoryPanel asset={asset} />}
          </div>
        </section>
      </div>
      {confirm && <Confirm title={t('asset.deleteTitle', { name: asset.name })} text={t('bulk.deleteText')}
        confirm={t('asset.delete')} danger onAnswer={del} busy={act.busy} error={act.error} />}
    </div>
  );
}

// Two versions side by side: the same zoom and pan on both (optional), and
// their properties with the differences marked.
import { useState } from 'preact/hooks';
import { t, fmtBytes, fmtDateTime } from '../i18n/index.js';
import { urls } from '../lib/api.js';
import { Link, navigate, useLocation } from '../lib/router.jsx';
import { ErrorBox, Spinner, useId } from '../components/ui.jsx';
import { FIT, ZoomView } from '../components/Viewer.jsx';
import { KindIcon } from '../components/icons.jsx';
import { useAsset } from './AssetDetail.jsx';

function rowsOf(v) {
  const md = v.metadata || {};
  return [
    [t('info.filename'), v.filename],
    [t('info.format'), `${v.format || ''} (${v.mime})`],
    [t('info.size'), fmtBytes(v.size)],
    [t('info.dimensions'), md.width ? `${md.width} × ${md.height} px` : '—'],
    [t('info.created'), fmtDateTime(v.created_at)],
    [t('info.createdBy'), (v.created_by || '').replace(/^user:/, '')],
    [t('info.hash'), v.hash.slice(0, 16) + '…'],
  ];
}

function Side({ asset, v, view, onView, versions, onPick, which }) {
  const selId = useId('cmp');
  const hasPreview = v.renditions?.some((r) => r.name === 'preview');
  return (
    <section class="compare-side" aria-label={t('versions.number', { n: v.number })}>
      <div class="row">
        <label for={selId}>{t('compare.left')}</label>
        <select id={selId} value={v.number} onChange={(e) => onPick(which, Number(e.target.value))}>
          {versions.map((x) => <option value={x.number}>{t('versions.number', { n: x.number })}</option>)}
        </select>
      </div>
      {hasPreview
        ? <ZoomView src={urls.rendition(asset.id, 'preview', v.number)} alt={`${asset.name} — ${t('versions.number', { n: v.number })}`} view={view} onView={onView} />
        : <div class="viewer-empty"><span class="big-icon" aria-hidden="true"><KindIcon kind={asset.kind} size={72} /></span></div>}
    </section>
  );
}

export function Compare({ id }) {
  const loc = useLocation();
  const a = useAsset(id);
  const [sync, setSync] = useState(true);
  const [views, setViews] = useState({ a: FIT, b: FIT });
  const syncId = useId('sync');
  if (a.error) return <div class="page"><ErrorBox error={a.error} /></div>;
  if (!a.asset) return <div class="page center"><Spinner /></div>;
  const asset = a.asset;
  const versions = [...asset.versions].sort((x, y) => y.number - x.number);
  const byNum = (n) => asset.versions.find((v) => v.number === n);
  const va = byNum(Number(loc.query.get('a'))) || versions[1] || versions[0];
  const vb = byNum(Number(loc.query.get('b'))) || versions[0];
  const pick = (which, n) => {
    const q = { a: va.number, b: vb.number, [which]: n };
    navigate(`/ui/asset/${id}/compare?a=${q.a}&b=${q.b}`, { replace: true });
  };
  const setView = (which) => (v) => setViews(sync ? { a: v, b: v } : { ...views, [which]: v });
  const ra = rowsOf(va), rb = rowsOf(vb);

  return (
    <div class="page compare">
      <div class="asset-head">
        <Link href={`/ui/asset/${id}?tab=versions`} class="back">← {asset.name}</Link>
        <h1>{t('compare.title', { name: asset.name })}</h1>
        <label class="check" for={syncId}><input id={syncId} type="checkbox" checked={sync} onChange={(e) => setSync(e.target.checked)} /> {t('compare.sync')}</label>
      </div>
      <div class="compare-grid">
        <Side asset={asset} v={va} view={views.a} onView={setView('a')} versions={versions} onPick={pick} which="a" />
        <Side asset={asset} v={vb} view={views.b} onView={setView('b')} versions={versions} onPick={pick} which="b" />
      </div>
      <table class="table compare-table">
        <thead><tr><th scope="col" /><th scope="col">{t('versions.number', { n: va.number })}</th><th scope="col">{t('versions.number', { n: vb.number })}</th><th scope="col"><span class="visually-hidden">{t('compare.differs')}</span></th></tr></thead>
        <tbody>
          {ra.map(([k, x], i) => {
            const same = x === rb[i][1];
            return <tr class={same ? '' : 'differs'}><th scope="row">{k}</th><td>{x}</td><td>{rb[i][1]}</td><td>{same ? t('compare.same') : t('compare.differs')}</td></tr>;
          })}
        </tbody>
      </table>
    </div>
  );
}

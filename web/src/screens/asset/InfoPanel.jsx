// Everything known about the file: names, sizes, dates, technical metadata.
import { t, fmtBytes, fmtDateTime, fmtDuration } from '../../i18n/index.js';
import { Link } from '../../lib/router.jsx';

function Value({ v }) {
  if (v === null || v === undefined) return <span class="muted">—</span>;
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x !== 'object' || x === null)) return <span>{v.join(', ')}</span>;
    // a list of records (colours, streams): one line each
    return <ul class="plain">{v.map((x) => <li>{typeof x === 'object' && x ? Object.entries(x).map(([k, y]) => `${k}: ${typeof y === 'object' ? JSON.stringify(y) : y}`).join(' · ') : String(x)}</li>)}</ul>;
  }
  if (typeof v === 'object') return <Table obj={v} />;
  if (typeof v === 'boolean') return <span>{v ? t('common.yes') : t('common.no')}</span>;
  return <span>{String(v)}</span>;
}

function Table({ obj }) {
  return (
    <dl class="kv nested">
      {Object.entries(obj).map(([k, v]) => <><dt>{k}</dt><dd><Value v={v} /></dd></>)}
    </dl>
  );
}

export function InfoPanel({ asset, version }) {
  const md = version.metadata || {};
  const { analysis, near_duplicate: near, ...rest } = md;
  const w = md.width, h = md.height;
  return (
    <div class="info">
      <dl class="kv">
        <dt>{t('info.filename')}</dt><dd>{version.filename}</dd>
        <dt>{t('info.kind')}</dt><dd>{t('kind.' + asset.kind)}</dd>
        <dt>{t('info.format')}</dt><dd>{version.format || '—'} <span class="muted">({version.mime})</span></dd>
        <dt>{t('info.size')}</dt><dd>{fmtBytes(version.size)}</dd>
        {w && h && <><dt>{t('info.dimensions')}</dt><dd>{w} × {h} px</dd></>}
        {md.duration && <><dt>{t('info.duration')}</dt><dd>{fmtDuration(md.duration)}</dd></>}
        {md.pages && <><dt>{t('info.pages')}</dt><dd>{md.pages}</dd></>}
        <dt>{t('info.created')}</dt><dd>{fmtDateTime(asset.created_at)}</dd>
        <dt>{t('info.updated')}</dt><dd>{fmtDateTime(asset.updated_at)}</dd>
        <dt>{t('info.createdBy')}</dt><dd>{(version.created_by || '').replace(/^user:/, '') || '—'}</dd>
        <dt>{t('info.hash')}</dt><dd class="mono wrap">{version.hash}</dd>
        <dt>{t('info.id')}</dt><dd class="mono wrap">{asset.id}</dd>
      </dl>
      {version.extension_mismatch && <p class="notice">{t('info.extMismatch', { type: version.mime, name: version.filename })}{version.expected_extension ? ' ' + t('info.extFits', { ext: version.expected_extension }) : ''}</p>}
      {near && <p class="notice">{t('info.nearDuplicate', { d: near.distance })} <Link href={`/ui/asset/${near.asset_id}`}>{near.asset_id.slice(0, 13)}…</Link></p>}
      <h3>{t('info.technical')}</h3>
      <Table obj={rest} />
      {analysis && <Table obj={{ analysis }} />}
    </div>
  );
}

// Everything known about the file: names, sizes, dates, and the technical
// metadata as labelled, formatted values (camera, lens, exposure, focal
// length, colour profile, codecs...); the raw record behind a toggle.
import { t, fmtBytes, fmtDateTime, fmtDuration, fmtNumber } from '../../i18n/index.js';
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

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const round = (v, d) => Number(v.toFixed(d));

/** 0.004 -> "1/250 s", 2 -> "2 s", 0.3 -> "0.3 s" (as cameras write it). */
export function fmtExposure(s) {
  if (!(s > 0)) return null;
  if (s < 0.25 && Math.abs(1 / s - Math.round(1 / s)) < 0.05 * (1 / s)) return `1/${Math.round(1 / s)} s`;
  return `${fmtNumber(round(s, 1))} s`;
}

/** The technical metadata as [label, text] rows, only what is known. */
export function technicalRows(md) {
  const rows = [];
  const add = (key, v) => { if (v !== null && v !== undefined && v !== '') rows.push([t(key), v]); };
  const ex = md.exif || {};
  const model = ex.model && ex.make && !ex.model.toLowerCase().startsWith(ex.make.toLowerCase()) ? `${ex.make} ${ex.model}` : ex.model || ex.make;
  add('tech.camera', model);
  add('tech.lens', ex.lens);
  const exposure = [fmtExposure(num(ex.exposure_time)), num(ex.f_number) && `f/${fmtNumber(round(ex.f_number, 1))}`,
    num(ex.iso) && `ISO ${ex.iso}`].filter(Boolean).join(' ');
  add('tech.exposure', exposure);
  add('tech.focalLength', num(ex.focal_length) && `${fmtNumber(round(ex.focal_length, 1))} mm`);
  add('tech.taken', ex.date_taken && fmtDateTime(ex.date_taken));
  add('tech.location', ex.gps && num(ex.gps.lat) !== null && num(ex.gps.lon) !== null && `${round(ex.gps.lat, 5)}, ${round(ex.gps.lon, 5)}`);
  add('tech.dimensions', num(md.width) && num(md.height) && `${fmtNumber(md.width)} × ${fmtNumber(md.height)} px`);
  const res = md.resolution;
  add('tech.resolution', res && num(res.x) && `${fmtNumber(res.x)}${res.y !== res.x ? ` × ${fmtNumber(res.y)}` : ''} ${res.unit === 'cm' ? t('tech.perCm') : 'ppi'}`);
  add('tech.colourProfile', typeof md.icc === 'string' ? md.icc : null);
  add('tech.colourSpace', md.interpretation && md.interpretation.toUpperCase().replace('SRGB', 'sRGB').replace('B-W', t('tech.greyscale')));
  if (typeof md.alpha === 'boolean') add('tech.alpha', md.alpha ? t('common.yes') : t('common.no'));
  add('tech.duration', num(md.duration) && fmtDuration(md.duration));
  add('tech.pages', num(md.pages) && fmtNumber(md.pages));
  const v = md.video;
  add('tech.video', v && [v.codec?.toUpperCase(), num(v.width) && num(v.height) && `${v.width} × ${v.height}`, num(v.fps) && `${fmtNumber(round(v.fps, 2))} fps`].filter(Boolean).join(', '));
  const a = md.audio;
  add('tech.audio', a && [a.codec?.toUpperCase(), num(a.channels) && t('tech.channels', { n: a.channels }), num(a.sample_rate) && `${fmtNumber(round(a.sample_rate / 1000, 1))} kHz`].filter(Boolean).join(', '));
  add('tech.bitrate', num(md.bitrate) && `${fmtNumber(round(md.bitrate / 1000, 0))} kbit/s`);
  return rows;
}

export function InfoPanel({ asset, version }) {
  const md = version.metadata || {};
  const { analysis, near_duplicate: near, ...rest } = md;
  const rows = technicalRows(md);
  return (
    <div class="info">
      <dl class="kv">
        <dt>{t('info.filename')}</dt><dd>{version.filename}</dd>
        <dt>{t('info.kind')}</dt><dd>{t('kind.' + asset.kind)}</dd>
        <dt>{t('info.format')}</dt><dd>{version.format || '—'} <span class="muted">({version.mime})</span></dd>
        <dt>{t('info.size')}</dt><dd>{fmtBytes(version.size)}</dd>
        <dt>{t('info.created')}</dt><dd>{fmtDateTime(asset.created_at)}</dd>
        <dt>{t('info.updated')}</dt><dd>{fmtDateTime(asset.updated_at)}</dd>
        <dt>{t('info.createdBy')}</dt><dd>{(version.created_by || '').replace(/^user:/, '') || '—'}</dd>
        <dt>{t('info.hash')}</dt><dd class="mono wrap">{version.hash}</dd>
        <dt>{t('info.id')}</dt><dd class="mono wrap">{asset.id}</dd>
      </dl>
      {version.extension_mismatch && <p class="notice">{t('info.extMismatch', { type: version.mime, name: version.filename })}{version.expected_extension ? ' ' + t('info.extFits', { ext: version.expected_extension }) : ''}</p>}
      {near && <p class="notice">{t('info.nearDuplicate', { d: near.distance })} <Link href={`/ui/asset/${near.asset_id}`}>{near.asset_id.slice(0, 13)}…</Link></p>}
      <h3>{t('info.technical')}</h3>
      {rows.length ? <dl class="kv tech">{rows.map(([k, v]) => <><dt>{k}</dt><dd>{v}</dd></>)}</dl> : <p class="muted">{t('tech.none')}</p>}
      <details class="raw-metadata">
        <summary>{t('tech.raw')}</summary>
        <Table obj={rest} />
        {analysis && <Table obj={{ analysis }} />}
      </details>
    </div>
  );
}

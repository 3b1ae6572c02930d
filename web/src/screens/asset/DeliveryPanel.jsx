// Renditions of the current version, and channel presets with signed
// links (copy, or download) that work without logging in until they
// expire. Presets come with the delivery part of the server: where the
// route is missing (404) the section is left out.
import { useState } from 'preact/hooks';
import { t, fmtBytes } from '../../i18n/index.js';
import { api, qs, urls, errorText } from '../../lib/api.js';
import { toast } from '../../lib/store.js';
import { CopyField, ErrorBox, copyText, useId, useLoad } from '../../components/ui.jsx';

const EXPIRIES = [3600, 86400, 604800, 2592000, 31536000];

/* What the channel presets fall short of for this asset's master (too
 * small for a channel's own size rule, refused, enlarged), by preset. */
function useWarnings(asset, version) {
  return useLoad((signal) => api(`/assets/${asset.id}/renditions`, { signal })
    .then((r) => r.warnings || []).catch(() => []), [asset.id, version.id]);
}

function Warnings({ list }) {
  if (!list || !list.length) return null;
  return (
    <div class="notice delivery-warnings" role="note" aria-label={t('delivery.warnings')}>
      <ul>{list.map((w) => <li data-kind={w.kind}><strong>{t('delivery.warn.' + w.kind)}</strong> {w.message}</li>)}</ul>
    </div>
  );
}

export function usePresets() {
  return useLoad((signal) => api('/presets', { signal }).then((r) => r.presets || r.items || []).catch((e) => {
    if (e.status === 404) return null; // no delivery routes on this server (yet)
    throw e;
  }), []);
}

function Preset({ asset, p, expires, warnings }) {
  const [link, setLink] = useState(null);
  const [manual, setManual] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const get = async () => {
    const r = await api(`/assets/${asset.id}/links` + qs({ preset: p.name, expires }));
    setLink(r);
    return r;
  };
  const copy = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await get();
      if (await copyText(r.url)) { setManual(false); toast(t('delivery.copied', { name: p.name }), 'success'); }
      else setManual(true);
    } catch (e) { if (e.status !== 401) setError(errorText(e)); } finally { setBusy(false); }
  };
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await get();
      const a = document.createElement('a');
      a.href = r.url;
      a.download = '';
      document.body.appendChild(a);
      a.click();
      a.remove();
    } catch (e) { if (e.status !== 401) setError(errorText(e)); } finally { setBusy(false); }
  };
  return (
    <li class="preset" data-preset={p.name}>
      <div class="preset-head">
        <strong>{p.name}</strong>
        <code class="muted">{p.spec}</code>
      </div>
      {p.description && <p class="muted">{p.description}</p>}
      <Warnings list={warnings} />
      <div class="row">
        <button type="button" onClick={copy} disabled={busy}>{t('delivery.copy')}</button>
        <button type="button" onClick={download} disabled={busy}>{t('delivery.open')}</button>
      </div>
      {link && manual && <p class="help">{t('delivery.copyFailed')}</p>}
      {link && <CopyField value={link.url} label={t('delivery.linkFor', { name: p.name })} />}
      <ErrorBox error={error} />
    </li>
  );
}

export function DeliveryPanel({ asset, version }) {
  const presets = usePresets();
  const warnings = useWarnings(asset, version);
  const warnOf = (name) => (warnings.data || []).filter((w) => w.preset === name);
  const [expires, setExpires] = useState(604800);
  const expId = useId('exp');
  // page-2 before page-10; a PDF's page pictures (up to 49) folded away
  const rends = [...(version.renditions || [])].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  const isPage = (r) => /^page-\d+$/.test(r.name);
  const pages = rends.filter(isPage);
  const row = (r) => (
    <li key={r.name}>
      <span class="rend-name">{r.name}</span>
      <span class="muted">{r.width && r.height ? `${r.width}×${r.height} · ` : ''}{fmtBytes(r.size)} · {r.mime}
        {r.enlarged > 1.001 && <> · <span class="enlarged">{t('delivery.enlarged', { x: r.enlarged.toFixed(2) })}</span></>}</span>
      <a class="button small" href={urls.rendition(asset.id, r.name, version.number)} download>{t('versions.download')}</a>
    </li>
  );
  return (
    <div class="delivery">
      <h3>{t('delivery.renditions')}</h3>
      {!rends.length && <p class="muted">{t('delivery.none')}</p>}
      <ul class="renditions">{rends.filter((r) => !isPage(r)).map(row)}</ul>
      {pages.length > 0 && (
        <details class="page-renditions">
          <summary>{t('delivery.pages', { n: pages.length })}</summary>
          <ul class="renditions">{pages.map(row)}</ul>
        </details>
      )}
      {presets.data !== null && (
        <section class="presets" aria-labelledby="presets-h">
          <h3 id="presets-h">{t('delivery.presets')}</h3>
          <p class="help">{t('delivery.presetsHelp')}</p>
          {(warnings.data || []).length > 0 && (
            <p class="notice" role="status" data-testid="delivery-warning-summary">
              {t('delivery.warnSummary', { n: new Set(warnings.data.map((w) => w.preset)).size })}
            </p>
          )}
          <ErrorBox error={presets.error} />
          <label for={expId}>{t('delivery.expires')}</label>
          <select id={expId} value={expires} onChange={(e) => setExpires(Number(e.target.value))}>
            {EXPIRIES.map((s) => <option value={s}>{t('expires.' + s)}</option>)}
          </select>
          {presets.data && !presets.data.length && <p class="muted">{t('delivery.noPresets')}</p>}
          <ul class="preset-list">{(presets.data || []).map((p) => <Preset key={p.name} asset={asset} p={p} expires={expires} warnings={warnOf(p.name)} />)}</ul>
        </section>
      )}
    </div>
  );
}

// Versions: the history (newest first), a new version uploaded over tus,
// restoring an earlier one, and choosing two to compare side by side.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t, fmtBytes, fmtDateTime } from '../../i18n/index.js';
import { api, errorText, urls } from '../../lib/api.js';
import { navigate } from '../../lib/router.jsx';
import { toast } from '../../lib/store.js';
import { Confirm, ErrorBox, useAction, useId } from '../../components/ui.jsx';

function NewVersion({ asset, onDone }) {
  const input = useRef(null);
  const uppy = useRef(null);
  const [file, setFile] = useState(null);
  const [pct, setPct] = useState(0);
  const [error, setError] = useState(null);
  const id = useId('newver');

  useEffect(() => () => uppy.current?.destroy(), []);

  const start = async (f) => {
    setError(null);
    setFile(f.name);
    setPct(0);
    const { makeUppy } = await import('../../lib/uploader.js');
    uppy.current?.destroy();
    const u = makeUppy({
      id: 'new-version-' + asset.id,
      maxFiles: 1,
      onResult: (_file, r) => {
        setFile(null);
        if (r.status === 'version') { toast(t('versions.uploaded'), 'success'); onDone(); }
        else if (r.status === 'duplicate') setError(t('versions.duplicate', { id: r.duplicate_of }));
        else setError(r.error || t('upload.failed'));
      },
    });
    u.on('upload-progress', (_f, p) => p.bytesTotal && setPct(Math.floor((p.bytesUploaded / p.bytesTotal) * 100)));
    uppy.current = u;
    try {
      u.addFile({ name: f.name, type: f.type, data: f, meta: { new_version_of: asset.id } });
      await u.upload();
    } catch (e) {
      setFile(null);
      setError(errorText(e));
    }
  };

  return (
    <div class="new-version"
      onDragOver={(e) => { e.preventDefault(); }}
      onDrop={(e) => { e.preventDefault(); const f = e.dataTransfer.files[0]; if (f) start(f); }}>
      <input ref={input} id={id} type="file" class="visually-hidden" onChange={(e) => { const f = e.target.files[0]; e.target.value = ''; if (f) start(f); }} />
      <label for={id} class="button" role="button" tabIndex={0}
        onKeyDown={(e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.current.click(); } }}>
        {t('versions.upload')}
      </label>
      {file && (
        <div class="progress-line" role="status">
          <span>{t('versions.uploading', { name: file })}</span>
          <progress max="100" value={pct} aria-label={t('upload.progressLabel', { name: file })} />
        </div>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

export function VersionsPanel({ asset, canEdit, onChanged }) {
  const versions = [...(asset.versions || [])].sort((a, b) => b.number - a.number);
  const [pick, setPick] = useState([]);
  const [restoring, setRestoring] = useState(null);
  const act = useAction();

  const toggle = (n) => setPick((p) => (p.includes(n) ? p.filter((x) => x !== n) : [...p, n].slice(-2)));
  const restore = (ok) => {
    if (!ok) { setRestoring(null); act.setError(null); return; }
    act.run(async () => {
      const r = await api(`/assets/${asset.id}/versions/${restoring}/restore`, { method: 'POST' });
      toast(t('versions.restored', { n: restoring, m: r.version }), 'success');
      setRestoring(null);
      onChanged();
    });
  };
  const compare = () => {
    const [a, b] = [...pick].sort((x, y) => x - y);
    navigate(`/ui/asset/${asset.id}/compare?a=${a}&b=${b}`);
  };

  return (
    <div class="versions">
      {canEdit && !asset.deleted && <NewVersion asset={asset} onDone={onChanged} />}
      <p class="help">{t('versions.compareHelp')}</p>
      <ol class="version-list" reversed>
        {versions.map((v) => {
          const current = v.id === asset.current_version_id;
          return (
            <li key={v.id} class={current ? 'current' : ''}>
              <label class="check">
                <input type="checkbox" checked={pick.includes(v.number)} onChange={() => toggle(v.number)}
                  aria-label={t('versions.pick', { n: v.number })} />
              </label>
              {v.renditions?.some((r) => r.name === 'thumbnail')
                ? <img class="version-thumb" src={urls.rendition(asset.id, 'thumbnail', v.number)} alt="" loading="lazy" />
                : <span class="version-thumb" aria-hidden="true" />}
              <div class="version-info">
                <strong>{t('versions.number', { n: v.number })}</strong>
                {current && <span class="badge">{t('versions.current')}</span>}
                {v.status !== 'ready' && <span class={`badge ${v.status}`}>{t('status.' + v.status)}</span>}
                <div class="muted">{v.filename} · {fmtBytes(v.size)}{v.metadata?.width ? ` · ${v.metadata.width}×${v.metadata.height}` : ''}</div>
                <div class="muted">{fmtDateTime(v.created_at)} · {t('versions.by', { who: (v.created_by || '').replace(/^user:/, '') })}</div>
              </div>
              <div class="version-actions">
                <a class="button small" href={urls.versionOriginal(asset.id, v.number)} download>{t('versions.download')}</a>
                {canEdit && !current && !asset.deleted && <button type="button" class="small" onClick={() => setRestoring(v.number)}>{t('versions.restore')}</button>}
              </div>
            </li>
          );
        })}
      </ol>
      <div class="form-actions">
        <button type="button" class="primary" disabled={pick.length !== 2} onClick={compare}>{t('versions.compareSelected')}</button>
      </div>
      {restoring && (
        <Confirm title={t('versions.restoreTitle', { n: restoring })} text={t('versions.restoreText', { n: restoring })}
          confirm={t('versions.restore')} onAnswer={restore} busy={act.busy} error={act.error} />
      )}
    </div>
  );
}

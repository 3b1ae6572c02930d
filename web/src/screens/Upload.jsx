// Upload: Uppy's dashboard (drag and drop of files and whole folders,
// progress per file and overall, pause/resume/retry) over tus, with tags
// and a metadata template applied to every file, and the server's verdict
// per file: added, duplicate (of which asset) or failed (why).
import { useEffect, useRef, useState } from 'preact/hooks';
import Dashboard from '@uppy/dashboard';
import { t } from '../i18n/index.js';
import { api } from '../lib/api.js';
import { Link } from '../lib/router.jsx';
import { roleAtLeast, session, uploads, useStore } from '../lib/store.js';
import { clearUploads, libraryUppy } from '../lib/libraryUploads.js';

/** The options stay as set while the user looks elsewhere. */
const uploadOptions = { tags: '', template: '' };
import { useId, useLoad } from '../components/ui.jsx';

function Outcome({ r }) {
  const [dupName, setDupName] = useState(null);
  useEffect(() => {
    if (r.status !== 'duplicate' || !r.duplicate_of) return;
    api(`/assets/${r.duplicate_of}`).then((a) => setDupName(a.name), () => setDupName(r.duplicate_of));
  }, [r.status, r.duplicate_of]);
  if (r.status === 'uploading') return <span class="muted">{r.pct}%</span>;
  if (r.status === 'added' || r.status === 'version')
    return <span class="ok">{t(r.status === 'added' ? 'upload.added' : 'upload.version')} · <Link href={`/ui/asset/${r.asset_id}`}>{t('upload.open')}</Link></span>;
  if (r.status === 'duplicate')
    return <span class="warn">{t('upload.duplicate')}: <Link href={`/ui/asset/${r.duplicate_of}`}>{t('upload.duplicateOf', { name: dupName || '…' })}</Link></span>;
  return <span class="bad">{t('upload.failed')}: {r.error}</span>;
}

export function Upload() {
  const user = useStore(session);
  const target = useRef(null);
  const { rows, total } = useStore(uploads);
  const [tags, setTags] = useState(() => uploadOptions.tags);
  const [template, setTemplate] = useState(() => uploadOptions.template);
  const templates = useLoad((signal) => api('/templates', { signal }).then((r) => r.items), []);
  const tagsId = useId('uptags'), tplId = useId('uptpl'), progId = useId('upprog');
  const canUpload = roleAtLeast(user, 'contributor');

  // The dashboard shows the uploads of this page, which go on elsewhere.
  useEffect(() => {
    if (!canUpload) return undefined;
    const uppy = libraryUppy();
    uppy.use(Dashboard, {
      id: 'Dashboard',
      inline: true,
      target: target.current,
      width: '100%',
      height: 420,
      fileManagerSelectionType: 'both',
      showProgressDetails: true,
      proudlyDisplayPoweredByUppy: false,
      note: null,
      theme: 'light',
      doneButtonHandler: clearUploads,
    });
    return () => { const d = uppy.getPlugin('Dashboard'); if (d) uppy.removePlugin(d); };
  }, []);

  useEffect(() => {
    uploadOptions.tags = tags;
    uploadOptions.template = template;
    if (canUpload) libraryUppy().setMeta({ tags: tags.split(',').map((x) => x.trim()).filter(Boolean).join(','), template });
  }, [tags, template]);

  if (!canUpload) return <div class="page"><h1>{t('upload.title')}</h1><p>{t('upload.noRight')}</p></div>;

  const done = rows.filter((r) => r.status && r.status !== 'uploading');
  const count = (st) => done.filter((r) => r.status === st).length;
  const anyNew = done.some((r) => r.status === 'added');

  return (
    <div class="page upload">
      <h1>{t('upload.title')}</h1>
      <p class="muted">{t('upload.intro')}</p>
      <div class="upload-layout">
        <div class="upload-main">
          <div ref={target} class="uppy-target" />
          {rows.length > 0 && (
            <div class="overall">
              <label for={progId}>{t('upload.overall', { n: rows.length })}</label>
              <progress id={progId} max="100" value={total}>{total}%</progress>
              <span aria-hidden="true">{total}%</span>
            </div>
          )}
        </div>
        <form class="upload-options card" onSubmit={(e) => e.preventDefault()}>
          <h2>{t('upload.options')}</h2>
          <label for={tagsId}>{t('upload.tags')}</label>
          <input id={tagsId} value={tags} onInput={(e) => setTags(e.target.value)} placeholder="spring 2026, hero" />
          <label for={tplId}>{t('upload.template')}</label>
          <select id={tplId} value={template} onChange={(e) => setTemplate(e.target.value)}>
            <option value="">{t('upload.noTemplate')}</option>
            {(templates.data || []).map((x) => <option value={x.name}>{x.name}</option>)}
          </select>
        </form>
      </div>
      {rows.length > 0 && (
        <section class="upload-results" aria-labelledby="upres">
          <h2 id="upres">{t('upload.results')}</h2>
          <p role="status">{t('upload.summary', { added: count('added') + count('version'), duplicates: count('duplicate'), failed: count('failed') + count('error') })}</p>
          <table class="table">
            <thead><tr><th scope="col">{t('col.name')}</th><th scope="col">{t('col.status')}</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-status={r.status}><td>{r.name}</td><td>{r.status ? <Outcome r={r} /> : '…'}</td></tr>
              ))}
            </tbody>
          </table>
          {anyNew && <p><Link href="/ui/library?sort=created">{t('upload.showInLibrary')}</Link></p>}
        </section>
      )}
    </div>
  );
}

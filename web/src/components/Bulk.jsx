// Actions on a selection of assets: tag, set a field, apply a template,
// download as a zip, delete. Bulk calls take up to 1000 ids each.
import { useState } from 'preact/hooks';
import { t, readNumber } from '../i18n/index.js';
import { api, request, urls, errorText } from '../lib/api.js';
import { toast, roleAtLeast } from '../lib/store.js';
import { Dialog, ErrorBox, FieldError, useAction, useId, useLoad } from './ui.jsx';

const CHUNK = 1000;
const splitList = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

async function inChunks(ids, fn) {
  let n = 0;
  for (let i = 0; i < ids.length; i += CHUNK) {
    const r = await fn(ids.slice(i, i + CHUNK));
    n += r?.changed ?? r?.count ?? Math.min(CHUNK, ids.length - i);
  }
  return n;
}

function TagDialog({ ids, onClose, onDone }) {
  const [add, setAdd] = useState('');
  const [remove, setRemove] = useState('');
  const act = useAction();
  const addId = useId('badd'), remId = useId('brem'), errId = useId('berr');
  const submit = (e) => {
    e.preventDefault();
    const a = splitList(add), r = splitList(remove);
    if (!a.length && !r.length) { act.setError(t('bulk.tagNothing')); return; }
    act.run(async () => {
      await inChunks(ids, (chunk) => api('/assets/bulk', { method: 'POST', json: { ids: chunk, tags: { add: a, remove: r } } }));
      toast(t('bulk.tagged', { n: ids.length }), 'success');
      onDone();
    });
  };
  return (
    <Dialog title={t('bulk.tagTitle', { n: ids.length })} onClose={onClose}
      footer={<><button type="button" onClick={onClose}>{t('bulk.cancel')}</button>
        <button type="submit" form="bulk-tag" class="primary" disabled={act.busy}>{act.busy ? t('bulk.working') : t('bulk.apply')}</button></>}>
      <form id="bulk-tag" onSubmit={submit} noValidate>
        <label for={addId}>{t('bulk.tagAdd')}</label>
        <input id={addId} value={add} onInput={(e) => setAdd(e.target.value)} aria-describedby={act.error ? errId : undefined}
          aria-invalid={act.error ? 'true' : undefined} />
        <label for={remId}>{t('bulk.tagRemove')}</label>
        <input id={remId} value={remove} onInput={(e) => setRemove(e.target.value)} />
        <FieldError id={errId} error={act.error} />
      </form>
    </Dialog>
  );
}

function FieldDialog({ ids, onClose, onDone }) {
  const defs = useLoad((signal) => api('/fields', { signal }), []);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const act = useAction();
  const keyId = useId('bkey'), valId = useId('bval'), errId = useId('berr2'), listId = useId('bkeys');
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const k = key.trim();
      const isNumber = items.find((d) => d.key === k.split('@')[0])?.type === 'number';
      const v = isNumber ? readNumber(value) : value; // "12,5" where the locale writes it
      await inChunks(ids, (chunk) => api('/assets/bulk', { method: 'POST', json: { ids: chunk, fields: { [k]: v } } }));
      toast(t('bulk.fieldsDone', { n: ids.length }), 'success');
      onDone();
    });
  };
  const items = defs.data?.items || defs.data?.fields || [];
  return (
    <Dialog title={t('bulk.fieldsTitle', { n: ids.length })} onClose={onClose}
      footer={<><button type="button" onClick={onClose}>{t('bulk.cancel')}</button>
        <button type="submit" form="bulk-field" class="primary" disabled={act.busy || !key.trim()}>{act.busy ? t('bulk.working') : t('bulk.apply')}</button></>}>
      <form id="bulk-field" onSubmit={submit} noValidate>
        <label for={keyId}>{t('bulk.fieldKey')}</label>
        <input id={keyId} list={listId} value={key} onInput={(e) => setKey(e.target.value)} autocomplete="off"
          aria-invalid={act.error?.field === key.trim() || act.error?.field === 'fields' ? 'true' : undefined} />
        <datalist id={listId}>{items.map((d) => <option value={d.key}>{d.labels?.en || d.key}</option>)}</datalist>
        <label for={valId}>{t('bulk.fieldValue')}</label>
        <input id={valId} value={value} onInput={(e) => setValue(e.target.value)}
          aria-invalid={act.error ? 'true' : undefined} aria-describedby={act.error ? errId : undefined} />
        <FieldError id={errId} error={act.error} />
      </form>
    </Dialog>
  );
}

function TemplateDialog({ ids, onClose, onDone }) {
  const list = useLoad((signal) => api('/templates', { signal }), []);
  const [name, setName] = useState('');
  const act = useAction();
  const selId = useId('btpl');
  const items = list.data?.items || list.data?.templates || [];
  const submit = (e) => {
    e.preventDefault();
    const chosen = name || items[0]?.name;
    act.run(async () => {
      await inChunks(ids, (chunk) => api(`/templates/${encodeURIComponent(chosen)}/apply`, { method: 'POST', json: { ids: chunk } }));
      toast(t('bulk.templateDone', { n: ids.length, name: chosen }), 'success');
      onDone();
    });
  };
  return (
    <Dialog title={t('bulk.templateTitle', { n: ids.length })} onClose={onClose}
      footer={<><button type="button" onClick={onClose}>{t('bulk.cancel')}</button>
        <button type="submit" form="bulk-tpl" class="primary" disabled={act.busy || !items.length}>{t('bulk.apply')}</button></>}>
      <ErrorBox error={list.error} />
      {list.data && !items.length && <p>{t('bulk.templateNone')}</p>}
      {items.length > 0 && (
        <form id="bulk-tpl" onSubmit={submit}>
          <label for={selId}>{t('bulk.templateName')}</label>
          <select id={selId} value={name || items[0].name} onChange={(e) => setName(e.target.value)}>
            {items.map((x) => <option value={x.name}>{x.name}</option>)}
          </select>
        </form>
      )}
      <ErrorBox error={act.error} />
    </Dialog>
  );
}

function DeleteDialog({ ids, names, onClose, onDone }) {
  const act = useAction();
  const [failures, setFailures] = useState([]);
  const go = () => act.run(async () => {
    const failed = [];
    let done = 0;
    const queue = [...ids];
    const worker = async () => {
      while (queue.length) {
        const id = queue.shift();
        try { await request(`/assets/${id}`, { method: 'DELETE' }); done++; } catch (e) {
          if (e.status === 401) throw e;
          failed.push(t('bulk.deleteFailed', { name: names.get(id) || id, error: errorText(e) }));
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (done) toast(t('bulk.deleted', { n: done }), 'success');
    if (failed.length) setFailures(failed); else onDone();
  });
  return (
    <Dialog title={t('bulk.deleteTitle', { n: ids.length })} onClose={failures.length ? onDone : onClose}
      footer={<><button type="button" onClick={failures.length ? onDone : onClose}>{failures.length ? t('common.close') : t('bulk.cancel')}</button>
        {!failures.length && <button type="button" class="primary danger" disabled={act.busy} onClick={go}>{act.busy ? t('bulk.working') : t('bulk.deleteConfirm')}</button>}</>}>
      <p>{t('bulk.deleteText')}</p>
      <ErrorBox error={act.error} />
      {failures.length > 0 && <div class="error-box" role="alert"><ul>{failures.map((f) => <li>{f}</li>)}</ul></div>}
    </Dialog>
  );
}

/** Downloads a zip of ids (the originals, or each asset's rendition for
 * preset): a plain link for short lists, POST for long ones. Assets without
 * that rendition are listed in the zip's SKIPPED.txt. */
export async function downloadZip(ids, preset = '') {
  if (ids.length > 1000) { toast(t('bulk.zipTooMany'), 'error'); return; }
  const a = document.createElement('a');
  if (ids.length <= 150) {
    a.href = urls.zip(ids, preset);
  } else {
    toast(t('bulk.zipStarted', { n: ids.length }));
    const res = await request('/downloads/zip', { method: 'POST', json: preset ? { ids, preset } : { ids } });
    a.href = URL.createObjectURL(await res.blob());
    const cd = res.headers.get('content-disposition') || '';
    a.download = (cd.match(/filename="([^"]+)"/) || [])[1] || 'dam.zip';
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  }
  if (!a.download) a.download = '';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export function BulkBar({ selection, names, user, onClear, onDone }) {
  const [dialog, setDialog] = useState(null);
  const ids = [...selection];
  const canEdit = roleAtLeast(user, 'contributor');
  const canDelete = roleAtLeast(user, 'editor');
  const done = () => { setDialog(null); onDone(); };
  const [preset, setPreset] = useState('');
  const presets = useLoad((signal) => api('/presets', { signal }).then((r) => r.presets || r.items || []).catch(() => []), []);
  const zip = async () => {
    try { await downloadZip(ids, preset); } catch (e) { toast(errorText(e), 'error'); }
  };
  return (
    <>
      <div class="bulk-bar" role="toolbar" aria-label={t('bulk.actions')}>
        <strong role="status">{t('bulk.selected', { n: ids.length })}</strong>
        {canEdit && <button type="button" onClick={() => setDialog('tag')}>{t('bulk.tag')}</button>}
        {canEdit && <button type="button" onClick={() => setDialog('field')}>{t('bulk.fields')}</button>}
        {canEdit && <button type="button" onClick={() => setDialog('template')}>{t('bulk.template')}</button>}
        <select aria-label={t('bulk.zipContents')} value={preset} onChange={(e) => setPreset(e.target.value)}>
          <option value="">{t('bulk.zipOriginals')}</option>
          {(presets.data || []).map((p) => <option value={p.name}>{p.name}</option>)}
        </select>
        <button type="button" onClick={zip}>{t('bulk.zip')}</button>
        {canDelete && <button type="button" class="danger" onClick={() => setDialog('delete')}>{t('bulk.delete')}</button>}
        <button type="button" class="link-button" onClick={onClear}>{t('bulk.clear')}</button>
      </div>
      {dialog === 'tag' && <TagDialog ids={ids} onClose={() => setDialog(null)} onDone={done} />}
      {dialog === 'field' && <FieldDialog ids={ids} onClose={() => setDialog(null)} onDone={done} />}
      {dialog === 'template' && <TemplateDialog ids={ids} onClose={() => setDialog(null)} onDone={done} />}
      {dialog === 'delete' && <DeleteDialog ids={ids} names={names} onClose={() => setDialog(null)} onDone={done} />}
    </>
  );
}

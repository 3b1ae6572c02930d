// Tags: the ones people gave (or the file carried), and the automatic ones
// dam found in the picture, shown apart; any can be removed, and removed
// automatic tags stay removed when the asset is processed again.
import { useRef, useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { api, qs, request } from '../../lib/api.js';
import { toast } from '../../lib/store.js';
import { FieldError, useAction, useId } from '../../components/ui.jsx';
import { errorText } from '../../lib/api.js';

function TagInput({ onAdd, disabled }) {
  const [text, setText] = useState('');
  const [items, setItems] = useState([]);
  const [hi, setHi] = useState(-1);
  const [error, setError] = useState(null);
  const ac = useRef(null);
  const id = useId('tagin'), listId = useId('taglist'), errId = useId('tagerr');
  const lookup = async (v) => {
    ac.current?.abort();
    if (!v.trim()) { setItems([]); return; }
    ac.current = new AbortController();
    try {
      const r = await api('/suggest' + qs({ field: 'tag', prefix: v.trim(), limit: 8 }), { signal: ac.current.signal });
      setItems(r.items.map((x) => x.value));
      setHi(-1);
    } catch { /* suggestions are optional */ }
  };
  const add = async (v) => {
    const tag = v.trim();
    if (!tag || tag.length > 200) { setError(t('tags.invalid')); return; }
    setError(null);
    const ok = await onAdd(tag, setError);
    if (ok) { setText(''); setItems([]); }
  };
  const key = (e) => {
    if (e.key === 'ArrowDown' && items.length) { e.preventDefault(); setHi((h) => (h + 1) % items.length); }
    else if (e.key === 'ArrowUp' && items.length) { e.preventDefault(); setHi((h) => (h <= 0 ? items.length - 1 : h - 1)); }
    else if (e.key === 'Enter') { e.preventDefault(); add(hi >= 0 ? items[hi] : text); }
    else if (e.key === 'Escape') setItems([]);
  };
  return (
    <div class="tag-input">
      <label for={id}>{t('tags.add')}</label>
      <div class="row">
        <div class="combo">
          <input id={id} value={text} disabled={disabled} autocomplete="off" role="combobox" aria-autocomplete="list"
            aria-expanded={items.length > 0} aria-controls={listId} aria-activedescendant={hi >= 0 ? `${listId}-${hi}` : undefined}
            aria-invalid={error ? 'true' : undefined} aria-describedby={error ? errId : undefined}
            onInput={(e) => { setText(e.target.value); lookup(e.target.value); }} onKeyDown={key}
            onBlur={() => setTimeout(() => setItems([]), 150)} />
          <ul id={listId} role="listbox" class="suggestions" hidden={!items.length}>
            {items.map((v, i) => <li id={`${listId}-${i}`} role="option" aria-selected={i === hi} class={i === hi ? 'hi' : ''}
              onMouseDown={(e) => { e.preventDefault(); add(v); }}>{v}</li>)}
          </ul>
        </div>
        <button type="button" disabled={disabled || !text.trim()} onClick={() => add(text)}>{t('tags.addButton')}</button>
      </div>
      <FieldError id={errId} error={error} />
    </div>
  );
}

export function TagsPanel({ asset, canEdit, onSaved }) {
  const act = useAction();
  const tags = asset.tags || [];
  const mine = tags.filter((x) => x.source !== 'automatic');
  const auto = tags.filter((x) => x.source === 'automatic');

  const patch = async (body) => {
    const res = await request(`/assets/${asset.id}`, { method: 'PATCH', json: { tags: body } });
    onSaved(await res.json(), res.headers.get('etag'));
  };
  const add = async (tag, setError) => {
    try { await patch({ add: [tag] }); return true; } catch (e) { if (e.status !== 401) setError(errorText(e)); return false; }
  };
  const remove = (tag) => act.run(async () => {
    await patch({ remove: [tag] });
    toast(t('tags.removed', { tag }), 'success');
  });

  const chip = (x) => (
    <li class={`chip ${x.source}`} key={x.tag}>
      <span>{x.tag}</span>
      {x.source === 'embedded' && <span class="chip-note">{t('tags.embedded')}</span>}
      {x.confidence !== undefined && <span class="chip-note">{t('tags.confidence', { p: Math.round(x.confidence * 100) })}</span>}
      {canEdit && <button type="button" class="chip-x" aria-label={t('tags.remove', { tag: x.tag })} onClick={() => remove(x.tag)}>×</button>}
    </li>
  );

  return (
    <div class="tags-panel">
      <h3>{t('tags.user')}</h3>
      {mine.length ? <ul class="chips" aria-label={t('tags.user')}>{mine.map(chip)}</ul> : <p class="muted">{t('tags.none')}</p>}
      {canEdit && <TagInput onAdd={add} disabled={act.busy} />}
      <FieldError error={act.error} />
      <h3>{t('tags.automatic')}</h3>
      <p class="help">{t('tags.automaticHelp')}</p>
      {auto.length ? <ul class="chips" aria-label={t('tags.automatic')}>{auto.map(chip)}</ul> : <p class="muted">{t('tags.none')}</p>}
    </div>
  );
}

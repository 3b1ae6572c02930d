// The search box: the query language of docs/search.md, with completion of
// field names, tags, vocabulary terms and field values at the caret
// (combobox pattern: arrows choose, Enter or Tab takes, Escape closes).
import { useEffect, useRef, useState } from 'preact/hooks';
import { t, fmtNumber } from '../i18n/index.js';
import { api, qs, errorText } from '../lib/api.js';
import { completionOf, completionText, tokenAt } from '../lib/query.js';
import { useId } from './ui.jsx';
import { ImageSearchButton, useImageSearch } from './ImageSearch.jsx';

/* Worth searching while typing: quotes and parentheses closed, not ending
 * in the middle of a field filter or an operator. */
function complete(text) {
  const q = text.trim();
  if ((q.match(/"/g) || []).length % 2) return false;
  let depth = 0;
  for (const ch of q.replace(/"[^"]*"/g, '')) { depth += ch === '(' ? 1 : ch === ')' ? -1 : 0; if (depth < 0) return false; }
  return depth === 0 && !/(:|:[<>]=?|-|\b(AND|OR|NOT))$/.test(q);
}

export const LIVE_DELAY = 300;

export function SearchBox({ value, onSearch, error, live }) {
  const [text, setText] = useState(value || '');
  const [items, setItems] = useState([]);
  const [open, setOpen] = useState(false);
  const [hi, setHi] = useState(-1);
  const [showHelp, setShowHelp] = useState(false);
  const input = useRef(null);
  const ctx = useRef(null);
  const ac = useRef(null);
  const timer = useRef(0);
  const listId = useId('sugg');
  const errId = useId('qerr');
  const helpId = useId('qhelp');
  const img = useImageSearch();

  const liveTimer = useRef(0);
  // A search the box started itself gives back the trimmed text: keep what
  // is typed (a trailing space) when it says the same.
  useEffect(() => { setText((cur) => (cur.trim() === (value || '') ? cur : value || '')); }, [value]);
  useEffect(() => () => clearTimeout(liveTimer.current), []);

  const close = () => { setOpen(false); setHi(-1); };

  const suggest = (txt, caret) => {
    clearTimeout(timer.current);
    timer.current = setTimeout(async () => {
      const tok = tokenAt(txt, caret);
      const c = completionOf(tok.text);
      if (!c || (!c.field && !c.prefix)) { setItems([]); close(); return; }
      ctx.current = { ...c, start: tok.start, end: tok.end };
      ac.current?.abort();
      ac.current = new AbortController();
      try {
        const r = await api('/suggest' + qs({ prefix: c.prefix, field: c.field || undefined, limit: 8 }), { signal: ac.current.signal });
        setItems(r.items);
        setOpen(r.items.length > 0);
        setHi(-1);
      } catch (e) {
        if (e.name !== 'AbortError') { setItems([]); close(); }
      }
    }, 120);
  };

  const onInput = (e) => {
    const v = e.target.value;
    setText(v);
    suggest(v, e.target.selectionStart);
    // As you type: the library follows the box; the last word is a prefix.
    clearTimeout(liveTimer.current);
    if (live && complete(v)) liveTimer.current = setTimeout(() => { if (v.trim() !== (value || '')) onSearch(v.trim(), true); }, LIVE_DELAY);
  };

  const take = (item) => {
    const c = ctx.current;
    if (!c) return;
    clearTimeout(liveTimer.current); // taking a suggestion is not a search
    const { text: ins, more } = completionText(item, c);
    const next = text.slice(0, c.start) + ins + text.slice(c.end).replace(/^\s+/, more ? '' : '');
    const caret = c.start + ins.length;
    setText(next);
    close();
    requestAnimationFrame(() => {
      input.current.focus();
      input.current.setSelectionRange(caret, caret);
      if (more) suggest(next, caret);
    });
  };

  const submit = (e) => {
    e?.preventDefault();
    close();
    img.clearError();
    clearTimeout(liveTimer.current);
    onSearch(text.trim());
  };

  const onKeyDown = (e) => {
    if (open && items.length) {
      if (e.key === 'ArrowDown') { e.preventDefault(); setHi((h) => (h + 1) % items.length); return; }
      if (e.key === 'ArrowUp') { e.preventDefault(); setHi((h) => (h <= 0 ? items.length - 1 : h - 1)); return; }
      if ((e.key === 'Enter' || e.key === 'Tab') && hi >= 0) { e.preventDefault(); take(items[hi]); return; }
      if (e.key === 'Escape') { e.preventDefault(); close(); return; }
    }
    if (e.key === 'Escape' && text) { e.preventDefault(); setText(''); }
  };

  const label = (it) => {
    if (it.kind === 'term' && it.synonym) return t('search.synonymOf', { synonym: it.synonym, term: it.value });
    return it.value;
  };

  return (
    <form class={`search${img.dragging ? ' dropping' : ''}`} role="search" onSubmit={submit} {...img.handlers}>
      <label for="q" class="visually-hidden">{t('search.label')}</label>
      <div class="search-field">
        <input id="q" ref={input} type="search" value={text} placeholder={t('search.placeholder')}
          autocomplete="off" spellcheck={false} role="combobox" aria-autocomplete="list"
          aria-expanded={open} aria-controls={listId}
          aria-activedescendant={open && hi >= 0 ? `${listId}-${hi}` : undefined}
          aria-invalid={error ? 'true' : undefined} aria-describedby={error ? errId : undefined}
          onInput={onInput} onKeyDown={onKeyDown} onBlur={() => setTimeout(close, 150)}
          onClick={(e) => suggest(e.target.value, e.target.selectionStart)} />
        <ul id={listId} role="listbox" class="suggestions" hidden={!open} aria-label={t('search.suggestions')}>
          {items.map((it, i) => (
            <li id={`${listId}-${i}`} role="option" aria-selected={i === hi} class={i === hi ? 'hi' : ''}
              onMouseDown={(e) => { e.preventDefault(); take(it); }}>
              <span class={`sugg-kind k-${it.kind}`}>{t('search.kind.' + it.kind)}</span>
              <span class="sugg-value">{label(it)}</span>
              {it.count !== undefined && <span class="sugg-count">{fmtNumber(it.count)}</span>}
              {it.vocab && <span class="sugg-count">{it.vocab}</span>}
            </li>
          ))}
        </ul>
        {text && <button type="button" class="icon-button search-clear" aria-label={t('search.clear')}
          onClick={() => { setText(''); onSearch(''); input.current.focus(); }}>×</button>}
      </div>
      <ImageSearchButton img={img} />
      <button type="submit" class="primary">{t('search.submit')}</button>
      <button type="button" class="icon-button" aria-expanded={showHelp} aria-controls={helpId}
        aria-label={t('search.help')} onClick={() => setShowHelp(!showHelp)}>?</button>
      {showHelp && <p id={helpId} class="search-help">{t('search.helpText')}</p>}
      {error && !img.error && <p id={errId} class="field-error search-error" role="alert">{errorText(error)}</p>}
      {img.error && <p class="field-error search-error" role="alert">{typeof img.error === 'string' ? img.error : errorText(img.error)}</p>}
      {img.busy && <p class="search-help" role="status">{t('imageSearch.busy')}</p>}
      {img.dragging && <p class="search-drop" aria-hidden="true">{t('imageSearch.drop')}</p>}
    </form>
  );
}

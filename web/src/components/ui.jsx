// Small building blocks: dialogs, alerts, field errors, toasts, tabs, copy.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { toasts, useStore } from '../lib/store.js';
import { errorText } from '../lib/api.js';

let uid = 0;
/** A stable unique id for label/aria wiring. */
export function useId(prefix = 'id') {
  const r = useRef(null);
  if (r.current === null) r.current = `${prefix}-${++uid}`;
  return r.current;
}

/** A modal dialog (native <dialog>: focus stays inside, Escape closes). */
export function Dialog({ title, onClose, children, footer, wide }) {
  const ref = useRef(null);
  const titleId = useId('dlg');
  useEffect(() => {
    const d = ref.current;
    const opener = document.activeElement;
    if (d && !d.open) d.showModal();
    const first = d?.querySelector('input:not([type=hidden]), select, textarea, button.primary');
    first?.focus();
    return () => { if (opener && opener.focus && document.contains(opener)) opener.focus(); };
  }, []);
  return (
    <dialog ref={ref} class={wide ? 'dialog wide' : 'dialog'} aria-labelledby={titleId}
      onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <div class="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-button" onClick={onClose} aria-label={t('common.close')}>×</button>
      </div>
      <div class="dialog-body">{children}</div>
      {footer && <div class="dialog-foot">{footer}</div>}
    </dialog>
  );
}

/** Asks a yes/no question; resolves through onAnswer(true|false). */
export function Confirm({ title, text, confirm, danger, onAnswer, busy, error }) {
  return (
    <Dialog title={title} onClose={() => onAnswer(false)}
      footer={<>
        <button type="button" onClick={() => onAnswer(false)}>{t('common.cancel')}</button>
        <button type="button" class={danger ? 'primary danger' : 'primary'} disabled={busy} onClick={() => onAnswer(true)}>{confirm}</button>
      </>}>
      {text && <p>{text}</p>}
      <ErrorBox error={error} />
    </Dialog>
  );
}

/** An error (ApiError or text) as an alert, or nothing. */
export function ErrorBox({ error, children }) {
  if (!error && !children) return null;
  return <div class="error-box" role="alert">{error ? (typeof error === 'string' ? error : errorText(error)) : null}{children}</div>;
}

/** The message under an input; id goes into the input's aria-describedby. */
export function FieldError({ id, error }) {
  if (!error) return null;
  return <p id={id} class="field-error" role="alert">{typeof error === 'string' ? error : errorText(error)}</p>;
}

export function Spinner({ label }) {
  return <span class="spinner" role="status"><span class="visually-hidden">{label || t('common.loading')}</span></span>;
}

export function Toasts() {
  const list = useStore(toasts);
  return (
    <div class="toasts" aria-live="polite" aria-relevant="additions">
      {list.map((x) => <div key={x.id} class={`toast ${x.kind}`} role={x.kind === 'error' ? 'alert' : 'status'}>{x.text}</div>)}
    </div>
  );
}

/** Tabs with the ARIA pattern: arrow keys move between tabs. */
export function Tabs({ tabs, current, onChange, label }) {
  const refs = useRef({});
  const key = (e, i) => {
    let j = null;
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
    if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    if (e.key === 'Home') j = 0;
    if (e.key === 'End') j = tabs.length - 1;
    if (j === null) return;
    e.preventDefault();
    onChange(tabs[j].id);
    refs.current[tabs[j].id]?.focus();
  };
  return (
    <div role="tablist" aria-label={label} class="tabs">
      {tabs.map((tb, i) => (
        <button type="button" role="tab" id={`tab-${tb.id}`} aria-controls={`panel-${tb.id}`}
          aria-selected={tb.id === current} tabIndex={tb.id === current ? 0 : -1}
          ref={(el) => { refs.current[tb.id] = el; }} onClick={() => onChange(tb.id)} onKeyDown={(e) => key(e, i)}>
          {tb.label}{tb.badge ? <span class="badge">{tb.badge}</span> : null}
        </button>
      ))}
    </div>
  );
}

/** Copies text; falls back to showing it selected for copying by hand. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A read-only input with the text selected (for copying by hand). */
export function CopyField({ value, label }) {
  const ref = useRef(null);
  const id = useId('copy');
  useEffect(() => { ref.current?.select(); }, [value]);
  return (
    <div class="copy-field">
      <label for={id} class="visually-hidden">{label}</label>
      <input id={id} ref={ref} readOnly value={value} onFocus={(e) => e.target.select()} />
    </div>
  );
}

/** Runs an async action with busy and error state. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      if (e.name !== 'AbortError') setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

/** Loads data with an effect; reload() runs it again. */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    fn(ac.signal).then(
      (data) => { if (!ac.signal.aborted) setState({ data, error: null, loading: false }); },
      (error) => { if (!ac.signal.aborted && error.name !== 'AbortError') setState({ data: null, error, loading: false }); },
    );
    return () => ac.abort();
  }, [...deps, n]);
  return { ...state, reload: () => setN((x) => x + 1), setData: (d) => setState((s) => ({ ...s, data: typeof d === 'function' ? d(s.data) : d })) };
}

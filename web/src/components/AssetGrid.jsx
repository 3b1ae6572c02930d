// The library's results: a virtualised grid of thumbnails or a list with
// columns. Only the rows in view (plus a few) are in the DOM, and pages of
// results load as they come into view, so 100,000 assets scroll smoothly.
// Keyboard: arrows, Home/End, Page Up/Down move; Enter opens; Space and
// Shift select (listbox pattern with aria-activedescendant). Each tile is a
// real link (<a href role=option>): a click opens the asset, middle and
// Ctrl/Cmd clicks open it in a new tab; the tile's check box, Shift-click,
// and any click while something is selected select, as in Google Photos.
// On touch a tap opens and a long press selects.
import { Component } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t, fmtBytes, fmtDate } from '../i18n/index.js';
import { urls } from '../lib/api.js';
import { PAGE } from '../lib/results.js';
import { toast } from '../lib/store.js';
import { KindIcon } from './icons.jsx';

const CELL_MIN = 190;
const CELL_MIN_NARROW = 150; // phones: two columns at 360 px, not one
const CAPTION = 52;
const LIST_ROW = 44;
const OVERSCAN = 3;
const SELECT_ALL_MAX = 5000;
/* How long a finger rests on a tile before it selects instead of opening
 * (Android's long-press timeout is 400-500 ms). */
const LONG_PRESS_MS = 500;
const LONG_PRESS_SLOP = 10; // px a finger may drift and still press


function Thumb({ item, size }) {
  const [failed, setFailed] = useState(false);
  if (!item) return <div class="thumb placeholder" aria-hidden="true" />;
  const ext = (item.name.match(/\.([A-Za-z0-9]{1,5})$/) || [])[1] || item.kind;
  return (
    <div class={`thumb kind-${item.kind}${item.transparent ? ' transparent' : ''}`} aria-hidden="true">
      {item.has_thumbnail && !failed
        ? <img src={urls.thumb(item.id, item.version)} alt="" loading="lazy" decoding="async" draggable={false}
            width={size} height={size} onError={() => setFailed(true)} />
        : <span class="thumb-icon"><KindIcon kind={item.kind} size={size > 60 ? 48 : 22} /><span class="thumb-ext">{ext.toUpperCase()}</span></span>}
      {item.status !== 'ready' && <span class={`status-badge ${item.status}`}>{t('status.' + item.status)}</span>}
    </div>
  );
}

/* One cell, re-rendered only when what it shows changes (scrolling moves
 * most cells without touching them). `on` is a stable object whose methods
 * read the grid's current state. */
class Cell extends Component {
  shouldComponentUpdate(n) {
    const p = this.props;
    return n.item !== p.item || n.sel !== p.sel || n.active !== p.active || n.x !== p.x || n.y !== p.y ||
      n.w !== p.w || n.h !== p.h || n.list !== p.list || n.total !== p.total || n.href !== p.href;
  }

  render({ i, item, sel, active, x, y, w, h, list, total, on, href }) {
    const title = item && (item.title || item.name);
    const common = {
      id: `cell-${i}`, role: 'option', 'aria-selected': sel, 'aria-posinset': i + 1, 'aria-setsize': total,
      // the name is the cell's text (WCAG 2.5.3: what is seen is what is
      // said); only a cell still loading needs a label
      'aria-label': item ? undefined : t('grid.loadingItem'), 'data-name': item?.name,
      class: `cell${sel ? ' selected' : ''}${active ? ' active' : ''}${item ? '' : ' loading'}`,
      // one tab stop for the whole grid (aria-activedescendant), so the
      // links themselves are not in the tab order
      href: item ? href : undefined, tabIndex: -1, draggable: false,
      onClick: (e) => on.click(e, i), onPointerDown: (e) => on.press(e, i), onContextMenu: (e) => on.menu(e),
    };
    const box = <span class="cell-check" aria-hidden="true" onClick={(e) => on.check(e, i)}>{sel ? '✓' : ''}</span>;
    if (list) {
      return (
        <a {...common} style={`top:${y}px;height:${h}px`}>
          {box}
          <Thumb item={item} size={36} />
          <span class="col-name" title={item?.name}>{title}</span>
          <span class="col-kind">{item && t('kind.' + item.kind)}</span>
          <span class="col-mime">{item?.mime}</span>
          <span class="col-size">{item && fmtBytes(item.size)}</span>
          <span class="col-status">{item && t('status.' + item.status)}</span>
          <span class="col-version">{item && `v${item.version}`}</span>
          <span class="col-created">{item && fmtDate(item.created_at)}</span>
          <span class="col-updated">{item && fmtDate(item.updated_at)}</span>
        </a>
      );
    }
    return (
      <a {...common} style={`transform:translate(${x}px,${y}px);width:${w}px;height:${h}px`}>
        <span class="cell-inner">
          <Thumb item={item} size={w - 16} />
          <span class="cell-name" title={item?.name}>{item ? title : '\u00a0'}</span>
          <span class="cell-meta">{item ? `${t('kind.' + item.kind)} · ${fmtBytes(item.size)}` : '\u00a0'}</span>
          {box}
        </span>
      </a>
    );
  }
}

export function AssetGrid({ results, rev, view, selection, onSelection, active, onActive, onOpen, hrefOf, onSort, sort, labelledBy, topRef }) {
  const scroller = useRef(null);
  const gridRef = useRef(null);
  const [box, setBox] = useState({ w: 0, h: 0 });
  const [top, setTop] = useState(0);
  const anchor = useRef(null);
  const raf = useRef(0);
  const total = results?.total || 0;

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return undefined;
    const ro = new ResizeObserver(() => setBox({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    setBox({ w: el.clientWidth, h: el.clientHeight });
    return () => ro.disconnect();
  }, []);

  // A new search starts at the top; coming back to the same one, where it
  // was (once the grid has its size, so the position exists).
  const pendingTop = useRef(null);
  useLayoutEffect(() => {
    pendingTop.current = topRef?.current || 0;
    anchor.current = null;
  }, [results]);
  useLayoutEffect(() => {
    const y = pendingTop.current;
    if (y === null || !box.w || (y > 0 && !total)) return;
    pendingTop.current = null;
    scroller.current.scrollTop = y;
    setTop(scroller.current.scrollTop);
  }, [results, box.w, total]);

  const list = view === 'list';
  const cols = list ? 1 : Math.max(1, Math.floor((box.w - 8) / (box.w < 600 ? CELL_MIN_NARROW : CELL_MIN)));
  const cellW = list ? box.w : Math.floor((box.w - 8) / cols);
  const rowH = list ? LIST_ROW : cellW + CAPTION;
  const rows = Math.ceil(total / cols);
  const first = Math.max(0, Math.floor(top / rowH) - OVERSCAN);
  const last = Math.min(rows - 1, Math.ceil((top + box.h) / rowH) + OVERSCAN);
  const perPage = Math.max(1, Math.floor(box.h / rowH)) * cols;

  // Load what is in view once scrolling settles a little.
  useEffect(() => {
    if (!results || !box.h) return undefined;
    const timer = setTimeout(() => results.ensure(first * cols - PAGE / 2, (last + 1) * cols + PAGE / 2), 60);
    return () => clearTimeout(timer);
  }, [results, rev, first, last, cols, box.h]);

  const onScroll = () => {
    cancelAnimationFrame(raf.current);
    raf.current = requestAnimationFrame(() => {
      setTop(scroller.current.scrollTop);
      if (topRef) topRef.current = scroller.current.scrollTop;
    });
  };

  const scrollToIndex = (i) => {
    const el = scroller.current;
    if (!el) return;
    const y = Math.floor(i / cols) * rowH + (list ? LIST_ROW : 0);
    if (y < el.scrollTop + (list ? LIST_ROW : 0)) el.scrollTop = y - (list ? LIST_ROW : 0);
    else if (y + rowH > el.scrollTop + el.clientHeight) el.scrollTop = y + rowH - el.clientHeight;
  };

  const select = async (i, { range, toggle }) => {
    const item = results.item(i);
    if (range && anchor.current !== null) {
      const ids = await results.ids(anchor.current, i);
      const next = toggle ? new Set(selection) : new Set();
      ids.forEach((id) => next.add(id));
      onSelection(next);
    } else if (toggle) {
      const next = new Set(selection);
      if (item) next.has(item.id) ? next.delete(item.id) : next.add(item.id);
      onSelection(next);
      anchor.current = i;
    } else {
      onSelection(item ? new Set([item.id]) : new Set());
      anchor.current = i;
    }
  };

  const moveTo = (i, e) => {
    const j = Math.max(0, Math.min(total - 1, i));
    onActive(j);
    scrollToIndex(j);
    if (e.shiftKey) {
      if (anchor.current === null) anchor.current = active ?? 0;
      select(j, { range: true, toggle: e.ctrlKey || e.metaKey });
    }
  };

  const onKeyDown = async (e) => {
    if (!total) return;
    const cur = active ?? -1;
    const k = e.key;
    if (k === 'ArrowRight' && !list) { e.preventDefault(); moveTo(cur + 1, e); }
    else if (k === 'ArrowLeft' && !list) { e.preventDefault(); moveTo(cur - 1, e); }
    else if (k === 'ArrowDown') { e.preventDefault(); moveTo(cur < 0 ? 0 : cur + cols, e); }
    else if (k === 'ArrowUp') { e.preventDefault(); moveTo(cur - cols, e); }
    else if (k === 'PageDown') { e.preventDefault(); moveTo(cur + perPage, e); }
    else if (k === 'PageUp') { e.preventDefault(); moveTo(cur - perPage, e); }
    else if (k === 'Home') { e.preventDefault(); moveTo(e.ctrlKey || list ? 0 : cur - (cur % cols), e); }
    else if (k === 'End') { e.preventDefault(); moveTo(e.ctrlKey || list ? total - 1 : cur - (cur % cols) + cols - 1, e); }
    else if (k === 'Enter' && cur >= 0) { e.preventDefault(); const it = results.item(cur); if (it) onOpen(it, cur); }
    else if (k === ' ' && cur >= 0) { e.preventDefault(); select(cur, { toggle: true }); }
    else if ((k === 'a' || k === 'A') && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      if (total > SELECT_ALL_MAX) toast(t('grid.selectAllCapped', { n: SELECT_ALL_MAX }));
      onSelection(new Set(await results.ids(0, Math.min(total, SELECT_ALL_MAX) - 1)));
    } else if (k === 'Escape' && selection.size) { e.preventDefault(); onSelection(new Set()); }
  };

  // A click opens (the link), unless it selects: Shift-click a range,
  // any click while a selection is being made, or the click that ends a
  // long press. Ctrl/Cmd and middle clicks are left to the browser (new tab).
  const longPress = useRef({ timer: 0, x: 0, y: 0, fired: false });
  const click = (e, i) => {
    if (e.button !== 0 || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    onActive(i);
    if (longPress.current.fired) { longPress.current.fired = false; return; }
    const item = results.item(i);
    if (e.shiftKey) select(i, { range: true, toggle: selection.size > 0 });
    else if (selection.size) select(i, { toggle: true });
    else if (item) onOpen(item, i);
  };
  const check = (e, i) => {
    e.preventDefault();
    e.stopPropagation();
    onActive(i);
    select(i, { range: e.shiftKey, toggle: true });
  };
  const endPress = () => {
    clearTimeout(longPress.current.timer);
    longPress.current.timer = 0;
  };
  const press = (e, i) => {
    endPress();
    longPress.current.fired = false;
    if (e.pointerType !== 'touch') return;
    longPress.current.x = e.clientX;
    longPress.current.y = e.clientY;
    longPress.current.timer = setTimeout(() => {
      longPress.current.timer = 0;
      longPress.current.fired = true;
      onActive(i);
      select(i, { toggle: true });
    }, LONG_PRESS_MS);
  };
  const pressMove = (e) => {
    const lp = longPress.current;
    if (lp.timer && Math.hypot(e.clientX - lp.x, e.clientY - lp.y) > LONG_PRESS_SLOP) endPress();
  };
  // the long press selects; the browser's link menu would cover it
  const menu = (e) => { if (longPress.current.fired || longPress.current.timer) e.preventDefault(); };
  useEffect(() => endPress, []);

  // Stable handlers for the memoised cells, reading current state.
  const latest = useRef({});
  latest.current = { click, check, press, menu, open: onOpen };
  const on = useRef({
    click: (e, i) => latest.current.click(e, i),
    check: (e, i) => latest.current.check(e, i),
    press: (e, i) => latest.current.press(e, i),
    menu: (e) => latest.current.menu(e),
    open: (item, i) => latest.current.open(item, i),
  }).current;

  const cells = [];
  for (let r = first; r <= last; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      if (i >= total) break;
      const item = results.item(i);
      cells.push(<Cell key={i} i={i} item={item} sel={!!item && selection.has(item.id)} active={i === active}
        x={list ? 0 : 4 + c * cellW} y={r * rowH} w={list ? box.w : cellW} h={rowH} list={list} total={total} on={on}
        href={item ? hrefOf(item, i) : undefined} />);
    }
  }

  const head = (key, label) => {
    const sortKey = { name: 'name', size: 'size', created: 'created', updated: 'updated' }[key];
    if (!sortKey) return <span class={`col-${key}`} role="presentation">{label}</span>;
    const asc = sort === '-' + sortKey, desc = sort === sortKey;
    return (
      <button type="button" class={`col-${key} col-sort${asc || desc ? ' sorted' : ''}`} tabIndex={-1}
        onClick={() => onSort(desc ? '-' + sortKey : sortKey)}>
        {label}{desc ? ' ↓' : asc ? ' ↑' : ''}
      </button>
    );
  };

  return (
    <div class={`grid-scroller ${list ? 'list-view' : 'grid-view'}${selection.size ? ' selecting' : ''}`} ref={scroller} onScroll={onScroll}
      onPointerMove={pressMove} onPointerUp={endPress} onPointerCancel={endPress}>
      {list && total > 0 && (
        <div class="list-head" aria-hidden="true">
          <span class="cell-check" />
          <span class="thumb-space" />
          {head('name', t('col.name'))}{head('kind', t('col.kind'))}{head('mime', t('col.mime'))}
          {head('size', t('col.size'))}{head('status', t('col.status'))}{head('version', t('col.version'))}
          {head('created', t('col.created'))}{head('updated', t('col.updated'))}
        </div>
      )}
      <div class="grid" ref={gridRef} role="listbox" tabIndex={0}
        onMouseDown={(e) => { if (e.button === 0) { e.preventDefault(); gridRef.current.focus({ preventScroll: true }); } }} aria-multiselectable="true" aria-labelledby={labelledBy}
        aria-activedescendant={active !== null && active < total ? `cell-${active}` : undefined}
        aria-describedby="grid-keys" onKeyDown={onKeyDown}
        onFocus={() => { if (active === null && total) onActive(0); }}
        style={`height:${rows * rowH}px`}>
        {cells}
      </div>
      <p id="grid-keys" class="visually-hidden">{t('grid.keys')}</p>
    </div>
  );
}

// Looking at an asset: a zoomable picture (pointer, wheel and keyboard),
// deep zoom from the server's tiles (OpenSeadragon) when the picture is
// large and the tile route exists, video with its key-frame strip, audio,
// PDF pages with a page strip; and the focal-point picker drawn over the
// picture.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t, fmtDuration } from '../i18n/index.js';
import { request, urls } from '../lib/api.js';
import { KindIcon } from './icons.jsx';

const clamp = (v, a, b) => Math.max(a, Math.min(b, v));
export const FIT = { z: 1, cx: 0.5, cy: 0.5 };

/**
 * A picture with zoom and pan. view = {z (1 = fit), cx, cy (the image point
 * at the centre, 0..1)}; controlled when view/onView are given (compare
 * keeps two in step). focal = {x, y} | null draws the focal point;
 * onPick({x, y}) makes a click (or arrow keys) choose it.
 */
export function ZoomView({ src, alt, label, view: outerView, onView, focal, onPick, transparent, children }) {
  const box = useRef(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  const [nat, setNat] = useState(null);
  const [innerView, setInnerView] = useState(FIT);
  const view = outerView || innerView;
  const setView = (v) => (onView ? onView(v) : setInnerView(v));
  const drag = useRef(null);

  useLayoutEffect(() => {
    const el = box.current;
    const ro = new ResizeObserver(() => setSize({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const imgRef = useRef(null);
  // A picture from the cache may be complete before onLoad is attached.
  // Another picture (a PDF's next page) starts fitted.
  useLayoutEffect(() => {
    const i = imgRef.current;
    setNat(i && i.complete && i.naturalWidth ? { w: i.naturalWidth, h: i.naturalHeight } : null);
    setInnerView(FIT);
  }, [src]);

  const fit = nat && size.w ? Math.min(size.w / nat.w, size.h / nat.h) : 1;
  const scale = fit * view.z;
  const tx = nat ? size.w / 2 - view.cx * nat.w * scale : 0;
  const ty = nat ? size.h / 2 - view.cy * nat.h * scale : 0;

  const zoomAt = (factor, px = size.w / 2, py = size.h / 2) => {
    if (!nat) return;
    const z = clamp(view.z * factor, 1, 40);
    // keep the image point under (px, py) in place
    const ix = (px - tx) / scale, iy = (py - ty) / scale;
    const s2 = fit * z;
    const cx = (ix * s2 - px + size.w / 2) / (nat.w * s2), cy = (iy * s2 - py + size.h / 2) / (nat.h * s2);
    setView(z === 1 ? FIT : { z, cx: clamp(cx, 0, 1), cy: clamp(cy, 0, 1) });
  };
  const pan = (dx, dy) => nat && setView({ ...view, cx: clamp(view.cx - dx / (nat.w * scale), 0, 1), cy: clamp(view.cy - dy / (nat.h * scale), 0, 1) });
  const pointOf = (e) => {
    const r = box.current.getBoundingClientRect();
    return { x: clamp((e.clientX - r.left - tx) / scale / nat.w, 0, 1), y: clamp((e.clientY - r.top - ty) / scale / nat.h, 0, 1) };
  };

  const onWheel = (e) => {
    e.preventDefault();
    const r = box.current.getBoundingClientRect();
    zoomAt(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.clientX - r.left, e.clientY - r.top);
  };
  const onPointerDown = (e) => {
    if (e.button !== 0) return;
    drag.current = { x: e.clientX, y: e.clientY, moved: false };
    box.current.setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e) => {
    const d = drag.current;
    if (!d) return;
    const dx = e.clientX - d.x, dy = e.clientY - d.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true;
    if (d.moved && view.z > 1) { pan(dx, dy); d.x = e.clientX; d.y = e.clientY; }
  };
  const onPointerUp = (e) => {
    const d = drag.current;
    drag.current = null;
    if (d && !d.moved && onPick && nat) onPick(pointOf(e));
  };
  const onKeyDown = (e) => {
    const step = 40;
    if (onPick && focal && e.key.startsWith('Arrow')) {
      e.preventDefault();
      const d = e.shiftKey ? 0.1 : 0.01;
      const f = { x: focal.x + (e.key === 'ArrowRight' ? d : e.key === 'ArrowLeft' ? -d : 0), y: focal.y + (e.key === 'ArrowDown' ? d : e.key === 'ArrowUp' ? -d : 0) };
      onPick({ x: clamp(f.x, 0, 1), y: clamp(f.y, 0, 1) });
      return;
    }
    if (e.key === '+' || e.key === '=') { e.preventDefault(); zoomAt(1.5); }
    else if (e.key === '-') { e.preventDefault(); zoomAt(1 / 1.5); }
    else if (e.key === '0') { e.preventDefault(); setView(FIT); }
    else if (e.key === 'ArrowLeft') { e.preventDefault(); pan(step, 0); }
    else if (e.key === 'ArrowRight') { e.preventDefault(); pan(-step, 0); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); pan(0, step); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); pan(0, -step); }
  };

  return (
    <div class="zoom">
      <div class={`zoom-box${transparent ? ' transparent' : ''}${onPick ? ' picking' : ''}${view.z > 1 ? ' zoomed' : ''}`} ref={box} tabIndex={0} role="img"
        aria-label={label || alt} onWheel={onWheel} onPointerDown={onPointerDown} onPointerMove={onPointerMove}
        onPointerUp={onPointerUp} onKeyDown={onKeyDown}>
        <img ref={imgRef} src={src} alt={alt} draggable={false} onLoad={(e) => setNat({ w: e.target.naturalWidth, h: e.target.naturalHeight })}
          style={nat ? `width:${nat.w}px;height:${nat.h}px;transform:translate(${tx}px,${ty}px) scale(${scale})` : 'opacity:0'} />
        {focal && nat && (
          <span class="focal-marker" aria-hidden="true"
            style={`left:${tx + focal.x * nat.w * scale}px;top:${ty + focal.y * nat.h * scale}px`} />
        )}
      </div>
      <div class="zoom-controls" role="group" aria-label={t('viewer.zoomIn')}>
        <button type="button" class="icon-button" onClick={() => zoomAt(1.5)} aria-label={t('viewer.zoomIn')}>+</button>
        <button type="button" class="icon-button" onClick={() => zoomAt(1 / 1.5)} aria-label={t('viewer.zoomOut')}>−</button>
        <button type="button" onClick={() => setView(FIT)}>{t('viewer.fit')}</button>
        {nat && <button type="button" onClick={() => setView({ z: 1 / fit, cx: view.cx, cy: view.cy })}>{t('viewer.actual')}</button>}
        {children}
      </div>
    </div>
  );
}

/** Deep zoom over /api/v1/assets/ID/tiles/ (Deep Zoom layout, 256 px tiles). */
function DeepZoom({ id, width, height, label }) {
  const el = useRef(null);
  const viewer = useRef(null);
  useEffect(() => {
    let dead = false;
    // OpenSeadragon injects a <style> hiding the focus outline on touch
    // screens; CSP forbids inline styles, and we keep focus visible. A
    // marker it looks for (not CSS: type text/plain) stops the injection.
    if (!document.querySelector('style[data-openseadragon-mobile-css]')) {
      const marker = document.createElement('style');
      marker.type = 'text/plain';
      marker.setAttribute('data-openseadragon-mobile-css', 'true');
      document.head.appendChild(marker);
    }
    import('openseadragon').then(({ default: OSD }) => {
      if (dead) return;
      viewer.current = OSD({
        element: el.current,
        showNavigationControl: false,
        showNavigator: true,
        navigatorPosition: 'BOTTOM_RIGHT',
        maxZoomPixelRatio: 2,
        visibilityRatio: 1,
        tileSources: {
          Image: {
            xmlns: 'http://schemas.microsoft.com/deepzoom/2008',
            Url: `/api/v1/assets/${id}/tiles/`,
            Format: 'jpg',
            Overlap: '0',
            TileSize: '256',
            Size: { Width: String(width), Height: String(height) },
          },
        },
      });
    });
    return () => { dead = true; viewer.current?.destroy(); viewer.current = null; };
  }, [id, width, height]);
  const zoom = (f) => { const v = viewer.current?.viewport; if (v) { v.zoomBy(f); v.applyConstraints(); } };
  return (
    <div class="zoom deep">
      <div class="zoom-box osd" ref={el} aria-label={label} role="img" />
      <div class="zoom-controls" role="group" aria-label={t('viewer.deepZoom')}>
        <button type="button" class="icon-button" onClick={() => zoom(1.5)} aria-label={t('viewer.zoomIn')}>+</button>
        <button type="button" class="icon-button" onClick={() => zoom(1 / 1.5)} aria-label={t('viewer.zoomOut')}>−</button>
        <button type="button" onClick={() => viewer.current?.viewport.goHome()}>{t('viewer.fit')}</button>
        <span class="muted">{t('viewer.deepZoom')}</span>
      </div>
    </div>
  );
}

function Video({ asset, version }) {
  const video = useRef(null);
  const kf = version.renditions.find((r) => r.name === 'keyframes');
  const poster = version.renditions.find((r) => r.name === 'poster');
  const frames = kf?.spec?.frames || 0, span = kf?.spec?.span || 0;
  const jump = (i) => {
    const v = video.current;
    if (!v) return;
    v.currentTime = (span * (i + 0.5)) / frames;
    v.focus();
  };
  return (
    <div class="video">
      <video ref={video} controls preload="metadata" src={urls.original(asset.id, version.number)}
        poster={poster ? urls.rendition(asset.id, 'poster', version.number) : undefined} aria-label={asset.name} />
      {kf && frames > 0 && (
        <div class="keyframes" role="group" aria-label={t('viewer.keyframes')}>
          <img src={urls.rendition(asset.id, 'keyframes', version.number)} alt="" />
          <div class="keyframe-buttons" style={`grid-template-columns:repeat(${frames},1fr)`}>
            {Array.from({ length: frames }, (_, i) => (
              <button type="button" onClick={() => jump(i)} aria-label={t('viewer.jumpTo', { n: i + 1, time: fmtDuration((span * (i + 0.5)) / frames, span < 60) })} />
            ))}
          </div>
        </div>
      )}
    </div>
  );
}

/** The pages of a PDF that have a picture: the first is the preview (its
 * strip picture the thumbnail), then page-2, page-3 ... in number order
 * (the server lists renditions by name, where page-10 sorts before page-2). */
export function pdfPages(renditions) {
  const pages = renditions.filter((r) => /^page-\d+$/.test(r.name))
    .map((r) => ({ n: Number(r.name.slice(5)), name: r.name, thumb: r.name }))
    .sort((a, b) => a.n - b.n);
  return [{ n: 1, name: 'preview', thumb: 'thumbnail' }, ...pages];
}

/**
 * A PDF: the chosen page large (zoomable), previous/next buttons, and a
 * strip of every page with a picture (lazy-loaded, scaled by the browser).
 * PageUp/PageDown anywhere in the viewer turn pages; the arrow keys stay
 * with the zoom view for panning. The strip is one tab stop (the current
 * page; arrows, Home and End move along it), so fifty pages do not cost a
 * keyboard user fifty Tab presses.
 */
function PdfPages({ asset, version, label, focal, onPick }) {
  const pages = pdfPages(version.renditions);
  const preview = version.renditions.find((r) => r.name === 'preview');
  const spec = preview?.spec || {};
  const total = version.metadata?.pages || spec.pages || pages.length;
  const [cur, setCur] = useState(0);
  const strip = useRef(null);
  const focusStrip = useRef(false);
  const go = (i) => setCur(clamp(i, 0, pages.length - 1));
  useEffect(() => {
    const b = strip.current?.querySelector('[aria-current="true"]');
    b?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
    if (focusStrip.current) b?.focus();
    focusStrip.current = false;
  }, [cur]);
  const onKeyDown = (e) => {
    if (e.key === 'PageDown') { e.preventDefault(); go(cur + 1); }
    else if (e.key === 'PageUp') { e.preventDefault(); go(cur - 1); }
  };
  const onStripKey = (e) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    const i = step ? cur + step : e.key === 'Home' ? 0 : e.key === 'End' ? pages.length - 1 : null;
    if (i === null) return;
    e.preventDefault();
    focusStrip.current = true;
    go(i);
  };
  const page = pages[cur];
  const first = cur === 0, last = cur === pages.length - 1;
  return (
    <div class="viewer-image pdf" onKeyDown={onKeyDown}>
      <ZoomView src={urls.rendition(asset.id, page.name, version.number)} alt={t('viewer.pageAlt', { n: page.n, name: asset.name })}
        label={`${label} ${t('viewer.pageKeys')}`} focal={first ? focal : null} onPick={first ? onPick : undefined}>
        {pages.length > 1 && (
          <span class="page-nav" role="group" aria-label={t('viewer.pages')}>
            <button type="button" aria-disabled={first ? 'true' : undefined} onClick={() => !first && go(cur - 1)}>{t('viewer.prevPage')}</button>
            <span aria-live="polite">{t('viewer.page', { n: page.n, total })}</span>
            <button type="button" aria-disabled={last ? 'true' : undefined} onClick={() => !last && go(cur + 1)}>{t('viewer.nextPage')}</button>
          </span>
        )}
        {pages.length === 1 && total > 1 && <span class="muted">{t('viewer.page', { n: 1, total })}</span>}
      </ZoomView>
      {pages.length > 1 && (
        <div class="page-strip" ref={strip} role="group" aria-label={t('viewer.pageStrip')} onKeyDown={onStripKey}>
          {pages.map((p, i) => (
            <button type="button" key={p.name} aria-current={i === cur ? 'true' : undefined} onClick={() => go(i)}
              tabIndex={i === cur ? 0 : -1}
              aria-label={t('viewer.goToPage', { n: p.n })}>
              <img src={urls.rendition(asset.id, p.thumb, version.number)} alt="" loading="lazy" draggable={false} />
              <span aria-hidden="true">{p.n}</span>
            </button>
          ))}
        </div>
      )}
      {spec.capped && <p class="help">{t('viewer.pagesCapped', { shown: spec.pages_rendered || pages.length, total })}</p>}
      {spec.page_error && <p class="help warn">{t('viewer.pagesFailed', { error: spec.page_error })}</p>}
    </div>
  );
}

/** Whether the deep-zoom tiles exist for this asset (the delivery part of
 * the server adds them); cached per asset. */
const tileCheck = new Map();
function useTiles(id, big) {
  const [ok, setOk] = useState(tileCheck.get(id) ?? null);
  useEffect(() => {
    if (!big) return;
    if (tileCheck.has(id)) { setOk(tileCheck.get(id)); return; }
    request(`/assets/${id}/tiles/0/0_0.jpg`, { method: 'HEAD' }).then(() => true, () => false).then((v) => {
      tileCheck.set(id, v);
      setOk(v);
    });
  }, [id, big]);
  return big ? ok : false;
}

export function Viewer({ asset, version, focalMode, focal, onPick }) {
  const md = version.metadata || {};
  const w = asset.width || md.width, h = asset.height || md.height;
  const preview = version.renditions.find((r) => r.name === 'preview');
  const big = asset.kind === 'image' && w && h && Math.max(w, h) > (preview?.width && preview.width >= preview.height ? preview.width : preview?.height || 1600);
  const tiles = useTiles(asset.id, big && !focalMode);
  const label = t('viewer.label', { name: asset.name });

  if (version.status === 'pending') return <div class="viewer-empty"><p>{t('asset.processing')}</p></div>;
  if (asset.kind === 'video') return <Video asset={asset} version={version} />;
  if (asset.kind === 'audio') {
    return (
      <div class="viewer-empty">
        <span class="big-icon" aria-hidden="true"><KindIcon kind="audio" size={72} /></span>
        <audio controls preload="metadata" src={urls.original(asset.id, version.number)} aria-label={asset.name} />
      </div>
    );
  }
  if (tiles && !focalMode) return <DeepZoom id={asset.id} width={w} height={h} label={label} />;
  if (preview && version.mime === 'application/pdf') {
    return <PdfPages key={version.id} asset={asset} version={version} label={label} focal={focal} onPick={focalMode ? onPick : undefined} />;
  }
  if (preview) {
    return (
      <div class="viewer-image">
        <ZoomView src={urls.rendition(asset.id, 'preview', version.number)} alt={asset.name} label={label}
          focal={focal} onPick={focalMode ? onPick : undefined} transparent={!!md.analysis?.transparent} />
      </div>
    );
  }
  return (
    <div class="viewer-empty">
      <span class="big-icon" aria-hidden="true"><KindIcon kind={asset.kind} size={72} /></span>
      <p>{version.status === 'failed' ? t('asset.failed', { error: version.error }) : t('asset.noPreview')}</p>
    </div>
  );
}

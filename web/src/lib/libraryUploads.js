// The Upload screen's Uppy: one per page load, so uploads go on while the
// user browses elsewhere (the dashboard is attached when the screen shows
// and detached when it goes); progress and verdicts go to the `uploads`
// store, which the top bar reads without loading Uppy.
import { makeUppy } from './uploader.js';
import { uploads } from './store.js';

let uppy = null;

function put(file, patch) {
  uploads.set((st) => {
    const i = st.rows.findIndex((x) => x.id === file.id);
    const row = { id: file.id, name: file.meta?.relativePath || file.name, ...(i >= 0 ? st.rows[i] : {}), ...patch };
    return { ...st, rows: i >= 0 ? st.rows.map((x, k) => (k === i ? row : x)) : [...st.rows, row] };
  });
}

function beforeUnload(e) {
  if (uploads.get().running) { e.preventDefault(); e.returnValue = ''; }
}

export function libraryUppy() {
  if (uppy) return uppy;
  uppy = makeUppy({ id: 'library-upload', onResult: (file, result) => put(file, result) });
  uppy.on('upload-progress', (file, p) => {
    if (p.bytesTotal) put(file, { status: 'uploading', pct: Math.floor((p.bytesUploaded / p.bytesTotal) * 100) });
  });
  uppy.on('progress', (pct) => uploads.set((st) => ({ ...st, total: pct })));
  uppy.on('upload', () => uploads.set((st) => ({ ...st, total: 0, running: true })));
  uppy.on('complete', () => uploads.set((st) => ({ ...st, total: 100, running: false })));
  uppy.on('cancel-all', () => uploads.set((st) => ({ ...st, running: false })));
  addEventListener('beforeunload', beforeUnload);
  return uppy;
}

/** Forgets finished uploads (the dashboard's Done). */
export function clearUploads() {
  uppy?.cancelAll();
  uploads.set({ rows: [], total: 0, running: false });
}

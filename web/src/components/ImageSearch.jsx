// Search by picture: a picture dropped on the search box, or chosen with
// the button next to it (the keyboard's way), goes to POST /search/image;
// the library grid then shows the visually similar assets.
import { useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { navigate } from '../lib/router.jsx';
import { searchByPicture } from '../lib/similar.js';

const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');

/** State and drag handlers for the element that takes the drop. */
export function useImageSearch() {
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const depth = useRef(0);

  const search = async (file) => {
    if (!file) return;
    setError(null);
    if (file.type && !file.type.startsWith('image/')) {
      setError(t('imageSearch.notImage', { name: file.name }));
      return;
    }
    setBusy(true);
    try {
      const key = await searchByPicture(file);
      navigate(`/ui/library?similar=${key}`);
    } catch (e) {
      setError(e.status === 422 ? t('imageSearch.notImage', { name: file.name }) : e);
    } finally {
      setBusy(false);
    }
  };

  const handlers = {
    onDragEnter: (e) => { if (!hasFiles(e)) return; e.preventDefault(); depth.current++; setDragging(true); },
    onDragOver: (e) => { if (!hasFiles(e)) return; e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; },
    onDragLeave: () => { depth.current = Math.max(0, depth.current - 1); if (!depth.current) setDragging(false); },
    onDrop: (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setDragging(false);
      search(e.dataTransfer.files[0]);
    },
  };
  return { dragging, busy, error, clearError: () => setError(null), search, handlers };
}

/** The button that opens a file chooser for a picture. */
export function ImageSearchButton({ img }) {
  const input = useRef(null);
  return (
    <>
      <button type="button" class="icon-button image-search" aria-label={t('imageSearch.button')} title={t('imageSearch.button')}
        disabled={img.busy} onClick={() => input.current.click()}>
        <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2">
          <rect x="3" y="5" width="18" height="14" rx="2" /><circle cx="9" cy="10" r="2" /><path d="M21 16l-5-5-8 8" />
        </svg>
      </button>
      <input ref={input} type="file" accept="image/*" class="visually-hidden" tabIndex={-1} aria-hidden="true"
        onChange={(e) => { const f = e.target.files[0]; e.target.value = ''; img.search(f); }} />
    </>
  );
}

// Uppy over the server's tus endpoint (/api/v1/uploads): resumable,
// chunked uploads with the session's CSRF token, and the server's verdict
// per file (added, new version, duplicate, failed) read from the last
// response's Dam-Upload-Status, Dam-Asset-Id and Dam-Duplicate-Of headers.
import Uppy from '@uppy/core';
import Tus from '@uppy/tus';
import { api, sessionEnded, ApiError } from './api.js';
import { session } from './store.js';

const CHUNK = 8 * 1024 * 1024; // the server takes at most 16 MiB a PATCH
const META = ['name', 'tags', 'template', 'new_version_of'];

/**
 * makeUppy({onResult(file, result), onProgress(file, pct), meta, maxFiles})
 * result: {status, asset_id, duplicate_of, error, version}.
 */
export function makeUppy({ onResult, id = 'uppy', maxFiles = null } = {}) {
  const uppy = new Uppy({
    id,
    autoProceed: false,
    restrictions: maxFiles ? { maxNumberOfFiles: maxFiles } : {},
    // Only what the server reads goes into Upload-Metadata, and no empty
    // values (an empty template would be a template named "").
    onBeforeUpload: (files) => {
      const out = {};
      for (const [fid, f] of Object.entries(files)) {
        const meta = {};
        for (const k of META) if (f.meta[k] !== undefined && f.meta[k] !== null && f.meta[k] !== '') meta[k] = f.meta[k];
        out[fid] = { ...f, meta };
      }
      return out;
    },
  });
  uppy.use(Tus, {
    endpoint: '/api/v1/uploads',
    chunkSize: CHUNK,
    retryDelays: [0, 1000, 3000, 5000],
    removeFingerprintOnSuccess: true,
    allowedMetaFields: true, // = the meta onBeforeUpload left
    headers: () => ({ 'X-CSRF-Token': session.get()?.csrf_token || '' }),
    limit: 3,
  });
  uppy.on('upload-success', async (file, response) => {
    const xhr = response?.body?.xhr;
    const h = (n) => (xhr && xhr.getResponseHeader ? xhr.getResponseHeader(n) : null);
    const result = { status: h('Dam-Upload-Status') || 'added', asset_id: h('Dam-Asset-Id'), duplicate_of: h('Dam-Duplicate-Of') };
    if (result.status === 'failed' || !result.asset_id) {
      try {
        const id = (response.uploadURL || '').split('/').pop();
        const up = await api(`/uploads/${id}`);
        Object.assign(result, up.result || {});
      } catch { /* keep the headers' verdict */ }
    }
    if (result.status === 'failed') uppy.setFileState(file.id, { error: result.error || 'failed' });
    onResult?.(file, result);
  });
  uppy.on('upload-error', (file, error, response) => {
    const status = response?.status;
    if (status === 401) sessionEnded(new ApiError(401, null));
    let message = error?.message || String(error);
    try {
      const body = JSON.parse(response?.body?.xhr?.responseText || 'null');
      if (body?.error?.message) message = body.error.message;
    } catch { /* not JSON */ }
    onResult?.(file, { status: 'error', error: message });
  });
  return uppy;
}

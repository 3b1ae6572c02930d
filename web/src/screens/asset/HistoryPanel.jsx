// An asset's history: the audit rows about it and its versions, newest
// first, older pages on demand, and the whole history as CSV.
import { useEffect, useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { api } from '../../lib/api.js';
import { ErrorBox, useAction } from '../../components/ui.jsx';
import { AuditTable } from '../../components/AuditTable.jsx';

const PAGE = 50;

export function HistoryPanel({ asset }) {
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const act = useAction();
  const base = `/assets/${asset.id}/audit`;

  const load = (cursor) => act.run(async () => {
    const r = await api(`${base}?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`);
    setRows((old) => (cursor ? [...(old || []), ...r.items] : r.items));
    setNext(r.next);
  });
  // again when the asset changes (an edit adds a row)
  useEffect(() => { load(null); }, [asset.id, asset.updated_at]);

  if (!rows) return act.error ? <ErrorBox error={act.error} /> : <p class="muted">{t('common.loading')}</p>;
  return (
    <div class="history">
      <p class="row">
        <a class="button" href={`/api/v1${base}?format=csv`} download>{t('audit.csv')}</a>
      </p>
      {!rows.length && <p class="muted">{t('audit.none')}</p>}
      {rows.length > 0 && <AuditTable rows={rows} showObject={false} caption={t('tab.history')} />}
      <ErrorBox error={act.error} />
      {next && <button type="button" disabled={act.busy} onClick={() => load(next)}>{t('audit.more')}</button>}
    </div>
  );
}

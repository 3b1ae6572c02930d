// Rows of the audit trail as a table: when, who, what, on what, and the
// change in short (fields set, tags added or removed, else the recorded
// JSON). Used by an asset's History tab and the admin's Audit trail.
import { t, fmtDateTime } from '../i18n/index.js';
import { Link } from '../lib/router.jsx';

const MAX_DETAIL = 240;
const short = (s) => (s.length > MAX_DETAIL ? s.slice(0, MAX_DETAIL - 1) + '…' : s);

/** The change a row records, in a line. */
export function auditDetail(row) {
  const a = row.after;
  if (a && typeof a === 'object' && ('fields' in a || 'tags_added' in a) && row.action === 'asset.update') {
    const parts = [];
    for (const [k, v] of Object.entries(a.fields || {})) parts.push(v === null ? `${k} ×` : `${k} = ${v}`);
    for (const tg of a.tags_added || []) parts.push(`+${tg}`);
    for (const tg of a.tags_removed || []) parts.push(`−${tg}`);
    return short(parts.join(', '));
  }
  const v = a ?? row.before;
  return v === undefined ? '' : short(typeof v === 'string' ? v : JSON.stringify(v));
}

export function AuditTable({ rows, showObject = true, caption }) {
  return (
    <table class="table audit-table">
      {caption && <caption class="visually-hidden">{caption}</caption>}
      <thead>
        <tr>
          <th scope="col">{t('audit.when')}</th><th scope="col">{t('audit.who')}</th><th scope="col">{t('audit.action')}</th>
          {showObject && <th scope="col">{t('audit.object')}</th>}<th scope="col">{t('audit.details')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.seq} data-seq={r.seq}>
            <td><time datetime={r.at} title={r.at}>{fmtDateTime(r.at)}</time></td>
            <td>{r.actor}</td>
            <td><code>{r.action}</code></td>
            {showObject && <td>{r.object_type === 'asset'
              ? <Link href={`/ui/asset/${r.object_id}`}>{r.object_id}</Link>
              : <span>{r.object_type} {r.object_id}</span>}</td>}
            <td class="wrap">{auditDetail(r)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

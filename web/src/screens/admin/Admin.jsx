// Administration: users and roles, API tokens, fields and vocabularies,
// templates, channel presets, the job queue, the audit trail.
import { t } from '../../i18n/index.js';
import { Link } from '../../lib/router.jsx';
import { roleAtLeast, session, useStore } from '../../lib/store.js';
import { Users } from './Users.jsx';
import { Tokens } from './Tokens.jsx';
import { FieldsAdmin, Vocabularies, Templates } from './Schema.jsx';
import { Presets } from './Presets.jsx';
import { Jobs } from './Jobs.jsx';
import { Audit } from './Audit.jsx';

const SECTIONS = [
  { id: 'users', role: 'admin', C: Users },
  { id: 'tokens', role: 'viewer', C: Tokens },
  { id: 'fields', role: 'admin', C: FieldsAdmin },
  { id: 'vocabularies', role: 'admin', C: Vocabularies },
  { id: 'templates', role: 'admin', C: Templates },
  { id: 'presets', role: 'viewer', C: Presets },
  { id: 'jobs', role: 'editor', C: Jobs },
  { id: 'audit', role: 'admin', C: Audit },
];

export function Admin({ section }) {
  const user = useStore(session);
  const allowed = SECTIONS.filter((s) => roleAtLeast(user, s.role));
  const cur = allowed.find((s) => s.id === section);
  return (
    <div class="admin">
      <nav class="admin-nav" aria-label={t('admin.title')}>
        <ul>
          {allowed.map((s) => (
            <li><Link href={`/ui/admin/${s.id}`} aria-current={s.id === section ? 'page' : undefined}>{t('nav.' + s.id)}</Link></li>
          ))}
        </ul>
      </nav>
      <div class="admin-main">
        {cur ? <cur.C user={user} /> : <p>{t('error.forbidden')}</p>}
      </div>
    </div>
  );
}

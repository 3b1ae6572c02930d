// The media job queue: counts by state, the newest jobs, retry and cancel.
import { useEffect, useState } from 'preact/hooks';
import { t, fmtDateTime } from '../../i18n/index.js';
import { api } from '../../lib/api.js';
import { Link } from '../../lib/router.jsx';
import { roleAtLeast, toast } from '../../lib/store.js';
import { ErrorBox, useAction, useId, useLoad } from '../../components/ui.jsx';

const STATES = ['queued', 'running', 'done', 'failed', 'cancelled'];

export function Jobs({ user }) {
  const [state, setState] = useState('');
  const list = useLoad((signal) => api(`/jobs?limit=200${state ? `&state=${state}` : ''}`, { signal }), [state]);
  const act = useAction();
  const admin = roleAtLeast(user, 'admin');
  const selId = useId('jstate');
  useEffect(() => {
    const timer = setInterval(() => { if (!document.hidden) list.reload(); }, 4000);
    return () => clearInterval(timer);
  }, [state]);
  const op = (job, what) => act.run(async () => {
    await api(`/jobs/${job.id}/${what}`, { method: 'POST' });
    toast(t(what === 'retry' ? 'jobs.retried' : 'jobs.cancelled'), 'success');
    list.reload();
  });
  const counts = list.data?.counts || {};
  return (
    <div>
      <h1>{t('jobs.title')}</h1>
      <p class="muted">{t('jobs.autoRefresh')}</p>
      <ul class="counts" aria-label={t('jobs.state')}>
        {STATES.map((s) => <li class={`count-${s}`}><span class="n">{counts[s] ?? 0}</span> {t('jobstate.' + s)}</li>)}
      </ul>
      <label for={selId}>{t('jobs.state')}</label>{' '}
      <select id={selId} value={state} onChange={(e) => setState(e.target.value)}>
        <option value="">{t('jobs.all')}</option>
        {STATES.map((s) => <option value={s}>{t('jobstate.' + s)}</option>)}
      </select>
      <ErrorBox error={list.error || act.error} />
      {list.data && !list.data.items.length && <p class="muted">{t('jobs.none')}</p>}
      {list.data?.items.length > 0 && (
        <table class="table">
          <thead><tr><th scope="col">{t('jobs.file')}</th><th scope="col">{t('jobs.kind')}</th><th scope="col">{t('jobs.state')}</th>
            <th scope="col">{t('jobs.attempts')}</th><th scope="col">{t('jobs.updated')}</th><th scope="col">{t('jobs.error')}</th>{admin && <th scope="col">{t('common.actions')}</th>}</tr></thead>
          <tbody>
            {list.data.items.map((j) => (
              <tr key={j.id} class={`job-${j.state}`}>
                <th scope="row">{j.asset_id ? <Link href={`/ui/asset/${j.asset_id}`}>{j.filename || j.asset_id}</Link> : (j.filename || j.id)}</th>
                <td>{j.kind}</td><td>{t('jobstate.' + j.state)}</td><td>{j.attempts}/{j.max_attempts}</td>
                <td>{fmtDateTime(j.updated_at)}</td><td class="wrap">{j.error}</td>
                {admin && <td>
                  {j.state === 'failed' && <button type="button" class="small" onClick={() => op(j, 'retry')}>{t('jobs.retry')}</button>}
                  {j.state === 'queued' && <button type="button" class="small" onClick={() => op(j, 'cancel')}>{t('jobs.cancel')}</button>}
                </td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

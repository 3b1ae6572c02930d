// Visually similar assets (perceptual hash + colour histogram).
import { t } from '../../i18n/index.js';
import { api, urls } from '../../lib/api.js';
import { Link } from '../../lib/router.jsx';
import { ErrorBox, useLoad } from '../../components/ui.jsx';
import { KindIcon } from '../../components/icons.jsx';

export function SimilarPanel({ asset }) {
  const r = useLoad((signal) => api(`/assets/${asset.id}/similar?limit=24`, { signal }), [asset.id, asset.current_version_id]);
  if (r.error) return <ErrorBox error={r.error} />;
  if (!r.data) return <p class="muted">{t('common.loading')}</p>;
  if (r.data.analysed === false) return <p class="muted">{t('similar.notAnalysed')}</p>;
  if (!r.data.items.length) return <p class="muted">{t('similar.none')}</p>;
  return (
    <ul class="similar">
      {r.data.items.map((x) => (
        <li key={x.id}>
          <Link href={`/ui/asset/${x.id}`}>
            {x.has_thumbnail ? <img src={urls.thumb(x.id, x.version)} alt="" loading="lazy" /> : <span class="thumb-icon"><KindIcon kind={x.kind} /></span>}
            <span class="similar-name">{x.name}</span>
            <span class="muted">{t('similar.distance', { d: x.distance })}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

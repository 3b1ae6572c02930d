#include "deliver/prerender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/process.h"
#include "core/rendition.h"
#include "deliver/preset.h"
#include "media/media.h"
#include "media/transform.h"
#include "store/blob.h"

void prerender_register(void)
{
	process_register("renditions", prerender_run);
}

void prerender_transform_of(const struct tspec *s, const struct delivery_info *a,
			    struct media_transform *t)
{
	*t = s->t;
	t->wm = NULL;
	if (a->has_focal && t->fit == MEDIA_FIT_COVER &&
	    (t->crop == MEDIA_CROP_SMART || t->crop == MEDIA_CROP_CENTER || t->crop == MEDIA_CROP_FOCAL)) {
		t->crop = MEDIA_CROP_FOCAL;
		t->focal_x = a->focal_x;
		t->focal_y = a->focal_y;
	} else if (t->crop == MEDIA_CROP_FOCAL) {
		t->focal_x = t->focal_y = -1; /* no point set: smart crop */
	}
	t->copyright = *a->copyright ? a->copyright : NULL;
	t->creator = *a->creator ? a->creator : NULL;
}

char *prerender_spec_json(const char *preset, const char *options, const struct delivery_info *a)
{
	char hash[65];
	json_t *j;
	char *s;

	preset_spec_hash(options, hash);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "preset", preset, "options", options, "preset_hash",
		      hash, "master", a->master_key, "copyright", a->copyright, "creator", a->creator);

	if (!j)
		return NULL;
	json_object_set_new(j, "focal", a->has_focal ? json_pack("[f,f]", a->focal_x, a->focal_y) : json_null());
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

struct made {
	struct rendition_row row;
	char *spec;
};

struct job_ctx {
	struct dam *dam;
	struct delivery_info info;
	struct made *made;
	int nmade;
	struct blob_reader *master;
	char (*drop)[48]; /* renditions of presets that now refuse the source */
	int ndrop;
};

static int load_job(struct job_ctx *c, const char *job_id, struct dam_err *err)
{
	struct db_stmt *st;
	char asset[DAM_ID_LEN + 1] = "";
	int64_t number = 0;
	int rc;

	if ((rc = db_query(c->dam->db, &st, err,
			   "SELECT v.asset_id, v.number FROM jobs j JOIN versions v ON v.id = j.version_id WHERE j.id = ?",
			   "s", job_id)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		snprintf(asset, sizeof asset, "%s", db_col_text(st, 0));
		number = db_col_int(st, 1);
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (!*asset)
		return dam_err_set(err, DAM_ENOTFOUND, NULL, "job %s has no version", job_id);
	return delivery_load(c->dam, asset, (int)number, &c->info, err);
}

/* Identical options (Tmall, Taobao and JD share one) are rendered once. */
static const struct made *same_options(const struct job_ctx *c, const char *options)
{
	for (int i = 0; i < c->nmade; i++) {
		json_t *j = json_loads(c->made[i].spec, 0, NULL);
		bool same = j && !strcmp(json_string_value(json_object_get(j, "options")), options);
		json_decref(j);
		if (same)
			return &c->made[i];
	}
	return NULL;
}

/* Takes spec (malloc'd): kept with the rendition, or freed on failure. */
static int render_one(struct job_ctx *c, const struct preset *p, char *spec, struct dam_err *err)
{
	struct media_transform_limits lim;
	struct media_transform t;
	struct media_transform_result res = { 0 };
	struct made *m = &c->made[c->nmade];
	const struct made *twin = same_options(c, p->spec);
	int rc;

	memset(m, 0, sizeof *m);
	snprintf(m->row.name, sizeof m->row.name, "preset:%s", p->name);
	m->spec = spec;
	m->row.spec = spec;
	if (twin) {
		snprintf(m->row.key, sizeof m->row.key, "%s", twin->row.key);
		snprintf(m->row.mime, sizeof m->row.mime, "%s", twin->row.mime);
		m->row.size = twin->row.size;
		m->row.width = twin->row.width;
		m->row.height = twin->row.height;
		m->row.enlarged = twin->row.enlarged;
		c->nmade++;
		return 0;
	}
	media_transform_limits_default(&lim);
	lim.max_input_pixels = (uint64_t)c->dam->cfg.max_input_mp * 1000000u;
	lim.max_output_pixels = (uint64_t)c->dam->cfg.max_output_mp * 1000000u;
	lim.timeout_ms = c->dam->cfg.transform_timeout_ms;
	prerender_transform_of(&p->parsed, &c->info, &t);
	struct dam_err why = { 0 };
	if ((rc = media_transform_reader(c->master, &t, &lim, &res, &why)) < 0) {
		free(spec);
		/* a source too small for the preset's size rule: no rendition,
		 * the others are still made; the asset's delivery warnings say
		 * why (preset_warnings) and a request gets the same refusal */
		if (rc == DAM_ECONFLICT && !strcmp(why.field, "up")) {
			snprintf(c->drop[c->ndrop++], sizeof c->drop[0], "preset:%s", p->name);
			return 0;
		}
		return dam_err_set(err, rc, NULL, "preset %s: %s", p->name, why.msg);
	}
	rc = blob_put_mem(c->dam->store, res.data, res.len, m->row.key, NULL, err);
	if (rc == 0) {
		snprintf(m->row.mime, sizeof m->row.mime, "%s", media_format_mime(res.format));
		m->row.size = res.len;
		m->row.width = res.width;
		m->row.height = res.height;
		m->row.enlarged = res.enlarged;
		c->nmade++;
	} else {
		free(spec);
	}
	free(res.data);
	return rc;
}

/* Renders what changed; a preset with format auto is left to the first
 * request, which knows the client's Accept header. */
static int render_all(struct job_ctx *c, const struct preset *v, int n, struct dam_err *err)
{
	char old[2048];
	struct rendition_row have;
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		char name[48], *spec;
		if (!v[i].ahead || v[i].parsed.t.format == MEDIA_FMT_AUTO)
			continue;
		if (!(spec = prerender_spec_json(v[i].name, v[i].spec, &c->info)))
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		snprintf(name, sizeof name, "preset:%s", v[i].name);
		rc = rendition_find(c->dam, c->info.version_id, name, &have, old, sizeof old, err);
		if (rc == 1 && !strcmp(old, spec)) {
			free(spec);
			rc = 0;
			continue;
		}
		if (rc < 0)
			free(spec);
		else
			rc = render_one(c, &v[i], spec, err);
	}
	return rc;
}

struct save_ctx {
	struct job_ctx *c;
	const char *job_id, *claim;
};

/* audit_tx change of save: the renditions made and dropped, the job done;
 * a row only when renditions changed. */
static int save_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct save_ctx *s = ctx;
	struct job_ctx *c = s->c;
	int rc = 0;

	for (int i = 0; i < c->nmade && rc >= 0; i++)
		rc = rendition_save(dam, c->info.version_id, &c->made[i].row, err);
	/* one made by an earlier rule would otherwise be listed as current */
	for (int i = 0; i < c->ndrop && rc >= 0; i++)
		rc = rendition_drop(dam, c->info.version_id, c->drop[i], err);
	if (rc >= 0)
		rc = job_done(dam, s->job_id, s->claim, err);
	if (!c->nmade && !c->ndrop)
		rec->action = NULL;
	rec->after = json_pack("{s:s,s:i,s:i}", "version_id", c->info.version_id, "renditions", c->nmade,
			       "removed", c->ndrop);
	return rc < 0 ? rc : 0;
}

static int save(struct job_ctx *c, const char *job_id, const char *claim, struct dam_err *err)
{
	struct save_ctx s = { c, job_id, claim };

	return audit_tx(c->dam, "version.renditions", "asset", c->info.asset_id, save_rows, &s, err);
}

int prerender_run(struct dam *dam, const char *job_id, const char *claim, struct dam_err *err)
{
	struct job_ctx c = { .dam = dam };
	struct media_limits lim;
	struct preset *v = NULL;
	int n = 0, rc;

	if ((rc = load_job(&c, job_id, err)) < 0)
		goto out;
	if (!*c.info.master_key) {
		rc = dam_err_set(err, DAM_ENOTFOUND, NULL, "version %s has no delivery master", c.info.version_id);
		goto out;
	}
	media_limits_default(&lim);
	if ((rc = media_init(NULL, &lim, err)) < 0 || (rc = preset_all(dam, &v, &n, err)) < 0)
		goto out;
	if (!(c.made = calloc((size_t)n + 1, sizeof *c.made)) ||
	    !(c.drop = calloc((size_t)n + 1, sizeof *c.drop))) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	/* Every preset reads the master: one local copy serves them all. */
	if ((rc = blob_reader_open_local(dam->store, c.info.master_key, &c.master, err)) < 0)
		goto out;
	if ((rc = render_all(&c, v, n, err)) == 0)
		rc = save(&c, job_id, claim, err);
out:
	blob_reader_free(c.master);
	for (int i = 0; c.made && i < c.nmade; i++)
		free(c.made[i].spec);
	free(c.made);
	free(c.drop);
	free(v);
	return rc;
}

#include "core/process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/fsck.h"
#include "core/refs.h"
#include "core/rendition.h"
#include "media/transform.h"
#include "media/media.h"
#include "util/timeutil.h"


struct work {
	struct dam *dam;
	char job_kind[32];
	char version_id[DAM_ID_LEN + 1];
	char asset_id[DAM_ID_LEN + 1];
	char hash[65];
	char filename[256];
	struct media_sniff sniff;
	json_t *meta;
	struct media_analysis an;
	struct rendition_row r[MEDIA_DERIVATIVES_MAX + 1]; /* + the master */
	int nr;
	bool has_master;
	char master_error[DAM_ERR_MSG_MAX];
	char *text; /* a PDF's text, for the search index (NULL: none) */
};

int process_error_is_permanent(int code)
{
	return code == DAM_EMEDIA || code == DAM_ELIMIT || code == DAM_EINVAL || code == DAM_ENOTFOUND;
}

static int load(struct work *w, const char *job_id, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	rc = db_query(w->dam->db, &st, err,
		      "SELECT j.kind, v.id, v.asset_id, v.blob_hash, v.filename, v.mime, v.kind, v.format"
		      " FROM jobs j JOIN versions v ON v.id = j.version_id WHERE j.id=?", "s", job_id);
	if (rc < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		snprintf(w->job_kind, sizeof w->job_kind, "%s", db_col_text(st, 0));
		snprintf(w->version_id, sizeof w->version_id, "%s", db_col_text(st, 1));
		snprintf(w->asset_id, sizeof w->asset_id, "%s", db_col_text(st, 2));
		snprintf(w->hash, sizeof w->hash, "%s", db_col_text(st, 3));
		snprintf(w->filename, sizeof w->filename, "%s", db_col_text(st, 4));
		snprintf(w->sniff.mime, sizeof w->sniff.mime, "%s", db_col_text(st, 5));
		snprintf(w->sniff.format, sizeof w->sniff.format, "%s", db_col_text(st, 7));
		const char *k = db_col_text(st, 6);
		w->sniff.kind = !strcmp(k, "image") ? MEDIA_IMAGE : !strcmp(k, "video") ? MEDIA_VIDEO
			      : !strcmp(k, "audio") ? MEDIA_AUDIO : !strcmp(k, "document") ? MEDIA_DOCUMENT
			      : MEDIA_OTHER;
	}
	db_finalize(st);
	if (rc == DB_DONE)
		return dam_err_set(err, DAM_ENOTFOUND, NULL, "job %s has no version to process", job_id);
	return rc < 0 ? rc : 0;
}

/* Each derivative goes to the store at once, so only one is in memory. */
static int on_derivative(void *ctx, const struct media_derivative *d, struct dam_err *err)
{
	struct work *w = ctx;
	struct rendition_row *r;
	int rc;

	/* one slot stays free for the master */
	if (w->nr >= (int)(sizeof w->r / sizeof w->r[0]) - 1)
		return dam_err_set(err, DAM_EMEDIA, NULL,
				   "more derivatives than the %d media.h promises (at %s)",
				   MEDIA_DERIVATIVES_MAX, d->name);
	r = &w->r[w->nr];
	if ((rc = blob_put_mem(w->dam->store, d->data, d->len, r->key, NULL, err)) < 0)
		return rc;
	snprintf(r->name, sizeof r->name, "%s", d->name);
	snprintf(r->mime, sizeof r->mime, "%s", d->mime);
	r->size = d->len;
	r->width = d->width;
	r->height = d->height;
	r->spec = d->spec ? json_dumps(d->spec, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
	if (!r->spec)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	w->nr++;
	return 0;
}

static bool wants_master(const struct media_sniff *sn)
{
	return sn->kind == MEDIA_IMAGE || !strcmp(sn->format, "pdf");
}

/*
 * The delivery master: every transform the server makes reads it instead
 * of the untrusted original. A file whose master fails (an exotic
 * colourspace, say) keeps its previews and search; only delivery refuses
 * it, with the reason recorded here.
 */
static void make_master(struct work *w, int fd, const struct media_limits *lim)
{
	struct dam_err err = { 0 };
	struct rendition_row *r = &w->r[w->nr];
	char *path = NULL;
	int mfd = -1, width = 0, height = 0, rc;
	uint64_t size = 0;

	if (w->nr >= (int)(sizeof w->r / sizeof w->r[0]))
		return;
	/* The TIFF saver needs a path: a scratch file on the store's disk. */
	rc = blob_scratch_new(w->dam->store, &path, &err);
	if (rc == 0)
		rc = media_master_write(fd, &w->sniff, lim, path, &width, &height, &err);
	if (rc == 0 && (mfd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		rc = dam_err_errno(&err, DAM_EIO, errno, "cannot reopen the master");
	if (rc == 0)
		rc = blob_put_fd(w->dam->store, mfd, r->key, &size, NULL, &err);
	if (mfd >= 0)
		close(mfd);
	blob_scratch_discard(w->dam->store, path);
	if (rc < 0) {
		snprintf(w->master_error, sizeof w->master_error, "%s", err.msg);
		return;
	}
	snprintf(r->name, sizeof r->name, "master");
	snprintf(r->mime, sizeof r->mime, "image/tiff");
	r->size = size;
	r->width = width;
	r->height = height;
	r->spec = strdup("{\"colour\":\"srgb\",\"format\":\"tiff\",\"pyramid\":true,\"tile\":256}");
	if (!r->spec)
		return;
	w->nr++;
	w->has_master = true;
}

static int decode(struct work *w, struct dam_err *err)
{
	struct media_limits lim;
	int fd = -1, rc;

	media_limits_default(&lim);
	lim.max_pixels = w->dam->cfg.max_pixels;
	lim.max_dimension = w->dam->cfg.max_dimension;
	lim.allow_magick = w->dam->cfg.allow_magick;
	if ((rc = media_init(NULL, &lim, err)) < 0)
		return rc;
	/* libvips's loaders of originals, FFmpeg and poppler get a local file:
	 * the store's own on fs, a spooled copy from an object store (this
	 * runs in a worker child with its scratch space). */
	if ((rc = blob_local_file(w->dam->store, w->hash, &fd, NULL, err)) < 0)
		return rc;
	rc = media_probe_fd(fd, &w->sniff, &lim, &w->meta, err);
	if (rc == 0)
		rc = media_derive_analyze_fd(fd, &w->sniff, &lim, on_derivative, w, &w->an, err);
	if (rc == 0 && wants_master(&w->sniff))
		make_master(w, fd, &lim);
	/* Last, as poppler moves the file offset. A PDF whose text cannot be
	 * read is still a good PDF: it is found by its other words. */
	if (rc == 0 && !strcmp(w->sniff.mime, "application/pdf"))
		media_pdf_text(fd, MEDIA_PDF_TEXT_MAX, &w->text, NULL);
	close(fd);
	return rc;
}

/* Embedded keywords become tags (unless a user removed them) and embedded
 * title/description become fields (unless already set). */
static int save_embedded(struct work *w, struct dam_err *err)
{
	json_t *emb = json_object_get(w->meta, "embedded"), *kw;
	int64_t now = (int64_t)time_now_ms();
	static const char *const keys[] = { "title", "description", "creator", "copyright", "usage_terms" };
	size_t i;
	int rc = 0;

	if (!json_is_object(emb))
		return 0;
	json_array_foreach(json_object_get(emb, "keywords"), i, kw) {
		const char *t = json_string_value(kw);
		if (!t || !*t || strlen(t) > 200)
			continue;
		rc = db_run(w->dam->db, err,
			    "INSERT INTO tags(asset_id, tag, source, created_at)"
			    " SELECT ?1, ?2, 'embedded', ?3 WHERE NOT EXISTS"
			    " (SELECT 1 FROM tag_removals WHERE asset_id=?1 AND tag=?2) ON CONFLICT DO NOTHING",
			    "ssi", w->asset_id, t, now);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *v = json_string_value(json_object_get(emb, keys[i]));
		if (!v || !*v)
			continue;
		rc = db_run(w->dam->db, err,
			    "INSERT INTO fields(asset_id, key, value, source, updated_at) VALUES (?,?,?,'embedded',?)"
			    " ON CONFLICT DO NOTHING", "sssi", w->asset_id, keys[i], v, now);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The analysis as kept in the version's metadata (facets read it). */
static json_t *analysis_json(const struct media_analysis *a)
{
	json_t *colors = json_array();
	char ph[17];

	for (int i = 0; i < a->ncolors; i++)
		json_array_append_new(colors, json_pack("{s:s,s:s,s:f}", "name", a->colors[i].name_en, "name_zh",
							a->colors[i].name_zh, "share", (double)a->colors[i].share));
	snprintf(ph, sizeof ph, "%016llx", (unsigned long long)a->phash);
	return json_pack("{s:o,s:s,s:s,s:s,s:b,s:i,s:i,s:s}", "colors", colors, "orientation", a->orientation,
			 "aspect", a->aspect, "resolution", a->resolution, "transparent", a->transparent, "width",
			 a->width, "height", a->height, "phash", ph);
}

/* Automatic tags replace the previous ones, except those a user removed. */
static int save_auto_tags(struct work *w, struct dam_err *err)
{
	json_t *tags = media_analysis_tags(&w->an), *t;
	int64_t now = (int64_t)time_now_ms();
	size_t i;
	int rc;

	rc = db_run(w->dam->db, err, "DELETE FROM tags WHERE asset_id=? AND source='automatic'", "s", w->asset_id);
	json_array_foreach(tags, i, t) {
		if (rc < 0)
			break;
		rc = db_run(w->dam->db, err,
			    "INSERT INTO tags(asset_id, tag, source, confidence, created_at)"
			    " SELECT ?1, ?2, 'automatic', ?3, ?4 WHERE NOT EXISTS"
			    " (SELECT 1 FROM tag_removals WHERE asset_id=?1 AND tag=?2) ON CONFLICT DO NOTHING",
			    "ssdi", w->asset_id, json_string_value(json_object_get(t, "tag")),
			    json_number_value(json_object_get(t, "confidence")), now);
	}
	json_decref(tags);
	return rc < 0 ? rc : 0;
}

/* The closest other asset by perceptual hash, flagged when it is a near
 * duplicate ("this looks like ..."). */
#define NEAR_DUPLICATE_MAX 10
static void near_duplicate(struct work *w)
{
	struct db_stmt *st;
	int best = 65;
	char best_id[DAM_ID_LEN + 1] = "";

	if (db_query(w->dam->db, &st, NULL,
		     "SELECT s.phash, a.id FROM similarity s JOIN assets a ON a.num = s.asset_rowid"
		     " JOIN versions v ON v.num = s.version_rowid AND v.id = a.current_version_id"
		     " WHERE a.id != ? AND a.deleted_at IS NULL", "s", w->asset_id) < 0)
		return;
	while (db_step(st, NULL) == DB_ROW) {
		int d = media_phash_distance((uint64_t)db_col_int(st, 0), w->an.phash);
		if (d < best) {
			best = d;
			snprintf(best_id, sizeof best_id, "%s", db_col_text(st, 1));
		}
	}
	db_finalize(st);
	if (best <= NEAR_DUPLICATE_MAX)
		json_object_set_new(w->meta, "near_duplicate", json_pack("{s:s,s:i}", "asset_id", best_id, "distance", best));
}

static int save_similarity(struct work *w, struct dam_err *err)
{
	return db_run(w->dam->db, err,
		      "INSERT INTO similarity(version_rowid, asset_rowid, phash, hist)"
		      " SELECT v.num, a.num, ?, ? FROM versions v JOIN assets a ON a.id = v.asset_id WHERE v.id=?"
		      " ON CONFLICT (version_rowid) DO UPDATE SET asset_rowid = excluded.asset_rowid,"
		      " phash = excluded.phash, hist = excluded.hist",
		      "ibs", (int64_t)w->an.phash, w->an.hist, sizeof w->an.hist, w->version_id);
}

struct commit_ctx {
	struct work *w;
	const char *job_id, *claim, *meta;
};

/* audit_tx change of commit: the version ready with its metadata,
 * renditions, embedded and automatic tags, similarity data and text, the
 * next job queued and this one done. */
static int commit_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct commit_ctx *c = ctx;
	struct work *w = c->w;
	int rc = db_run(dam->db, err, "UPDATE versions SET metadata=?, status='ready', error=NULL WHERE id=?",
			"ss", c->meta, w->version_id);

	for (int i = 0; i < w->nr && rc >= 0; i++)
		rc = rendition_save(dam, w->version_id, &w->r[i], err);
	/* Embedded keywords first: the file's own words win over the
	 * automatic tags' guesses when both name the same tag. */
	if (rc >= 0)
		rc = save_embedded(w, err);
	if (rc >= 0 && w->text)
		rc = db_run(dam->db, err,
			    "INSERT INTO version_text(version_rowid, text) SELECT num, ? FROM versions WHERE id=?"
			    " ON CONFLICT (version_rowid) DO UPDATE SET text = excluded.text",
			    "ss", w->text, w->version_id);
	/* Automatic tags describe the asset's current content: a job for a
	 * version that is no longer current (a newer upload or a restore came
	 * first) leaves them alone. */
	if (rc >= 0 && w->an.valid) {
		int64_t current = 0;
		rc = db_query_int(dam->db, &current, err,
				  "SELECT count(*) FROM assets WHERE id=? AND current_version_id=?", "ss", w->asset_id,
				  w->version_id);
		if (rc >= 0 && current)
			rc = save_auto_tags(w, err);
		if (rc >= 0)
			rc = save_similarity(w, err);
	}
	/* Channel renditions come from the master in their own, lower
	 * priority job, so a new upload's previews are never kept waiting. */
	if (rc >= 0 && w->has_master)
		rc = job_enqueue(dam, "renditions", w->version_id, RENDITIONS_PRIORITY, NULL, err);
	if (rc >= 0)
		rc = job_done(dam, c->job_id, c->claim, err);
	rec->after = json_pack("{s:s,s:i}", "version_id", w->version_id, "renditions", w->nr);
	return rc < 0 ? rc : 0;
}

static int commit(struct work *w, const char *job_id, const char *claim, struct dam_err *err)
{
	struct commit_ctx c = { w, job_id, claim, NULL };
	char *meta = NULL;
	int rc;

	if (w->an.valid) {
		json_object_set_new(w->meta, "analysis", analysis_json(&w->an));
		near_duplicate(w);
	}
	if (*w->master_error)
		json_object_set_new(w->meta, "master_error", json_string(w->master_error));
	c.meta = meta = json_dumps(w->meta, JSON_COMPACT);
	rc = audit_tx(w->dam, "version.processed", "asset", w->asset_id, commit_rows, &c, err);
	free(meta);
	return rc;
}

static struct {
	const char *kind;
	process_kind_fn fn;
} kinds[4];

void process_register(const char *kind, process_kind_fn fn)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!kinds[i].kind || !strcmp(kinds[i].kind, kind)) {
			kinds[i].kind = kind;
			kinds[i].fn = fn;
			return;
		}
}

static int run_other_kind(struct dam *dam, const char *kind, const char *job_id, const char *claim,
			  struct dam_err *err)
{
	struct library_lock lock;
	int rc;

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && kinds[i].kind; i++) {
		if (strcmp(kinds[i].kind, kind))
			continue;
		if ((rc = library_lock(dam, false, &lock, err)) < 0)
			return rc;
		rc = kinds[i].fn(dam, job_id, claim, err);
		library_unlock(dam, &lock);
		return rc;
	}
	return dam_err_set(err, DAM_EINVAL, NULL, "unknown job kind \"%s\"", kind);
}

int process_run(struct dam *dam, const char *job_id, const char *claim, struct dam_err *err)
{
	struct library_lock lock;
	struct work w;
	int rc;

	memset(&w, 0, sizeof w);
	w.dam = dam;
	if ((rc = load(&w, job_id, err)) < 0)
		goto out;
	if (strcmp(w.job_kind, "process")) {
		rc = run_other_kind(dam, w.job_kind, job_id, claim, err);
		goto out;
	}
	if ((rc = library_lock(dam, false, &lock, err)) < 0)
		goto out;
	if ((rc = decode(&w, err)) == 0)
		rc = commit(&w, job_id, claim, err);
	library_unlock(dam, &lock);
out:
	for (int i = 0; i < w.nr; i++)
		free((char *)w.r[i].spec);
	json_decref(w.meta);
	free(w.text);
	return rc;
}

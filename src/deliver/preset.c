/*
 * preset.c - the effective channel presets: built-in, then dam.conf, then
 * the API's stored ones. The built-in rules and their sources are listed
 * in docs/delivery.md.
 */
#include "deliver/preset.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/job.h"
#include "store/blob.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

struct builtin {
	const char *name, *spec, *description;
	bool ahead;
};

/* Marketplace main images are padded on white rather than cropped: the
 * rules forbid cutting the product, and pure white is what they ask for.
 * They never enlarge (fit_contain without up_): a small product stays
 * sharp in the middle of the promised canvas, and the channel's own size
 * rule below warns about it. The 9:16 and feed crops must fill their
 * frame, so they may enlarge up to 2x and refuse smaller sources. */
static const struct builtin builtins[] = {
	{ "tmall", "w_800,h_800,fit_contain,bg_ffffff,f_jpeg,q_90",
	  "Tmall main image: 800x800 square JPEG, product whole on white", true },
	{ "taobao", "w_800,h_800,fit_contain,bg_ffffff,f_jpeg,q_90",
	  "Taobao main image: 800x800 square JPEG, product whole on white", true },
	{ "jd", "w_800,h_800,fit_contain,bg_ffffff,f_jpeg,q_90",
	  "JD main image: 800x800 square JPEG on white", true },
	{ "amazon", "w_2000,h_2000,fit_contain,bg_ffffff,f_jpeg,q_90,budget_10m",
	  "Amazon main image: 2000x2000 (zoom needs >= 1000 px) on pure white RGB 255,255,255, sRGB JPEG, <= 10 MB", true },
	{ "shopify", "w_2048,h_2048,fit_contain,bg_ffffff,f_jpeg,q_85",
	  "Shopify product image: 2048x2048 square for zoom", true },
	{ "bol", "w_1200,h_1200,fit_contain,bg_ffffff,f_jpeg,q_90,budget_10m",
	  "Bol.com main image: 1200x1200 (zoom) on white, <= 10 MB", true },
	{ "shopee", "w_1024,h_1024,fit_contain,bg_ffffff,f_jpeg,q_90,budget_2m",
	  "Shopee product image: 1024x1024 square on white, <= 2 MB", true },
	{ "tiktok-shop", "w_800,h_800,fit_contain,bg_ffffff,f_jpeg,q_90,budget_5m",
	  "TikTok Shop main image: 800x800 on white, JPEG, <= 5 MB", true },
	{ "instagram-square", "w_1080,h_1080,fit_cover,crop_smart,up_2,f_jpeg,q_90",
	  "Instagram feed 1:1, 1080x1080 (enlarges at most 2x, smaller sources are refused)", true },
	{ "instagram-portrait", "w_1080,h_1350,fit_cover,crop_smart,up_2,f_jpeg,q_90",
	  "Instagram feed 4:5, 1080x1350 (enlarges at most 2x, smaller sources are refused)", true },
	{ "tiktok", "w_1080,h_1920,fit_cover,crop_smart,up_2,f_jpeg,q_90",
	  "TikTok 9:16, 1080x1920 (enlarges at most 2x, smaller sources are refused)", true },
	{ "douyin", "w_1080,h_1920,fit_cover,crop_smart,up_2,f_jpeg,q_90",
	  "Douyin 9:16, 1080x1920 (enlarges at most 2x, smaller sources are refused)", true },
	{ "web-320", "w_320,f_auto,q_80", "Responsive web width 320", false },
	{ "web-640", "w_640,f_auto,q_80", "Responsive web width 640", false },
	{ "web-960", "w_960,f_auto,q_80", "Responsive web width 960", false },
	{ "web-1280", "w_1280,f_auto,q_80", "Responsive web width 1280", false },
	{ "web-1920", "w_1920,f_auto,q_80", "Responsive web width 1920", false },
	{ "web-2560", "w_2560,f_auto,q_80", "Responsive web width 2560", false },
};

#define NBUILTIN (sizeof builtins / sizeof builtins[0])

/* Each channel's own rule on the source's size (docs/delivery.md cites
 * the channels' seller documentation): the longest side of the image
 * must be at least min_long pixels, else the asset is flagged for it. */
struct channel_rule {
	const char *preset;
	int min_long;
	const char *rule;
};

static const struct channel_rule channel_rules[] = {
	{ "tmall", 800, "Tmall main images are 800x800: the image needs at least 800 px on its longest side" },
	{ "taobao", 800, "Taobao main images are 800x800: the image needs at least 800 px on its longest side" },
	{ "jd", 800, "JD main images are 800x800: the image needs at least 800 px on its longest side" },
	{ "amazon", 1000, "Amazon enables zoom only for images of at least 1000 px on the longest side" },
	{ "bol", 1200, "Bol.com zoom needs the product at least 1200 px (white space does not count)" },
	{ "tiktok-shop", 800, "TikTok Shop counts 800x800 or more as high resolution" },
	{ "shopify", 2048, "Shopify recommends 2048 px for zoom" },
	{ "instagram-square", 1080, "Instagram feed images are 1080 px wide" },
	{ "instagram-portrait", 1080, "Instagram feed images are 1080 px wide" },
	{ "tiktok", 1920, "TikTok 9:16 is 1080x1920: the image needs 1920 px on its longest side" },
	{ "douyin", 1920, "Douyin 9:16 is 1080x1920: the image needs 1920 px on its longest side" },
};

bool preset_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n >= 1 && n <= 32 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

void preset_limits(const struct dam *dam, struct tspec_limits *lim)
{
	static const char *const names[] = { "jpeg", "png", "webp", "avif", "jxl" };
	char buf[sizeof dam->cfg.formats], *save = NULL;

	tspec_limits_default(lim);
	lim->max_ops = dam->cfg.max_ops;
	lim->formats = 1u << MEDIA_FMT_AUTO;
	snprintf(buf, sizeof buf, "%s", dam->cfg.formats);
	for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
			if (!strcmp(t, names[i]) || (i == 0 && !strcmp(t, "jpg")))
				lim->formats |= 1u << i;
}

/* Parses a preset's options and stores them in canonical form. */
static int preset_fill(const struct dam *dam, struct preset *p, const char *name, const char *spec,
		       const char *description, const char *source, bool ahead, struct dam_err *err)
{
	struct tspec_limits lim;
	struct strbuf sb = STRBUF_INIT;
	int rc;

	memset(p, 0, sizeof *p);
	preset_limits(dam, &lim);
	lim.max_ops = 64;
	if ((rc = tspec_parse(spec, strlen(spec), &lim, &p->parsed, err)) < 0)
		return rc;
	if (p->parsed.set & (TS_PRESET | TS_VERSION | TS_EXP | TS_DL))
		return dam_err_set(err, DAM_EINVAL, "spec",
				   "preset \"%s\": a preset may not use p_, v_, exp_ or dl_", name);
	if ((rc = tspec_format(&p->parsed, &sb)) < 0)
		return dam_err_set(err, rc, NULL, "out of memory");
	snprintf(p->spec, sizeof p->spec, "%s", sb.buf);
	strbuf_release(&sb);
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->description, sizeof p->description, "%s", description ? description : "");
	snprintf(p->source, sizeof p->source, "%s", source);
	p->ahead = ahead;
	return 0;
}

static struct preset *find(struct preset *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

/* Adds or replaces name in v (room for it is guaranteed by the caller). */
static int overlay(const struct dam *dam, struct preset *v, int *n, const char *name, const char *spec,
		   const char *description, const char *source, bool ahead, struct dam_err *err)
{
	struct preset p, *old;
	int rc;

	if ((rc = preset_fill(dam, &p, name, spec, description, source, ahead, err)) < 0)
		return rc;
	old = find(v, *n, name);
	if (old && !*p.description)
		snprintf(p.description, sizeof p.description, "%s", old->description);
	*(old ? old : &v[(*n)++]) = p;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct preset *)a)->name, ((const struct preset *)b)->name);
}

static int add_stored(struct dam *dam, struct preset **v, int *n, int *cap, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err, "SELECT name, spec, description, ahead FROM presets", "")) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		if (*n == *cap) {
			struct preset *nv = realloc(*v, (size_t)(*cap *= 2) * sizeof **v);
			if (!nv) {
				rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
				break;
			}
			*v = nv;
		}
		/* A stored preset that no longer parses (limits tightened in
		 * dam.conf) is left out rather than failing every delivery. */
		struct dam_err ignored;
		overlay(dam, *v, n, db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2), "api",
			db_col_int(st, 3) != 0, &ignored);
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int preset_all(struct dam *dam, struct preset **out, int *n, struct dam_err *err)
{
	int cap = (int)NBUILTIN + dam->cfg.npresets + 16, rc = 0;
	bool from_db = dam->cfg.shared_from_db;
	struct preset *v = calloc((size_t)cap, sizeof *v);

	*out = NULL;
	*n = 0;
	if (!v)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < NBUILTIN && rc == 0; i++)
		rc = overlay(dam, v, n, builtins[i].name, builtins[i].spec, builtins[i].description, "builtin",
			     builtins[i].ahead, err);
	for (int i = 0; i < dam->cfg.npresets && rc == 0; i++) {
		const struct config_preset *cp = &dam->cfg.presets[i];
		const struct preset *old = find(v, *n, cp->name);
		struct dam_err why = { 0 };
		rc = overlay(dam, v, n, cp->name, cp->spec, cp->description, from_db ? "settings" : "config",
			     old ? old->ahead : true, &why);
		if (rc < 0)
			dam_err_set(err, rc, "spec", "%s [preset %s]: %s",
				    from_db ? "the library's settings (database)" : "dam.conf", cp->name, why.msg);
	}
	if (rc == 0)
		rc = add_stored(dam, &v, n, &cap, err);
	if (rc < 0) {
		free(v);
		*n = 0;
		return rc;
	}
	qsort(v, (size_t)*n, sizeof *v, by_name);
	*out = v;
	return 0;
}

int preset_get(struct dam *dam, const char *name, struct preset *out, struct dam_err *err)
{
	struct preset *v, *p;
	int n, rc;

	if ((rc = preset_all(dam, &v, &n, err)) < 0)
		return rc;
	if ((p = find(v, n, name)))
		*out = *p;
	free(v);
	return p ? 0 : dam_err_set(err, DAM_ENOTFOUND, "preset", "no preset named \"%s\"", name);
}

/* ---- the cache of the delivery path ---- */

/* Bumped after every preset change this process commits, whatever handle
 * (thread) made it, so every thread's cache sees the change at its next
 * lookup. Process-wide on purpose: the handles of one process share
 * nothing else through which a change could be announced. */
static atomic_uint_fast64_t changes_here;

struct preset_cache {
	pthread_mutex_t lock;   /* guards everything below */
	struct preset *v;       /* sorted by name; NULL until built */
	int n;
	uint64_t built_changes; /* changes_here when built */
	uint64_t config_hash;   /* of the configuration it was built from */
	char version[32];       /* presets_version when built */
	uint64_t checked_ms;    /* when presets_version was last read (time_mono_ms) */
};

int preset_cache_new(struct preset_cache **out, struct dam_err *err)
{
	struct preset_cache *c = calloc(1, sizeof *c);

	*out = c;
	if (!c)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	return 0;
}

void preset_cache_free(struct preset_cache *c)
{
	if (!c)
		return;
	free(c->v);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void hash_add(uint64_t *h, const char *s)
{
	for (; *s; s++)
		*h = (*h ^ (unsigned char)*s) * 1099511628211ULL;
	*h = (*h ^ 0xffu) * 1099511628211ULL; /* field separator */
}

/* FNV-1a of what preset_all() reads from the configuration. */
static uint64_t config_hash(const struct dam *dam)
{
	uint64_t h = 1469598103934665603ULL;
	char ops[16];

	snprintf(ops, sizeof ops, "%d", dam->cfg.max_ops);
	hash_add(&h, ops);
	hash_add(&h, dam->cfg.formats);
	for (int i = 0; i < dam->cfg.npresets; i++) {
		hash_add(&h, dam->cfg.presets[i].name);
		hash_add(&h, dam->cfg.presets[i].spec);
		hash_add(&h, dam->cfg.presets[i].description);
	}
	return h;
}

/* The library's presets_version ("0" before the first change). */
static int stored_version(struct dam *dam, char *out, size_t n, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err, "SELECT value FROM library WHERE key = 'presets_version'", "")) < 0)
		return rc;
	rc = db_step(st, err);
	snprintf(out, n, "%s", rc == DB_ROW ? db_col_text(st, 0) : "0");
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

static int bump_version(struct dam *dam, struct dam_err *err)
{
	return db_run(dam->db, err,
		      "INSERT INTO library(key, value) VALUES ('presets_version', '1')"
		      " ON CONFLICT(key) DO UPDATE SET value = CAST(library.value AS INTEGER) + 1", "");
}

static int by_key(const void *key, const void *p)
{
	return strcmp(key, ((const struct preset *)p)->name);
}

/* Called with c->lock held. */
static int cache_refresh(struct preset_cache *c, struct dam *dam, struct dam_err *err)
{
	uint64_t now = time_mono_ms(), here = atomic_load(&changes_here), cfg = config_hash(dam);
	char version[sizeof c->version];
	struct preset *v;
	int n, rc;

	if (c->v && c->built_changes == here && c->config_hash == cfg && now - c->checked_ms < PRESET_RECHECK_MS)
		return 0;
	/* The version is read before the presets: a change committed in
	 * between only makes the next check rebuild again. */
	if ((rc = stored_version(dam, version, sizeof version, err)) < 0)
		return rc;
	c->checked_ms = now;
	if (c->v && c->built_changes == here && c->config_hash == cfg && !strcmp(c->version, version))
		return 0;
	if ((rc = preset_all(dam, &v, &n, err)) < 0)
		return rc;
	free(c->v);
	c->v = v;
	c->n = n;
	c->built_changes = here;
	c->config_hash = cfg;
	snprintf(c->version, sizeof c->version, "%s", version);
	return 0;
}

int preset_cache_get(struct preset_cache *c, struct dam *dam, const char *name, struct preset *out,
		     uint64_t *read_ms, struct dam_err *err)
{
	const struct preset *p = NULL;
	int rc;

	pthread_mutex_lock(&c->lock);
	if ((rc = cache_refresh(c, dam, err)) == 0 && c->n > 0)
		p = bsearch(name, c->v, (size_t)c->n, sizeof *c->v, by_key);
	if (p)
		*out = *p;
	if (read_ms)
		*read_ms = c->checked_ms;
	pthread_mutex_unlock(&c->lock);
	if (rc < 0)
		return rc;
	return p ? 0 : dam_err_set(err, DAM_ENOTFOUND, "preset", "no preset named \"%s\"", name);
}

static const struct channel_rule *channel_rule_of(const char *name)
{
	for (size_t i = 0; i < sizeof channel_rules / sizeof channel_rules[0]; i++)
		if (!strcmp(channel_rules[i].preset, name))
			return &channel_rules[i];
	return NULL;
}

/* The warnings of one preset for a w x h master, appended to out. */
static void warn_one(const struct preset *p, int w, int h, json_t *out)
{
	const struct channel_rule *cr = channel_rule_of(p->name);
	struct media_transform_plan plan;
	struct dam_err why = { 0 };
	int lng = w > h ? w : h;

	if (cr && lng < cr->min_long)
		json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:i}", "preset", p->name, "kind", "too_small",
						     "message", cr->rule, "min_long", cr->min_long));
	if (media_transform_plan(w, h, &p->parsed.t, &plan, &why) < 0) {
		if (!strcmp(why.field, "up"))
			json_array_append_new(out, json_pack("{s:s,s:s,s:s}", "preset", p->name, "kind",
							     "refused", "message", why.msg));
		return;
	}
	if (plan.enlarged > 1.001) {
		char msg[160];

		snprintf(msg, sizeof msg, "the image is %dx%d: it is enlarged %.2fx to %dx%d", w, h,
			 plan.enlarged, plan.width, plan.height);
		json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:f}", "preset", p->name, "kind",
						     "enlarged", "message", msg, "enlarged", plan.enlarged));
	}
}

json_t *preset_warnings(const struct preset *v, int n, int width, int height, const char *only)
{
	json_t *out = json_array();

	for (int i = 0; i < n && width > 0 && height > 0; i++)
		if ((v[i].ahead || channel_rule_of(v[i].name)) && (!only || !strcmp(only, v[i].name)))
			warn_one(&v[i], width, height, out);
	return out;
}

json_t *preset_json(const struct preset *p)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:b}", "name", p->name, "spec", p->spec, "description",
			 p->description, "source", p->source, "ahead", p->ahead);
}

int preset_list(struct dam *dam, json_t **out, struct dam_err *err)
{
	struct preset *v;
	int n, rc;

	*out = NULL;
	if ((rc = preset_all(dam, &v, &n, err)) < 0)
		return rc;
	*out = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(*out, preset_json(&v[i]));
	free(v);
	return 0;
}

void preset_spec_hash(const char *spec, char out[65])
{
	unsigned char st[BLOB_HASH_STATE_SIZE];
	static const char rules[] = "dam preset rules " PRESET_RULES "\n";

	blob_hash_state_init(st);
	blob_hash_state_update(st, rules, sizeof rules - 1);
	blob_hash_state_update(st, spec, strlen(spec));
	blob_hash_state_final(st, out);
}

/* One ahead-of-time preset as its renditions record it. */
struct wanted {
	char name[48]; /* "preset:NAME" */
	char hash[65];
	struct media_transform t; /* to tell the sources it refuses */
};

/* True when the preset's size rule refuses a w x h master. */
static bool refuses(const struct media_transform *t, int w, int h)
{
	struct media_transform_plan plan;
	struct dam_err why = { 0 };

	return w > 0 && h > 0 && media_transform_plan(w, h, t, &plan, &why) == DAM_ECONFLICT &&
	       !strcmp(why.field, "up");
}

/* The presets the renditions job makes (ahead, with a concrete format). */
static int wanted_presets(struct dam *dam, struct wanted **out, int *n, struct dam_err *err)
{
	struct preset *v;
	int nv, rc;

	*out = NULL;
	*n = 0;
	if ((rc = preset_all(dam, &v, &nv, err)) < 0)
		return rc;
	if (!(*out = calloc((size_t)nv + 1, sizeof **out))) {
		free(v);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	for (int i = 0; i < nv; i++) {
		if (!v[i].ahead || v[i].parsed.t.format == MEDIA_FMT_AUTO)
			continue;
		snprintf((*out)[*n].name, sizeof (*out)[*n].name, "preset:%s", v[i].name);
		preset_spec_hash(v[i].spec, (*out)[*n].hash);
		(*out)[*n].t = v[i].parsed.t;
		(*n)++;
	}
	free(v);
	return 0;
}

struct stale {
	char (*ids)[DAM_ID_LEN + 1];
	size_t n, cap;
};

static int stale_add(struct stale *st, const char *id, struct dam_err *err)
{
	if (st->n == st->cap) {
		void *nv = realloc(st->ids, (st->cap = st->cap ? st->cap * 2 : 64) * sizeof *st->ids);
		if (!nv)
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		st->ids = nv;
	}
	snprintf(st->ids[st->n++], DAM_ID_LEN + 1, "%s", id);
	return 0;
}

/* Closes one version's run of rows: stale when a wanted preset was not
 * seen with its present hash (seen[2i]), unless the preset refuses a
 * master of this size (the job would make nothing, every time) and no
 * older rendition of it is left to remove (seen[2i+1]: any hash). */
static int stale_end(struct stale *st, const char *id, int w, int h, const struct wanted *wt,
		     bool *seen, int nw, struct dam_err *err)
{
	int rc = 0;

	for (int i = 0; i < nw && rc == 0; i++)
		if (!seen[2 * i] && (seen[2 * i + 1] || !refuses(&wt[i].t, w, h))) {
			rc = stale_add(st, id, err);
			break;
		}
	memset(seen, 0, 2 * (size_t)nw * sizeof *seen);
	return rc;
}

/* Current versions of live images with a master, each with its preset
 * renditions' hashes (one row per rendition, or one with NULLs), sorted by
 * version; those with a renditions job still to run are left out. */
static const char STALE_SQL[] =
	"SELECT v.id, r.name, {{json_text(r.spec, preset_hash)}}, m.width, m.height"
	" FROM assets a JOIN versions v ON v.id = a.current_version_id"
	" JOIN renditions m ON m.version_id = v.id AND m.name = 'master'"
	" LEFT JOIN renditions r ON r.version_id = v.id AND r.name LIKE 'preset:%'"
	" WHERE a.deleted_at IS NULL AND v.status = 'ready'"
	" AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.version_id = v.id AND j.kind = 'renditions'"
	" AND j.state IN ('queued', 'running'))"
	" ORDER BY v.id";

/* The versions missing a wanted rendition, into *st. */
static int find_stale(struct dam *dam, const struct wanted *w, int nw, struct stale *st,
		      struct dam_err *err)
{
	struct db_stmt *q;
	char cur[DAM_ID_LEN + 1] = "";
	bool *seen = calloc(2 * (size_t)nw + 1, sizeof *seen);
	int rc, mw = 0, mh = 0;

	if (!seen)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if ((rc = db_query(dam->db, &q, err, STALE_SQL, "")) < 0)
		goto out;
	while ((rc = db_step(q, err)) == DB_ROW) {
		const char *id = db_col_text(q, 0), *name = db_col_text(q, 1), *hash = db_col_text(q, 2);

		if (strcmp(cur, id)) {
			if (*cur && (rc = stale_end(st, cur, mw, mh, w, seen, nw, err)) < 0)
				break;
			snprintf(cur, sizeof cur, "%s", id);
			mw = (int)db_col_int(q, 3);
			mh = (int)db_col_int(q, 4);
		}
		for (int i = 0; name && i < nw; i++)
			if (!strcmp(w[i].name, name)) {
				seen[2 * i] = hash && !strcmp(w[i].hash, hash);
				seen[2 * i + 1] = true;
			}
	}
	db_finalize(q);
	if (rc >= 0 && *cur)
		rc = stale_end(st, cur, mw, mh, w, seen, nw, err);
out:
	free(seen);
	return rc < 0 ? rc : 0;
}

/* Low priority: interactive work goes first. */
#define RERENDER_PRIORITY -10

/* Queues a renditions job for every stale version; inside the caller's
 * transaction. */
static int queue_stale(struct dam *dam, int *queued, struct dam_err *err)
{
	struct stale st = { 0 };
	struct wanted *w = NULL;
	int nw = 0, rc;

	if ((rc = wanted_presets(dam, &w, &nw, err)) == 0 && nw > 0)
		rc = find_stale(dam, w, nw, &st, err);
	for (size_t i = 0; rc >= 0 && i < st.n; i++)
		rc = job_enqueue(dam, "renditions", st.ids[i], RERENDER_PRIORITY, NULL, err);
	if (rc >= 0 && queued)
		*queued = (int)st.n;
	free(st.ids);
	free(w);
	return rc < 0 ? rc : 0;
}

/* Names one preset for a CDN purge (purge.h). */
static int purge_preset(struct dam *dam, const char *name, size_t len, struct dam_err *err)
{
	char key[48];

	snprintf(key, sizeof key, "preset-%.*s", (int)len, name);
	return db_run(dam->db, err,
		      "INSERT INTO purge_outbox(surrogate_key, reason, created_at) VALUES (?, 'preset config', ?)",
		      "si", key, (int64_t)(time_now_ms() / 1000));
}

/* Each "name=spec" line of `a` that `b` lacks names its preset for a purge;
 * with `gone`, only when `b` has no line of that name at all (a changed
 * definition was named by the other pass). */
static int purge_missing_lines(struct dam *dam, const char *a, const char *b, bool gone,
			       struct dam_err *err)
{
	int rc = 0;

	for (const char *l = a, *nl; rc >= 0 && *l; l = nl + 1) {
		size_t name_len = strcspn(l, "=");
		/* b starts with a newline too, so a match is a whole line or name */
		char *line;

		if (!(nl = strchr(l, '\n')))
			break;
		if (!(line = strndup(l - 1, gone ? name_len + 2 : (size_t)(nl - l) + 2)))
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		if (!strstr(b, line))
			rc = purge_preset(dam, l, name_len, err);
		free(line);
	}
	return rc;
}

/* A dam.conf (or built-in) preset change has no row to trigger on, so the
 * definitions of the presets not stored through the API are kept as
 * "name=spec" lines in library('unstored_presets'), and a preset whose line
 * changed, appeared or went away is named for a CDN purge in the
 * transaction that records the new lines. The first sync only records. */
static int purge_unstored(struct dam *dam, struct dam_err *err)
{
	struct strbuf now = STRBUF_INIT;
	struct db_stmt *q = NULL;
	struct preset *v = NULL;
	char *old = NULL;
	int n, rc;

	if ((rc = preset_all(dam, &v, &n, err)) < 0)
		return rc;
	strbuf_add(&now, "\n", 1);
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].source, "api"))
			strbuf_addf(&now, "%s=%s\n", v[i].name, v[i].spec);
	if ((rc = db_query(dam->db, &q, err, "SELECT value FROM library WHERE key = 'unstored_presets'", "")) < 0)
		goto out;
	if ((rc = db_step(q, err)) == DB_ROW && !(old = strdup(db_col_text(q, 0)))) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (rc < 0 || (old && !strcmp(old, now.buf)))
		goto out;
	if (old && (rc = purge_missing_lines(dam, now.buf + 1, old, false, err)) >= 0)
		rc = purge_missing_lines(dam, old + 1, now.buf, true, err);
	if (rc >= 0)
		rc = db_run(dam->db, err,
			    "INSERT INTO library(key, value) VALUES ('unstored_presets', ?)"
			    " ON CONFLICT(key) DO UPDATE SET value = excluded.value", "s", now.buf);
out:
	db_finalize(q);
	free(old);
	free(v);
	strbuf_release(&now);
	return rc < 0 ? rc : 0;
}

int preset_sync(struct dam *dam, int *queued, struct dam_err *err)
{
	int rc;

	if (queued)
		*queued = 0;
	if ((rc = db_begin(dam->db, err)) < 0)
		return rc;
	rc = queue_stale(dam, queued, err);
	if (rc >= 0)
		rc = purge_unstored(dam, err);
	if (rc < 0) {
		db_rollback(dam->db);
		return rc;
	}
	return db_commit(dam->db, err);
}

/* Ends a preset change inside its transaction: the versions it makes stale
 * are queued for re-rendering with the change, or nothing is. */
static int finish_change(struct dam *dam, int rc, struct dam_err *err)
{
	if (rc >= 0)
		rc = queue_stale(dam, NULL, err);
	if (rc >= 0)
		rc = bump_version(dam, err);
	return rc < 0 ? rc : 0;
}

/* Runs a preset change with its audit row; counts it when it committed. */
static int preset_change(struct dam *dam, const char *action, const char *name, audit_change_fn change, void *ctx,
			 struct dam_err *err)
{
	int rc = audit_tx(dam, action, "preset", name, change, ctx, err);

	if (rc == 0)
		atomic_fetch_add(&changes_here, 1);
	return rc;
}

static bool builtin_or_config(const struct dam *dam, const char *name)
{
	for (size_t i = 0; i < NBUILTIN; i++)
		if (!strcmp(builtins[i].name, name))
			return true;
	for (int i = 0; i < dam->cfg.npresets; i++)
		if (!strcmp(dam->cfg.presets[i].name, name))
			return true;
	return false;
}

struct preset_write {
	const struct preset *p;
	bool ahead;
	int64_t existed;
};

static int put_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	struct preset_write *c = ctx;
	const char *name = rec->object_id;
	int rc = db_query_int(dam->db, &c->existed, err, "SELECT count(*) FROM presets WHERE name=?", "s", name);

	if (rc >= 0)
		rc = db_run(dam->db, err,
			    "INSERT INTO presets(name, spec, description, ahead, updated_at) VALUES (?,?,?,?,?)"
			    " ON CONFLICT(name) DO UPDATE SET spec=excluded.spec, description=excluded.description,"
			    " ahead=excluded.ahead, updated_at=excluded.updated_at",
			    "sssii", name, c->p->spec, c->p->description, (int64_t)c->ahead,
			    (int64_t)(time_now_ms() / 1000));
	rec->action = c->existed ? "preset.changed" : "preset.created";
	rec->after = preset_json(c->p);
	return finish_change(dam, rc, err);
}

int preset_put(struct dam *dam, const char *name, const char *spec, const char *description,
	       bool ahead, bool *created, struct dam_err *err)
{
	struct preset p;
	struct preset_write c = { &p, ahead, 0 };
	int rc;

	if (!preset_name_valid(name))
		return dam_err_set(err, DAM_EINVAL, "name",
				   "preset name must be 1-32 characters of a-z, 0-9 and -");
	if (!spec || !*spec)
		return dam_err_set(err, DAM_EINVAL, "spec", "spec is required (transform options, docs/delivery.md)");
	if ((rc = preset_fill(dam, &p, name, spec, description, "api", ahead, err)) < 0)
		return rc;
	rc = preset_change(dam, "preset.created", name, put_rows, &c, err);
	if (created)
		*created = c.existed == 0 && !builtin_or_config(dam, name);
	return rc;
}

static int delete_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const char *name = rec->object_id;
	int rc = db_run(dam->db, err, "DELETE FROM presets WHERE name=?", "s", name);

	if (rc >= 0 && db_changes(dam->db) == 0) {
		rc = builtin_or_config(dam, name) ? dam_err_set(err, DAM_EINVAL, "name",
					 "preset \"%s\" is built in or set in dam.conf; change it instead of deleting it", name)
			   : dam_err_set(err, DAM_ENOTFOUND, "name", "no preset named \"%s\"", name);
	}
	return finish_change(dam, rc, err);
}

int preset_delete(struct dam *dam, const char *name, struct dam_err *err)
{
	return preset_change(dam, "preset.deleted", name, delete_rows, NULL, err);
}

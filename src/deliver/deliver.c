#include "deliver/deliver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/delivery.h"
#include "deliver/prerender.h"
#include "deliver/preset.h"
#include "deliver/sign.h"
#include "deliver/tspec.h"
#include "media/media.h"
#include "media/tile.h"
#include "media/transform.h"
#include "store/blob.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

/* Keys are re-read once a second, so a key retired by `dam key` while
 * the server runs stops verifying within that bound; a signature that fails
 * also re-reads them (at most every 100 ms, so forged URLs cost little), so
 * links signed with a key rotated in meanwhile work at once. */
#define KEY_RELOAD_MS 1000
#define KEY_RETRY_MS 100

#define IMMUTABLE "public, max-age=31536000, immutable"

struct deliver {
	pthread_mutex_t lock; /* guards keys and keys_loaded_ms */
	struct sign_keys *keys;
	uint64_t keys_loaded_ms;   /* time_mono_ms() */
	struct rcache *cache;
	struct preset_cache *presets;
	/* Transforms running at once are bounded by the cores (more only
	 * share the same cores, each holding its pixels longer), and start in
	 * the order they asked: ticket t may start once t < done + slots. */
	pthread_mutex_t slots_lock;
	pthread_cond_t slot_free;
	uint64_t tickets, done;
	int slots;
};

int deliver_open(struct dam *dam, struct deliver **out, struct dam_err *err)
{
	struct deliver *d = calloc(1, sizeof *d);
	struct media_limits lim;
	struct strbuf dir = STRBUF_INIT;
	int rc;

	*out = NULL;
	if (!d)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->slots_lock, NULL);
	pthread_cond_init(&d->slot_free, NULL);
	d->slots = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (d->slots < 1)
		d->slots = 1;
	media_limits_default(&lim);
	strbuf_addf(&dir, "%s/cache", dam->root);
	if ((rc = media_init(NULL, &lim, err)) == 0 && (rc = sign_keys_load(dam->db, &d->keys, err)) == 0)
		rc = rcache_open(dir.buf, (uint64_t)dam->cfg.cache_mb << 20, &d->cache, err);
	if (rc == 0)
		rc = preset_cache_new(&d->presets, err);
	strbuf_release(&dir);
	if (rc < 0) {
		deliver_close(d);
		return rc;
	}
	d->keys_loaded_ms = time_mono_ms();
	*out = d;
	return 0;
}

void deliver_close(struct deliver *d)
{
	if (!d)
		return;
	sign_keys_free(d->keys);
	rcache_close(d->cache);
	preset_cache_free(d->presets);
	pthread_cond_destroy(&d->slot_free);
	pthread_mutex_destroy(&d->slots_lock);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void deliver_cache_stats(struct deliver *d, struct rcache_stats *out)
{
	rcache_stats(d->cache, out);
}

void deliver_set_cache_mb(struct deliver *d, int cache_mb)
{
	rcache_set_max(d->cache, (uint64_t)(cache_mb > 0 ? cache_mb : 0) << 20);
}

static void reload_keys(struct deliver *d, struct dam *dam)
{
	struct sign_keys *k;

	if (sign_keys_load(dam->db, &k, NULL) == 0) {
		sign_keys_free(d->keys);
		d->keys = k;
	}
	d->keys_loaded_ms = time_mono_ms();
}

/* *read_ms: when the keys that answered were read (time_mono_ms); key_id:
 * the key that made the signature. */
static bool verify(struct deliver *d, struct dam *dam, const char *path, const char *sig, uint64_t *read_ms,
		   char key_id[DAM_ID_LEN + 1])
{
	bool ok;

	pthread_mutex_lock(&d->lock);
	if (time_mono_ms() - d->keys_loaded_ms >= KEY_RELOAD_MS)
		reload_keys(d, dam);
	ok = sign_verify_key(d->keys, path, strlen(path), sig, key_id);
	if (!ok && time_mono_ms() - d->keys_loaded_ms >= KEY_RETRY_MS) {
		reload_keys(d, dam);
		ok = sign_verify_key(d->keys, path, strlen(path), sig, key_id);
	}
	*read_ms = d->keys_loaded_ms;
	pthread_mutex_unlock(&d->lock);
	return ok;
}

/* Options a presets-only library still accepts: which preset, which
 * version, until when, and whether as a download. */
#define TS_ADMIN (TS_PRESET | TS_VERSION | TS_EXP | TS_DL)

/* Lays the asked options over their preset, if they name one. */
static int expand(struct deliver *d, struct dam *dam, const struct tspec *asked, struct tspec *spec,
		  struct preset *preset, uint64_t *read_ms, struct dam_err *err)
{
	int rc;

	*spec = *asked;
	memset(preset, 0, sizeof *preset);
	if (!(asked->set & TS_PRESET))
		return 0;
	if ((rc = preset_cache_get(d->presets, dam, asked->preset, preset, read_ms, err)) == DAM_ENOTFOUND)
		return dam_err_set(err, DAM_EINVAL, "transform", "unknown preset \"%s\"", asked->preset);
	if (rc < 0)
		return rc;
	*spec = preset->parsed;
	tspec_overlay(spec, asked);
	return 0;
}

static const char *ext_of(const char *mime, const char *original)
{
	const char *dot = strrchr(original, '.');

	if (!strncmp(mime, "image/", 6))
		return !strcmp(mime, "image/jpeg") ? "jpg" : mime + 6;
	return dot && dot[1] && !strchr(dot, '/') ? dot + 1 : "bin";
}

/* "photo.tif" -> "photo.webp" for Content-Disposition. */
static void download_name(const char *original, const char *ext, char *out, size_t n)
{
	const char *slash = strrchr(original, '/'), *base = slash ? slash + 1 : original;
	const char *dot = strrchr(base, '.');
	int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);

	snprintf(out, n, "%.*s.%s", len, *base ? base : "asset", ext);
}

void deliver_cache_control(char *out, size_t n, long long max_age, bool immutable, int64_t expires, int64_t now)
{
	/* An expiring link must not outlive its expiry in a shared cache. */
	if (expires && expires - now < max_age)
		max_age = expires - now > 0 ? expires - now : 0;
	if (immutable && max_age == 31536000)
		snprintf(out, n, IMMUTABLE);
	else
		snprintf(out, n, "public, max-age=%lld", max_age);
}

static void cache_headers(const struct tspec *asked, const struct dam *dam, int64_t now,
			  struct deliver_result *out)
{
	out->immutable = (asked->set & TS_VERSION) != 0;
	out->max_age = out->immutable ? 31536000 : dam->cfg.max_age_s;
	out->expires = asked->exp;
	deliver_cache_control(out->cache_control, sizeof out->cache_control, out->max_age, out->immutable,
			      out->expires, now);
}

struct make_ctx {
	struct deliver *d;
	struct dam *dam;
	const struct delivery_info *info;
	const struct delivery_info *wm;
	struct media_transform t;
};

static void slot_take(struct deliver *d)
{
	uint64_t t;

	pthread_mutex_lock(&d->slots_lock);
	t = d->tickets++;
	while (t >= d->done + (uint64_t)d->slots)
		pthread_cond_wait(&d->slot_free, &d->slots_lock);
	pthread_mutex_unlock(&d->slots_lock);
}

static void slot_give(struct deliver *d)
{
	pthread_mutex_lock(&d->slots_lock);
	d->done++;
	pthread_cond_broadcast(&d->slot_free);
	pthread_mutex_unlock(&d->slots_lock);
}

static int make_rendition(void *arg, void **data, size_t *len, struct dam_err *err)
{
	struct make_ctx *m = arg;
	struct media_transform_limits lim;
	struct media_transform_result res = { 0 };
	struct blob_reader *master = NULL, *wm = NULL;
	int rc;

	media_transform_limits_default(&lim);
	lim.max_input_pixels = (uint64_t)m->dam->cfg.max_input_mp * 1000000u;
	lim.max_output_pixels = (uint64_t)m->dam->cfg.max_output_mp * 1000000u;
	lim.timeout_ms = m->dam->cfg.transform_timeout_ms;
	if ((rc = blob_reader_open(m->dam->store, m->info->master_key, &master, err)) < 0)
		return rc;
	if (m->wm && (rc = blob_reader_open(m->dam->store, m->wm->master_key, &wm, err)) < 0)
		goto out;
	m->t.wm = wm;
	slot_take(m->d);
	rc = media_transform_reader(master, &m->t, &lim, &res, err);
	slot_give(m->d);
	if (rc == 0) {
		*data = res.data;
		*len = res.len;
	}
out:
	m->t.wm = NULL;
	blob_reader_free(wm);
	blob_reader_free(master);
	return rc;
}

/* The cache key names everything that decides the bytes. */
static int cache_key(const struct delivery_info *info, const struct delivery_info *wm,
		     const struct tspec *spec, const struct media_transform *t, char key[65],
		     struct dam_err *err)
{
	unsigned char st[BLOB_HASH_STATE_SIZE];
	struct tspec canon = *spec;
	struct strbuf sb = STRBUF_INIT;

	canon.set &= ~(unsigned)TS_ADMIN;
	canon.preset[0] = '\0';
	canon.version = 0;
	canon.exp = 0;
	canon.download = false;
	canon.t.format = t->format;
	canon.set |= TS_FMT;
	strbuf_addf(&sb, "dam-render-1\n%s\n", info->master_key);
	if (tspec_format(&canon, &sb) < 0) {
		strbuf_release(&sb);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	strbuf_addf(&sb, "\n%d:%.6f:%.6f\n%s\n%s\n%s\n", t->crop, t->focal_x, t->focal_y,
		    t->copyright ? t->copyright : "", t->creator ? t->creator : "", wm ? wm->master_key : "");
	blob_hash_state_init(st);
	blob_hash_state_update(st, sb.buf, sb.len);
	blob_hash_state_final(st, key);
	strbuf_release(&sb);
	return 0;
}

int deliver_blob(struct dam *dam, const char *key, int *fd, uint64_t *size, struct dam_err *err)
{
	return blob_local_file(dam->store, key, fd, size, err);
}

int deliver_tile(struct dam *dam, const char *master_key, int level, int col, int row, void **data,
		 size_t *len, struct dam_err *err)
{
	struct media_transform_result t = { 0 };
	struct blob_reader *r = NULL;
	int rc;

	*data = NULL;
	*len = 0;
	if ((rc = blob_reader_open(dam->store, master_key, &r, err)) == 0 &&
	    (rc = media_tile_reader(r, level, col, row, &t, err)) == 0) {
		*data = t.data;
		*len = t.len;
	}
	blob_reader_free(r);
	return rc;
}

/* A stored rendition kept in the rendition cache is at most this big: the
 * cache fills an entry from memory. */
#define STORED_CACHE_MAX (16u << 20)

struct stored_blob {
	struct dam *dam;
	const char *key;
};

/* rcache_make_fn: the blob's bytes, read from the store. */
static int read_stored(void *ctx, void **data, size_t *len, struct dam_err *err)
{
	struct stored_blob *sb = ctx;
	struct blob_reader *r = NULL;
	uint64_t size;
	char *buf = NULL;
	ssize_t n;
	int rc;

	if ((rc = blob_reader_open(sb->dam->store, sb->key, &r, err)) < 0)
		return rc;
	size = blob_reader_size(r);
	if (!(buf = malloc(size ? size : 1))) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if ((n = blob_reader_pread(r, buf, size, 0, err)) < 0 || (uint64_t)n != size) {
		rc = n < 0 ? (int)n : dam_err_set(err, DAM_EIO, NULL, "stored blob shorter than its size");
		goto out;
	}
	*data = buf;
	*len = size;
	buf = NULL;
out:
	free(buf);
	blob_reader_free(r);
	return rc;
}

/*
 * Stored bytes to send (size: the blob's size as its row says): the
 * store's local file when it has them (the fs store); on a store without
 * local files (S3), a rendition-sized blob goes through this node's
 * rendition cache, keyed by the blob's key (a content hash, as the cache's
 * own keys are), looked up before the store is asked anything, so a warm
 * node serves it from local disk with no request to the bucket; larger
 * blobs (a video's original) are spooled as before.
 */
static int stored_bytes(struct deliver *d, struct dam *dam, const char *key, uint64_t row_size, int *fd,
			uint64_t *size, struct dam_err *err)
{
	struct stored_blob sb = { dam, key };
	struct blob_reader *r;
	int rc;

	if (!blob_store_local_files(dam->store) && row_size <= STORED_CACHE_MAX)
		return rcache_get(d->cache, key, read_stored, &sb, fd, size, NULL, err);
	if ((rc = blob_reader_open(dam->store, key, &r, err)) < 0)
		return rc;
	if ((rc = blob_reader_local_file(r, fd, err)) == 0)
		*size = blob_reader_size(r);
	blob_reader_free(r);
	return rc;
}

/* Video and audio have no master: an identity URL streams the original. */
static int send_original(struct deliver *d, struct dam *dam, const struct delivery_info *info,
			 struct deliver_result *out, struct dam_err *err)
{
	int rc;

	if ((rc = stored_bytes(d, dam, info->original_key, info->original_size, &out->fd, &out->size, err)) < 0)
		return rc;
	snprintf(out->mime, sizeof out->mime, "%s", info->mime);
	snprintf(out->etag, sizeof out->etag, "\"%s\"", info->original_key);
	out->ranges = true;
	return 0;
}

/* The ahead-of-time rendition row (loaded with the asset), when the URL
 * asks exactly for a preset and the stored one was made from what the
 * asset is now. 1 when used. */
static int try_prerendered(struct deliver *d, struct dam *dam, const struct preset *p,
			   const struct delivery_info *info, const struct delivery_rendition *row,
			   struct deliver_result *out, struct dam_err *err)
{
	char *want;
	int rc;

	if (!row->found)
		return 0;
	if (!(want = prerender_spec_json(p->name, p->spec, info)))
		return 0;
	rc = !strcmp(want, row->spec);
	free(want);
	if (!rc)
		return 0;
	if ((rc = stored_bytes(d, dam, row->key, row->size, &out->fd, &out->size, err)) < 0)
		return rc == DAM_ENOTFOUND ? 0 : rc;
	snprintf(out->mime, sizeof out->mime, "%s", row->mime);
	snprintf(out->etag, sizeof out->etag, "\"%s\"", row->key);
	out->cache_hit = true;
	return 1;
}

static int load_watermark(struct dam *dam, const struct tspec *spec, struct delivery_info *wm,
			  struct dam_err *err)
{
	int rc = delivery_load(dam, spec->wm_asset, 0, wm, err);

	if (rc == DAM_ENOTFOUND)
		return dam_err_set(err, DAM_EINVAL, "transform", "watermark asset %s does not exist", spec->wm_asset);
	if (rc == 0 && !*wm->master_key)
		return dam_err_set(err, DAM_EINVAL, "transform", "watermark asset %s is not an image", spec->wm_asset);
	return rc;
}

static int transform(struct deliver *d, struct dam *dam, const struct tspec *spec,
		     const struct delivery_info *info, const char *accept, struct deliver_result *out,
		     struct dam_err *err)
{
	struct delivery_info wm;
	struct make_ctx m = { .d = d, .dam = dam, .info = info };
	struct tspec_limits lim;
	char key[65];
	int rc;

	if ((uint64_t)info->width * (uint64_t)info->height > (uint64_t)dam->cfg.max_input_mp * 1000000u)
		return dam_err_set(err, DAM_ELIMIT, "asset", "the image is %dx%d, above the delivery limit of %d megapixels",
				   info->width, info->height, dam->cfg.max_input_mp);
	prerender_transform_of(spec, info, &m.t);
	if (spec->t.format == MEDIA_FMT_AUTO) {
		preset_limits(dam, &lim);
		m.t.format = tspec_negotiate(accept, lim.formats, info->alpha);
		out->vary_accept = true;
	} else if (!(spec->set & TS_FMT)) {
		m.t.format = info->alpha ? MEDIA_FMT_PNG : MEDIA_FMT_JPEG;
	}
	if (*spec->wm_asset) {
		if ((rc = load_watermark(dam, spec, &wm, err)) < 0)
			return rc;
		m.wm = &wm;
	}
	if ((rc = cache_key(info, m.wm, spec, &m.t, key, err)) < 0)
		return rc;
	if ((rc = rcache_get(d->cache, key, make_rendition, &m, &out->fd, &out->size, &out->cache_hit, err)) < 0)
		return rc;
	snprintf(out->mime, sizeof out->mime, "%s", media_format_mime(m.t.format));
	snprintf(out->etag, sizeof out->etag, "\"%s\"", key);
	return 0;
}

/* What this answer depends on, for CDN purges (purge.h): the asset, the
 * key that signed the URL, the preset it names and a watermark asset. */
static void surrogate_keys(struct deliver_result *out, const char *asset_id, const char *key_id,
			   const struct tspec *asked, const struct tspec *spec)
{
	int n = snprintf(out->surrogate_key, sizeof out->surrogate_key, "asset-%s key-%s", asset_id, key_id);

	if (n > 0 && (size_t)n < sizeof out->surrogate_key && (asked->set & TS_PRESET))
		n += snprintf(out->surrogate_key + n, sizeof out->surrogate_key - (size_t)n, " preset-%s",
			      asked->preset);
	if (n > 0 && (size_t)n < sizeof out->surrogate_key && *spec->wm_asset)
		snprintf(out->surrogate_key + n, sizeof out->surrogate_key - (size_t)n, " asset-%s", spec->wm_asset);
}

static int check_access(struct deliver *d, struct dam *dam, const char *sig, const char *options,
			const char *asset, int64_t now, const struct tspec *asked, uint64_t *read_ms,
			char key_id[DAM_ID_LEN + 1], struct dam_err *err)
{
	struct strbuf path = STRBUF_INIT;
	bool ok;

	strbuf_addf(&path, "%s/%s", options, asset);
	ok = path.buf && verify(d, dam, path.buf, sig, read_ms, key_id);
	strbuf_release(&path);
	if (!ok)
		return dam_err_set(err, DAM_EPERM, "signature", "the URL's signature does not match; ask for a new link");
	if (asked->exp && now > asked->exp)
		return dam_err_set(err, DAM_EPERM, "exp", "this link expired; ask for a new link");
	if (dam->cfg.presets_only && (asked->set & ~(unsigned)TS_ADMIN))
		return dam_err_set(err, DAM_EPERM, "transform",
				   "this library delivers presets only; use p_NAME without other options");
	return 0;
}

int deliver_resolve(struct deliver *d, struct dam *dam, const char *sig, const char *options,
		    const char *asset, const char *accept, int64_t now, struct deliver_result *out,
		    struct dam_err *err)
{
	struct tspec asked, spec;
	struct preset preset;
	struct delivery_info info;
	struct delivery_rendition stored;
	char name[48] = "", key_id[DAM_ID_LEN + 1] = "";
	bool identity, exact_preset;
	uint64_t presets_ms;
	int rc;

	struct tspec_limits lim;

	memset(out, 0, sizeof *out);
	out->fd = -1;
	/* Signature first: unsigned requests cost no database work. */
	preset_limits(dam, &lim);
	if ((rc = tspec_parse(options, strlen(options), &lim, &asked, err)) < 0)
		return rc;
	if ((rc = check_access(d, dam, sig, options, asset, now, &asked, &out->state_ms, key_id, err)) < 0)
		return rc;
	presets_ms = out->state_ms;
	if ((rc = expand(d, dam, &asked, &spec, &preset, &presets_ms, err)) < 0)
		return rc;
	if (presets_ms < out->state_ms)
		out->state_ms = presets_ms;
	/* Exactly a preset with a concrete format: its stored rendition, if
	 * any, comes with the asset's state in one query. */
	exact_preset = (asked.set & TS_PRESET) && !(asked.set & ~(unsigned)TS_ADMIN) &&
		       preset.parsed.t.format != MEDIA_FMT_AUTO;
	if (exact_preset)
		snprintf(name, sizeof name, "preset:%s", preset.name);
	if ((rc = delivery_load_with(dam, asset, asked.version, exact_preset ? name : NULL, &info, &stored, err)) < 0)
		return rc;
	identity = !(spec.set & ~(unsigned)TS_ADMIN);
	if (!*info.master_key) {
		if (identity && (!strcmp(info.kind, "video") || !strcmp(info.kind, "audio")))
			rc = send_original(d, dam, &info, out, err);
		else if (!strcmp(info.kind, "image"))
			return dam_err_set(err, DAM_ECONFLICT, "asset", "asset %s has no delivery master%s%s", asset,
					   *info.master_error ? ": " : "", info.master_error);
		else
			return dam_err_set(err, DAM_EINVAL, "asset",
					   "asset %s is %s %s; transforms and presets apply to images", asset,
					   strchr("aeiou", info.kind[0]) ? "an" : "a", info.kind);
	} else if (exact_preset && (rc = try_prerendered(d, dam, &preset, &info, &stored, out, err)) != 0) {
		rc = rc < 0 ? rc : 0;
	} else {
		rc = transform(d, dam, &spec, &info, accept, out, err);
	}
	if (rc < 0)
		return rc;
	out->last_modified_ms = info.modified_ms;
	surrogate_keys(out, info.asset_id, key_id, &asked, &spec);
	cache_headers(&asked, dam, now, out);
	if (asked.download)
		download_name(info.filename, ext_of(out->mime, info.filename), out->filename, sizeof out->filename);
	return 0;
}

/* "p_tmall" + expiry -> "p_tmall,exp_N", checked; "_" for nothing. */
static int url_options(struct dam *dam, const char *options, int64_t expires, struct strbuf *out,
		       struct dam_err *err)
{
	struct tspec_limits lim;
	struct tspec spec;
	struct preset p;
	int rc;

	if (options && *options && strcmp(options, "_"))
		strbuf_adds(out, options);
	if (expires > 0)
		strbuf_addf(out, "%sexp_%lld", out->len ? "," : "", (long long)expires);
	if (!out->len)
		strbuf_adds(out, "_");
	if (!out->buf)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	preset_limits(dam, &lim);
	if ((rc = tspec_parse(out->buf, out->len, &lim, &spec, err)) < 0)
		return rc;
	if ((spec.set & TS_PRESET) && preset_get(dam, spec.preset, &p, NULL) < 0)
		return dam_err_set(err, DAM_EINVAL, "preset", "unknown preset \"%s\"", spec.preset);
	return 0;
}

static int sign_options(struct dam *dam, const char *options, const char *asset, char sig[SIGN_LEN + 1],
			struct dam_err *err)
{
	struct sign_keys *keys;
	struct strbuf path = STRBUF_INIT;
	int rc;

	if ((rc = sign_keys_load(dam->db, &keys, err)) < 0)
		return rc;
	strbuf_addf(&path, "%s/%s", options, asset);
	if (path.buf)
		sign_path(keys, path.buf, path.len, sig);
	else
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	sign_keys_free(keys);
	strbuf_release(&path);
	return rc;
}

int deliver_warnings(struct dam *dam, const char *asset, const char *only, json_t **out,
		     struct dam_err *err)
{
	struct delivery_info info;
	struct preset *v = NULL;
	int n = 0, rc;

	*out = NULL;
	rc = delivery_load(dam, asset, 0, &info, err);
	/* nothing to warn about what cannot be delivered at all (deleted, not
	 * processed, no master) */
	if (rc == DAM_ECONFLICT || rc == DAM_ENOTFOUND || (rc == 0 && !*info.master_key)) {
		dam_err_clear(err);
		*out = json_array();
		return 0;
	}
	if (rc < 0 || (rc = preset_all(dam, &v, &n, err)) < 0)
		return rc;
	*out = preset_warnings(v, n, info.width, info.height, only);
	free(v);
	return 0;
}

int deliver_url(struct dam *dam, const char *base_url, const char *asset, const char *options,
		int64_t expires, char **out, struct dam_err *err)
{
	struct strbuf opts = STRBUF_INIT, url = STRBUF_INIT;
	char sig[SIGN_LEN + 1];
	size_t blen;
	int rc;

	*out = NULL;
	if ((rc = url_options(dam, options, expires, &opts, err)) < 0 ||
	    (rc = sign_options(dam, opts.buf, asset, sig, err)) < 0)
		goto out;
	base_url = base_url && *base_url ? base_url : *dam->cfg.base_url ? dam->cfg.base_url : "http://127.0.0.1:8080";
	blen = strlen(base_url);
	while (blen && base_url[blen - 1] == '/')
		blen--;
	strbuf_addf(&url, "%.*s/t/%s/%s/%s", (int)blen, base_url, sig, opts.buf, asset);
	if (!url.buf)
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	else
		*out = strbuf_detach(&url, NULL);
out:
	strbuf_release(&opts);
	strbuf_release(&url);
	return rc;
}

static int read_all(int fd, uint64_t size, void **data, struct dam_err *err)
{
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if (fs_pread_full(fd, buf, size, 0) != (ssize_t)size) {
		free(buf);
		return dam_err_set(err, DAM_EIO, NULL, "cannot read the rendition");
	}
	*data = buf;
	return 0;
}

/* Resolves asset with options through a freshly signed request, so the
 * bytes are exactly those the delivery route serves. Accept-free: format
 * auto becomes WebP. */
static int resolve_signed(struct deliver *d, struct dam *dam, const char *asset, const char *options,
			  struct deliver_result *r, struct dam_err *err)
{
	struct strbuf opts = STRBUF_INIT;
	char sig[SIGN_LEN + 1];
	int rc;

	if ((rc = url_options(dam, options, 0, &opts, err)) == 0 && (rc = sign_options(dam, opts.buf, asset, sig, err)) == 0)
		rc = deliver_resolve(d, dam, sig, opts.buf, asset, "image/webp", (int64_t)(time_now_ms() / 1000), r, err);
	strbuf_release(&opts);
	return rc;
}

int deliver_render(struct dam *dam, const char *asset, const char *options, void **data, size_t *len,
		   char mime[128], struct dam_err *err)
{
	struct deliver_result r;
	struct deliver *d = NULL;
	int rc;

	*data = NULL;
	*len = 0;
	if ((rc = deliver_open(dam, &d, err)) < 0)
		return rc;
	if ((rc = resolve_signed(d, dam, asset, options, &r, err)) == 0) {
		snprintf(mime, 128, "%s", r.mime);
		if ((rc = read_all(r.fd, r.size, data, err)) == 0)
			*len = r.size;
		close(r.fd);
	}
	deliver_close(d);
	return rc;
}

int deliver_zip_source(void *ctx, const struct zip_item *it, int *fd, uint64_t *size, char name[256],
		       struct dam_err *err)
{
	const struct deliver_zip *z = ctx;
	struct deliver_result r;
	char opts[96];
	const char *ext, *dot;
	int rc, stem;

	snprintf(opts, sizeof opts, "p_%s,dl_1", z->preset);
	rc = resolve_signed(z->d, z->dam, it->asset_id, opts, &r, err);
	/* What this asset cannot give (not an image, no master yet, over a
	 * limit, undecodable) leaves it out; the store or database failing
	 * stops the archive. */
	if (rc == DAM_EINVAL || rc == DAM_ECONFLICT || rc == DAM_ELIMIT || rc == DAM_EMEDIA || rc == DAM_ENOTFOUND)
		return ZIP_SKIP;
	if (rc < 0)
		return rc;
	*fd = r.fd;
	*size = r.size;
	/* the asset's name with the rendition's extension: "运动鞋.tif" -> "运动鞋.jpg" */
	ext = strrchr(r.filename, '.');
	dot = strrchr(it->name, '.');
	stem = dot && dot != it->name ? (int)(dot - it->name) : (int)strlen(it->name);
	snprintf(name, 256, "%.*s%s", stem, it->name, ext ? ext : "");
	return 0;
}

/*
 * blob_s3.c - blobs in an S3-compatible bucket (AWS S3, Ceph RGW, MinIO),
 * through store/s3.h.
 *
 * Keys in the bucket:
 *   objects/ab/cd/<hex>            a blob, the fs layout's path as a key
 *   tmp/<random hex>               a large writer's upload until commit
 *   partial/<name>/created         a partial object exists (empty)
 *   partial/<name>/lock            its appender's lock (see below)
 *   partial/<name>/p/<offset>      its bytes from offset (20 digits)
 *
 * Writers: an object smaller than one part stays in memory and is PUT under
 * its key at commit (a PUT is visible only whole); a larger one streams as a
 * multipart upload to tmp/<random> (memory: one part), completed at commit,
 * copied under its key and deleted. A crash leaves at worst a tmp/ object
 * or an unfinished upload: clean_temp removes them by age. A local file
 * (put_file: its hash is known before the first byte goes out) skips all
 * that: one PUT under its key, signed with the hash.
 *
 * Partial objects (tus uploads) are numbered part objects rather than a
 * local spool plus multipart upload: every byte acknowledged to a client is
 * then in the bucket, so the upload resumes on any node and after any
 * restart, and a multipart upload's 5 MiB minimum part (tus chunks are
 * often smaller) does not matter. Appenders on several nodes are
 * serialised by a lock object made with a conditional PUT (If-None-Match:
 * *); a holder that died leaves a lock older than LOCK_STALE_S, which the
 * next appender breaks. Publishing streams the parts through a writer.
 *
 * Scratch files stay local (<root>/tmp), as the store's contract says.
 *
 * s3 clients are one-thread-at-a-time: the store keeps a small pool, and a
 * reader's pread borrows one per call, so preads run on many threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/blob_backend.h"
#include "store/s3.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

#define POOL_MAX 16
#define OBJ_KEY_MAX 128               /* "objects/ab/cd/<64 hex>", "partial/<64>/p/<20>" */
#define LOCK_STALE_S 120              /* an append holds the lock for one bounded chunk */
#define LOCK_WAIT_MS_DEFAULT 30000    /* then a concurrent appender is refused */

struct s3_state {
	/* Copies of the settings; s3_config points into them. */
	char endpoint[256], bucket[64], region[32], key_id[128], secret_env[64], secret_file[512];
	struct s3_config cfg;
	size_t part;                  /* writer threshold: one part */
	char *scratch;                /* <root>/tmp */
	int lock_wait_ms;
	pthread_mutex_t mu;           /* guards pool */
	struct s3_client *pool[POOL_MAX];
	int npool;
};

/* ---- the client pool ---- */

/* A client for this thread's use until client_put(). */
static int client_get(struct s3_state *s, struct s3_client **c, struct dam_err *err)
{
	*c = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->npool > 0)
		*c = s->pool[--s->npool];
	pthread_mutex_unlock(&s->mu);
	return *c ? 0 : s3_client_new(&s->cfg, c, err);
}

static void client_put(struct s3_state *s, struct s3_client *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&s->mu);
	if (s->npool < POOL_MAX) {
		s->pool[s->npool++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	s3_client_free(c);
}

/* ---- open, close ---- */

static void state_free(struct s3_state *s)
{
	for (int i = 0; i < s->npool; i++)
		s3_client_free(s->pool[i]);
	pthread_mutex_destroy(&s->mu);
	free(s->scratch);
	free(s);
}

static void copy_settings(struct s3_state *s, const struct dam_config *cfg)
{
	snprintf(s->endpoint, sizeof s->endpoint, "%s", cfg->s3_endpoint);
	snprintf(s->bucket, sizeof s->bucket, "%s", cfg->s3_bucket);
	snprintf(s->region, sizeof s->region, "%s", cfg->s3_region);
	snprintf(s->key_id, sizeof s->key_id, "%s", cfg->s3_key_id);
	snprintf(s->secret_env, sizeof s->secret_env, "%s", cfg->s3_secret_env);
	snprintf(s->secret_file, sizeof s->secret_file, "%s", cfg->s3_secret_file);
	s->cfg.endpoint = s->endpoint;
	s->cfg.bucket = s->bucket;
	s->cfg.region = s->region;
	s->cfg.key_id = s->key_id;
	s->cfg.secret_env = s->secret_env[0] ? s->secret_env : NULL;
	s->cfg.secret_file = s->secret_file[0] ? s->secret_file : NULL;
	s->cfg.virtual_host = cfg->s3_virtual_host;
	s->part = cfg->s3_part_mb ? (size_t)cfg->s3_part_mb << 20 : S3_PART_DEFAULT;
	s->cfg.part_size = s->part;
}

static int probe_fn(void *ctx, const struct s3_object *obj)
{
	(void)ctx, (void)obj;
	return 0;
}

/* One signed GET, so a wrong endpoint, bucket or secret stops the library
 * from opening (an error document names the cause, SignatureDoesNotMatch
 * for a wrong secret) instead of failing its first upload. */
static int probe(struct s3_state *s, struct dam_err *err)
{
	struct s3_client *c;
	int rc;

	if ((rc = client_get(s, &c, err)) < 0)
		return rc;
	rc = s3_list(c, "dam-probe/", 1, probe_fn, NULL, err);
	client_put(s, c);
	return rc;
}

static int s3b_open(const char *root, const struct dam_config *cfg, void **state,
		    struct dam_err *err)
{
	struct s3_state *s = calloc(1, sizeof *s);
	struct strbuf sb = STRBUF_INIT;
	const char *wait = getenv("DAM_S3_LOCK_WAIT_MS");
	int rc;

	if (!s)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	pthread_mutex_init(&s->mu, NULL);
	if (!cfg || !cfg->s3_endpoint[0] || !cfg->s3_bucket[0] || !cfg->s3_key_id[0]) {
		rc = dam_err_set(err, DAM_EINVAL, "store",
				 "dam.conf: [store] backend = s3 needs endpoint, bucket and key_id");
		goto fail;
	}
	if (!cfg->s3_secret_env[0] == !cfg->s3_secret_file[0]) {
		rc = dam_err_set(err, DAM_EINVAL, "store",
				 "dam.conf: [store] backend = s3 needs exactly one of secret_env and secret_file");
		goto fail;
	}
	copy_settings(s, cfg);
	s->lock_wait_ms = wait ? (int)strtol(wait, NULL, 10) : LOCK_WAIT_MS_DEFAULT;
	strbuf_addf(&sb, "%s/tmp", root);
	s->scratch = strbuf_detach(&sb, NULL);
	if ((rc = fs_mkdir_p(s->scratch, err)) < 0 || (rc = probe(s, err)) < 0)
		goto fail;
	*state = s;
	return 0;
fail:
	state_free(s);
	return rc;
}

static void s3b_close(void *state)
{
	state_free(state);
}

static void object_key(const char *key, char out[OBJ_KEY_MAX])
{
	snprintf(out, OBJ_KEY_MAX, "objects/%.2s/%.2s/%s", key, key + 2, key);
}

static void temp_key(char out[OBJ_KEY_MAX])
{
	unsigned char r[16];
	char hex[33];

	randombytes_buf(r, sizeof r);
	sodium_bin2hex(hex, sizeof hex, r, sizeof r);
	snprintf(out, OBJ_KEY_MAX, "tmp/%s", hex);
}

/* ---- writer ---- */

struct s3_writer {
	struct s3_state *s;
	struct s3_client *c;
	unsigned char *buf;      /* the bytes while under one part */
	size_t len, cap;
	struct s3_upload *u;     /* once over one part: streaming to tmp */
	char tmp[OBJ_KEY_MAX];
};

static void writer_free(struct s3_writer *w)
{
	s3_upload_abort(w->u); /* aborts a started multipart upload */
	client_put(w->s, w->c);
	free(w->buf);
	free(w);
}

static int s3b_writer_open(void *state, void **out, struct dam_err *err)
{
	struct s3_writer *w = calloc(1, sizeof *w);
	int rc;

	if (!w)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	w->s = state;
	if ((rc = client_get(state, &w->c, err)) < 0) {
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* The buffered bytes outgrew one part: move them into a streaming upload. */
static int writer_start_upload(struct s3_writer *w, struct dam_err *err)
{
	int rc;

	temp_key(w->tmp);
	if ((rc = s3_upload_begin(w->c, w->tmp, &w->u, err)) < 0)
		return rc;
	rc = s3_upload_write(w->u, w->buf, w->len, err);
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
	return rc;
}

static int writer_buffer(struct s3_writer *w, const void *data, size_t len, struct dam_err *err)
{
	if (len == 0)
		return 0; /* an empty blob: buf stays NULL, which memcpy may not be given */
	if (w->len + len > w->cap) {
		size_t cap = w->cap ? w->cap : 64 * 1024;
		unsigned char *nb;

		while (cap < w->len + len)
			cap *= 2;
		if (!(nb = realloc(w->buf, cap)))
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
	return 0;
}

static int s3b_writer_write(void *wp, const void *data, size_t len, struct dam_err *err)
{
	struct s3_writer *w = wp;
	int rc;

	if (!w->u && w->len + len < w->s->part)
		return writer_buffer(w, data, len, err);
	if (!w->u && (rc = writer_start_upload(w, err)) < 0)
		return rc;
	return s3_upload_write(w->u, data, len, err);
}

/* A large object: complete the temp upload, copy it under its key, drop
 * the temp (a failed delete leaves it to clean_temp). */
static int commit_large(struct s3_writer *w, const char *obj, struct dam_err *err)
{
	uint64_t size = s3_upload_size(w->u);
	int rc = s3_upload_finish(w->u, err);

	w->u = NULL;
	if (rc < 0)
		return rc;
	rc = s3_copy(w->c, w->tmp, obj, size, err);
	s3_delete(w->c, w->tmp, NULL);
	return rc;
}

static int s3b_writer_commit(void *wp, const char *key, bool *existed, struct dam_err *err)
{
	struct s3_writer *w = wp;
	char obj[OBJ_KEY_MAX];
	int rc;

	object_key(key, obj);
	rc = s3_head(w->c, obj, NULL, err);
	*existed = rc == 0;
	if (rc == 0 || rc != DAM_ENOTFOUND)
		goto out; /* existed: writer_free aborts the upload, nothing kept */
	/* key is the bytes' SHA-256: sign with it rather than hash them again */
	rc = w->u ? commit_large(w, obj, err) : s3_put_sha256(w->c, obj, w->buf, w->len, key, err);
out:
	writer_free(w);
	return rc;
}

static void s3b_writer_abort(void *wp)
{
	writer_free(wp);
}

struct file_src {
	int fd;
};

static ssize_t file_read(void *ctx, void *buf, size_t cap)
{
	struct file_src *f = ctx;
	ssize_t n;

	while ((n = read(f->fd, buf, cap)) < 0 && errno == EINTR)
		;
	return n < 0 ? DAM_EIO : n;
}

/* A local file already hashed: one PUT straight under its key, signed
 * with that hash, so RGW/S3 refuse it (and keep nothing) if the bytes sent
 * are not the ones hashed. Saves a large writer's multipart upload to
 * tmp/, server-side copy and delete: a 14 MB master took ~0.47 s that way
 * on RGW here, ~0.05 s this way. */
static int s3b_put_file(void *state, int fd, uint64_t size, const char *key, bool *existed,
			struct dam_err *err)
{
	struct s3_state *s = state;
	struct file_src src = { fd };
	struct s3_client *c;
	char obj[OBJ_KEY_MAX];
	int rc;

	if (size > S3_PUT_MAX)
		return 1;
	object_key(key, obj);
	if ((rc = client_get(s, &c, err)) < 0)
		return rc;
	rc = s3_head(c, obj, NULL, err);
	*existed = rc == 0;
	if (rc == DAM_ENOTFOUND)
		rc = s3_put_stream_sha256(c, obj, size, key, file_read, &src, err);
	client_put(s, c);
	return rc;
}

/* ---- readers: a list of segments (one for a blob, the parts of a partial
 * object), read with ranged GETs ---- */

struct segment {
	char key[OBJ_KEY_MAX];
	uint64_t start, size;
};

/* Read-ahead: callers read in small steps (libvips asks its source for a
 * few KiB at a time), and each ranged GET costs a round trip (measured on
 * RGW here: a 240 KB JPEG's renditions took 70 s at one GET per read, 1 s
 * with this). A miss fetches at least RA_MIN bytes; reads that carry on
 * where the window ended double it, up to RA_MAX, so a whole master
 * streams in few requests while a tile still costs little more than its
 * bytes. */
#define RA_MIN ((size_t)128 << 10)
#define RA_MAX ((size_t)4 << 20)

struct s3_reader {
	struct s3_state *s;
	struct segment *seg;
	size_t n, cap;
	uint64_t size;
	pthread_mutex_t mu;      /* guards the window: pread runs on many threads */
	unsigned char *win;
	uint64_t win_off;
	size_t win_len, ra;
};

static struct s3_reader *reader_new(struct s3_state *s)
{
	struct s3_reader *r = calloc(1, sizeof *r);

	if (r) {
		r->s = s;
		pthread_mutex_init(&r->mu, NULL);
	}
	return r;
}

static void reader_free(struct s3_reader *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r->win);
	free(r->seg);
	free(r);
}

static int reader_add(struct s3_reader *r, const char *key, uint64_t start, uint64_t size)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4;
		struct segment *ns = reallocarray(r->seg, cap, sizeof *ns);

		if (!ns)
			return DAM_ENOMEM;
		r->seg = ns;
		r->cap = cap;
	}
	snprintf(r->seg[r->n].key, OBJ_KEY_MAX, "%s", key);
	r->seg[r->n].start = start;
	r->seg[r->n].size = size;
	r->n++;
	return 0;
}

static int s3b_reader_open(void *state, const char *key, void **rd, uint64_t *size,
			   struct dam_err *err)
{
	struct s3_state *s = state;
	struct s3_reader *r = reader_new(s);
	struct s3_client *c = NULL;
	char obj[OBJ_KEY_MAX];
	int rc;

	if (!r)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	object_key(key, obj);
	if ((rc = client_get(s, &c, err)) < 0)
		goto out;
	if ((rc = s3_head(c, obj, size, err)) == DAM_ENOTFOUND)
		rc = dam_err_set(err, DAM_ENOTFOUND, NULL, "blob %s is missing from the store", key);
	if (rc == 0 && reader_add(r, obj, 0, *size) < 0)
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	r->size = *size;
out:
	client_put(s, c);
	if (rc < 0)
		reader_free(r);
	else
		*rd = r;
	return rc;
}

/* Reads what of [off, off + len) lies in segment g into buf. */
static int segment_read(struct s3_client *c, const struct segment *g, unsigned char *buf,
			size_t len, uint64_t off, size_t *got, struct dam_err *err)
{
	uint64_t in = off - g->start;
	size_t want = g->size - in < len ? (size_t)(g->size - in) : len;

	return s3_get_range(c, g->key, in, buf, want, got, err);
}

/* Reads [off, off + len) of the segments into buf with one client. */
static ssize_t read_segments(struct s3_reader *r, unsigned char *buf, size_t len, uint64_t off,
			     struct dam_err *err)
{
	struct s3_client *c;
	size_t done = 0, got;
	int rc;

	if ((rc = client_get(r->s, &c, err)) < 0)
		return rc;
	for (size_t i = 0; i < r->n && done < len; i++) {
		const struct segment *g = &r->seg[i];
		uint64_t at = off + done;

		if (at < g->start || at >= g->start + g->size)
			continue;
		if ((rc = segment_read(c, g, buf + done, len - done, at, &got, err)) < 0)
			break;
		done += got;
		if (got == 0)
			break;
	}
	client_put(r->s, c);
	return rc < 0 ? rc : (ssize_t)done;
}

/* Serves the read from the window when it holds it all. */
static bool window_hit(struct s3_reader *r, void *buf, size_t len, uint64_t off, size_t *ra)
{
	bool hit;

	pthread_mutex_lock(&r->mu);
	hit = r->win && off >= r->win_off && off + len <= r->win_off + r->win_len;
	if (hit)
		memcpy(buf, r->win + (off - r->win_off), len);
	else if (r->win && off >= r->win_off && off <= r->win_off + r->win_len)
		*ra = r->ra * 2 < RA_MAX ? r->ra * 2 : RA_MAX; /* reading on: grow */
	else
		*ra = RA_MIN;
	pthread_mutex_unlock(&r->mu);
	return hit;
}

static ssize_t s3b_reader_pread(void *rd, void *buf, size_t len, uint64_t off, struct dam_err *err)
{
	struct s3_reader *r = rd;
	size_t ra = RA_MIN, want;
	unsigned char *win;
	ssize_t n;

	if (window_hit(r, buf, len, off, &ra))
		return (ssize_t)len;
	if (len >= ra) /* big enough to be its own request */
		return read_segments(r, buf, len, off, err);
	want = r->size - off < ra ? (size_t)(r->size - off) : ra;
	if (!(win = malloc(want)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if ((n = read_segments(r, win, want, off, err)) < 0) {
		free(win);
		return n;
	}
	memcpy(buf, win, (size_t)n < len ? (size_t)n : len);
	pthread_mutex_lock(&r->mu);
	free(r->win);
	r->win = win;
	r->win_off = off;
	r->win_len = (size_t)n;
	r->ra = ra;
	pthread_mutex_unlock(&r->mu);
	return (size_t)n < len ? n : (ssize_t)len;
}

struct fd_sink {
	int fd;
	int64_t n;
	int werr; /* the write's errno when it failed */
};

static int fd_write(void *ctx, const void *data, size_t len)
{
	struct fd_sink *k = ctx;
	int e = fs_write_full(k->fd, data, len);

	if (e < 0) {
		k->werr = -e;
		return DAM_EIO;
	}
	k->n += (int64_t)len;
	return 0;
}

/* The whole blob in one GET per segment: spooling through pread's
 * read-ahead windows took ~20 ranged GETs for a 5 MB original. */
static int64_t s3b_reader_stream(void *rd, int fd, struct dam_err *err)
{
	struct s3_reader *r = rd;
	struct fd_sink k = { fd, 0, 0 };
	struct s3_client *c;
	int rc;

	if ((rc = client_get(r->s, &c, err)) < 0)
		return rc;
	for (size_t i = 0; i < r->n && rc == 0; i++)
		rc = s3_get_stream(c, r->seg[i].key, fd_write, &k, NULL, err);
	client_put(r->s, c);
	if (k.werr)
		rc = dam_err_errno(err, DAM_EIO, k.werr, "cannot write a scratch file");
	return rc < 0 ? rc : k.n;
}

static int s3b_reader_local_fd(void *rd)
{
	(void)rd;
	return -1; /* callers spool through blob_reader_local_file() */
}

static void s3b_reader_close(void *rd)
{
	reader_free(rd);
}

/* ---- stat, del, each ---- */

/* Runs one call that needs a client. */
#define WITH_CLIENT(s, err, call)                                \
	({                                                       \
		struct s3_client *c_;                            \
		int rc_ = client_get((s), &c_, (err));           \
		if (rc_ == 0) {                                  \
			struct s3_client *c = c_;                \
			rc_ = (call);                            \
			client_put((s), c);                      \
		}                                                \
		rc_;                                             \
	})

static int s3b_stat(void *state, const char *key, uint64_t *size, struct dam_err *err)
{
	char obj[OBJ_KEY_MAX];
	int rc;

	object_key(key, obj);
	rc = WITH_CLIENT(state, err, s3_head(c, obj, size, err));
	if (rc == DAM_ENOTFOUND)
		rc = dam_err_set(err, DAM_ENOTFOUND, NULL, "blob %s is missing from the store", key);
	return rc;
}

static int s3b_del(void *state, const char *key, struct dam_err *err)
{
	char obj[OBJ_KEY_MAX];

	object_key(key, obj);
	return WITH_CLIENT(state, err, s3_delete(c, obj, err));
}

struct each_ctx {
	blob_each_fn fn;
	void *ctx;
};

/* objects/ab/cd/<hex> with ab, cd its first digits; anything else is not
 * ours and is skipped, as fs_each skips stray files. */
static int each_obj(void *ctx, const struct s3_object *o)
{
	struct each_ctx *e = ctx;
	const char *k = o->key + 8;

	if (strlen(o->key) != 8 + 6 + BLOB_KEY_LEN || k[2] != '/' || k[5] != '/')
		return 0;
	if (!blob_key_valid(k + 6) || memcmp(k, k + 6, 2) || memcmp(k + 3, k + 8, 2))
		return 0;
	return e->fn(e->ctx, k + 6, o->size);
}

static int s3b_each(void *state, blob_each_fn fn, void *ctx, struct dam_err *err)
{
	struct each_ctx e = { fn, ctx };

	return WITH_CLIENT(state, err, s3_list(c, "objects/", 0, each_obj, &e, err));
}

/* ---- scratch files: local ---- */

static int s3b_scratch_new(void *state, char **path, struct dam_err *err)
{
	struct s3_state *s = state;
	struct strbuf p = STRBUF_INIT;
	int fd;

	strbuf_addf(&p, "%s/put-XXXXXX", s->scratch);
	if ((fd = mkostemp(p.buf, O_CLOEXEC)) < 0) {
		int e = errno;
		strbuf_release(&p);
		return dam_err_errno(err, DAM_EIO, e, "cannot create a scratch file");
	}
	close(fd);
	*path = strbuf_detach(&p, NULL);
	return 0;
}

static void s3b_scratch_discard(void *state, const char *path)
{
	(void)state;
	unlink(path);
}

/* ---- clean_temp: tmp/ objects, unfinished uploads, local scratch ---- */

struct sweep {
	struct s3_client *c; /* deletes; the listing runs on its own client */
	time_t now;
	int max_age_s, count_only, n;
};

static time_t iso_time(const char *iso)
{
	struct tm tm = { 0 };

	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0; /* unknown age: old */
	return timegm(&tm);
}

static bool sweep_due(struct sweep *w, const char *when)
{
	return w->count_only || w->max_age_s <= 0 || w->now - iso_time(when) >= w->max_age_s;
}

static int sweep_obj(void *ctx, const struct s3_object *o)
{
	struct sweep *w = ctx;

	if (sweep_due(w, o->last_modified) && (w->count_only || s3_delete(w->c, o->key, NULL) == 0))
		w->n++;
	return 0;
}

static int sweep_upload(void *ctx, const struct s3_pending *up)
{
	struct sweep *w = ctx;

	if (sweep_due(w, up->initiated) &&
	    (w->count_only || s3_multipart_abort(w->c, up->key, up->upload_id, NULL) == 0))
		w->n++;
	return 0;
}

/* Scratch files a crash left in <root>/tmp. */
static int sweep_local(struct s3_state *s, struct sweep *w, struct dam_err *err)
{
	DIR *d = opendir(s->scratch);
	struct dirent *e;
	struct stat st;

	if (!d)
		return dam_err_errno(err, DAM_EIO, errno, "cannot list %s", s->scratch);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "put-", 4) || fstatat(dirfd(d), e->d_name, &st, 0) < 0)
			continue;
		if (w->count_only)
			w->n++;
		else if ((w->max_age_s <= 0 || w->now - st.st_mtime >= w->max_age_s) && unlinkat(dirfd(d), e->d_name, 0) == 0)
			w->n++;
	}
	closedir(d);
	return 0;
}

/* Stops a listing at its first key: one is proof enough. */
static int first_key(void *ctx, const struct s3_object *obj)
{
	(void)ctx;
	(void)obj;
	return DAM_EEXIST;
}

/* One listing request of at most one key: the bucket is there and our
 * credentials may read it. The answer goes to a public probe, so the
 * message names neither the bucket nor the endpoint (s3.c's do: "s3: GET
 * <bucket>/objects/: HTTP 404 NoSuchBucket - …", or curl's words naming
 * host and port): it keeps S3's status, code and hint, and says only that
 * the service cannot be reached for anything else (a transport failure;
 * any dam command on the node opens the store and prints the whole
 * message). */
static int s3b_check(void *state, struct dam_err *err)
{
	struct dam_err e = { 0 };
	const char *http;
	int rc = WITH_CLIENT((struct s3_state *)state, &e, s3_list(c, "objects/", 1, first_key, NULL, &e));

	if (rc == DAM_EEXIST || rc == 0)
		return 0;
	if ((http = strstr(e.msg, ": HTTP ")))
		return dam_err_set(err, rc, NULL, "the bucket does not answer: %s", http + 2);
	return dam_err_set(err, rc, NULL, "the bucket does not answer: the S3 service cannot be reached");
}

static int s3b_clean_temp(void *state, int max_age_s, int count_only, struct dam_err *err)
{
	struct s3_state *s = state;
	struct sweep w = { NULL, time(NULL), max_age_s, count_only, 0 };
	int rc;

	if ((rc = client_get(s, &w.c, err)) < 0)
		return rc;
	if ((rc = WITH_CLIENT(s, err, s3_list(c, "tmp/", 0, sweep_obj, &w, err))) == 0 &&
	    (rc = WITH_CLIENT(s, err, s3_multipart_list(c, "tmp/", sweep_upload, &w, err))) == 0)
		rc = sweep_local(s, &w, err);
	client_put(s, w.c);
	return rc < 0 ? rc : w.n;
}

/* ---- partial objects ---- */

static void partial_key(const char *name, const char *what, char out[OBJ_KEY_MAX])
{
	snprintf(out, OBJ_KEY_MAX, "partial/%s/%s", name, what);
}

static void part_key(const char *name, uint64_t offset, char out[OBJ_KEY_MAX])
{
	snprintf(out, OBJ_KEY_MAX, "partial/%s/p/%020" PRIu64, name, offset);
}

static int partial_exists(struct s3_client *c, const char *name, struct dam_err *err)
{
	char k[OBJ_KEY_MAX];
	int rc;

	partial_key(name, "created", k);
	if ((rc = s3_head(c, k, NULL, err)) == DAM_ENOTFOUND)
		rc = dam_err_set(err, DAM_ENOTFOUND, "upload", "no such upload");
	return rc;
}

static int s3b_partial_create(void *state, const char *name, struct dam_err *err)
{
	char k[OBJ_KEY_MAX];
	int rc;

	partial_key(name, "created", k);
	rc = WITH_CLIENT(state, err, s3_put_if_absent(c, k, "", 0, err));
	if (rc == DAM_ECONFLICT)
		rc = dam_err_set(err, DAM_EEXIST, "upload", "upload exists");
	return rc;
}

static int list_part(void *ctx, const struct s3_object *o)
{
	struct s3_reader *r = ctx;
	const char *num = strrchr(o->key, '/') + 1;
	char *end;
	uint64_t start;

	errno = 0;
	start = strtoull(num, &end, 10);
	if (errno || *end || end - num != 20)
		return 0; /* not a part */
	return reader_add(r, o->key, start, o->size);
}

/* Lists name's parts into r, in offset order (the keys are zero-padded). */
static int list_parts(struct s3_client *c, const char *name, struct s3_reader *r,
		      struct dam_err *err)
{
	char prefix[OBJ_KEY_MAX];
	int rc;

	partial_key(name, "p/", prefix);
	if ((rc = s3_list(c, prefix, 0, list_part, r, err)) == DAM_ENOMEM)
		rc = dam_err_set(err, rc, NULL, "out of memory");
	return rc;
}

struct s3_partial {
	struct s3_state *s;
	struct s3_client *c;
	char name[65];
	char lock[OBJ_KEY_MAX];
};

/* Whether the lock object is older than LOCK_STALE_S (its body is the
 * time it was taken): its holder died without releasing it. */
static bool lock_stale(struct s3_client *c, const char *lock)
{
	void *body = NULL;
	size_t n;
	bool stale = false;

	if (s3_get(c, lock, 32, &body, &n, NULL) == 0)
		stale = time(NULL) - strtoll(body, NULL, 10) > LOCK_STALE_S;
	free(body);
	return stale;
}

/* Takes the lock: waits while another appender (here or on another node)
 * holds it, up to lock_wait_ms, then refuses with DAM_ECONFLICT. */
static int partial_lock(struct s3_partial *p, struct dam_err *err)
{
	char now[32];
	bool broke = false; /* break a stale lock once, not in a loop */
	int waited = 0, rc;

	for (;;) {
		snprintf(now, sizeof now, "%lld\n", (long long)time(NULL));
		rc = s3_put_if_absent(p->c, p->lock, now, strlen(now), err);
		if (rc != DAM_ECONFLICT)
			return rc;
		if (!broke && lock_stale(p->c, p->lock)) {
			broke = true;
			s3_delete(p->c, p->lock, NULL);
			continue;
		}
		if (waited >= p->s->lock_wait_ms)
			return dam_err_set(err, DAM_ECONFLICT, "upload",
					   "the upload is being appended to by another request");
		usleep(50 * 1000);
		waited += 50;
	}
}

static void partial_free(struct s3_partial *p)
{
	client_put(p->s, p->c);
	free(p);
}

static int s3b_partial_open_append(void *state, const char *name, void **out, struct dam_err *err)
{
	struct s3_partial *p = calloc(1, sizeof *p);
	int rc;

	if (!p)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	p->s = state;
	snprintf(p->name, sizeof p->name, "%s", name);
	partial_key(name, "lock", p->lock);
	if ((rc = client_get(state, &p->c, err)) < 0 || (rc = partial_exists(p->c, name, err)) < 0 ||
	    (rc = partial_lock(p, err)) < 0) {
		partial_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* Deletes parts at or past offset: an append that failed after its PUT,
 * before its caller recorded it (the client will send those bytes again). */
static int drop_parts_from(struct s3_partial *p, const struct s3_reader *r, uint64_t offset,
			   struct dam_err *err)
{
	int rc = 0;

	for (size_t i = 0; i < r->n && rc == 0; i++)
		if (r->seg[i].start >= offset)
			rc = s3_delete(p->c, r->seg[i].key, err);
	return rc;
}

static int s3b_partial_append_at(void *pp, uint64_t offset, const void *data, size_t len,
				 struct dam_err *err)
{
	struct s3_partial *p = pp;
	struct s3_reader r = { .s = p->s };
	uint64_t below = 0;
	char k[OBJ_KEY_MAX];
	int rc;

	if ((rc = list_parts(p->c, p->name, &r, err)) < 0)
		goto out;
	for (size_t i = 0; i < r.n && r.seg[i].start < offset && r.seg[i].start == below; i++)
		below += r.seg[i].size;
	if (below != offset) {
		rc = dam_err_set(err, DAM_EDAMAGED, "upload",
				 "the upload's stored parts end at %" PRIu64 ", not at its recorded offset %" PRIu64,
				 below, offset);
		goto out;
	}
	if ((rc = drop_parts_from(p, &r, offset, err)) < 0 || len == 0)
		goto out;
	part_key(p->name, offset, k);
	rc = s3_put(p->c, k, data, len, err); /* all or nothing, durable on return */
out:
	free(r.seg);
	return rc;
}

static void s3b_partial_close(void *pp)
{
	struct s3_partial *p = pp;

	s3_delete(p->c, p->lock, NULL); /* a failure: the lock goes stale */
	partial_free(p);
}

/* The run of parts from offset 0 (parts past a gap are not the object's). */
static void reader_keep_contiguous(struct s3_reader *r, uint64_t *size)
{
	uint64_t end = 0;
	size_t i;

	for (i = 0; i < r->n && r->seg[i].start == end; i++)
		end += r->seg[i].size;
	r->n = i;
	*size = end;
}

static int s3b_partial_reader_open(void *state, const char *name, void **rd, uint64_t *size,
				   struct dam_err *err)
{
	struct s3_reader *r = reader_new(state);
	struct s3_client *c = NULL;
	int rc;

	if (!r)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if ((rc = client_get(state, &c, err)) == 0 && (rc = partial_exists(c, name, err)) == 0 &&
	    (rc = list_parts(c, name, r, err)) == 0) {
		reader_keep_contiguous(r, size);
		r->size = *size;
	}
	client_put(state, c);
	if (rc < 0)
		reader_free(r);
	else
		*rd = r;
	return rc;
}

static int sink_writer(void *ctx, const void *data, size_t len)
{
	return s3b_writer_write(ctx, data, len, NULL);
}

/* Streams every part through a writer, which publishes as any blob. */
static int publish_parts(struct s3_state *s, struct s3_client *c, const struct s3_reader *r,
			 const char *key, bool *existed, struct dam_err *err)
{
	void *w = NULL;
	int rc;

	if ((rc = s3b_writer_open(s, &w, err)) < 0)
		return rc;
	for (size_t i = 0; i < r->n && rc == 0; i++)
		rc = s3_get_stream(c, r->seg[i].key, sink_writer, w, NULL, err);
	if (rc < 0) {
		s3b_writer_abort(w);
		return rc;
	}
	return s3b_writer_commit(w, key, existed, err);
}

static int s3b_partial_delete(void *state, const char *name, struct dam_err *err);

static int s3b_partial_publish(void *state, const char *name, const char *key, bool *existed,
			       struct dam_err *err)
{
	struct s3_reader r = { .s = state };
	struct s3_client *c = NULL;
	uint64_t size;
	int rc;

	if ((rc = client_get(state, &c, err)) < 0 || (rc = partial_exists(c, name, err)) < 0 ||
	    (rc = list_parts(c, name, &r, err)) < 0)
		goto out;
	reader_keep_contiguous(&r, &size);
	if ((rc = publish_parts(state, c, &r, key, existed, err)) == 0)
		rc = s3b_partial_delete(state, name, err);
out:
	client_put(state, c);
	free(r.seg);
	return rc;
}

/* Deletes what a listing names, through a second client: the listing's
 * own is busy with its pages. */
struct deleter {
	struct s3_client *c;
	struct dam_err *err;
};

static int delete_obj(void *ctx, const struct s3_object *o)
{
	struct deleter *d = ctx;

	return s3_delete(d->c, o->key, d->err);
}

static int s3b_partial_delete(void *state, const char *name, struct dam_err *err)
{
	struct deleter d = { NULL, err };
	char prefix[OBJ_KEY_MAX];
	int rc;

	partial_key(name, "", prefix);
	if ((rc = client_get(state, &d.c, err)) == 0)
		rc = WITH_CLIENT(state, err, s3_list(c, prefix, 0, delete_obj, &d, err));
	client_put(state, d.c);
	return rc;
}

const struct blob_backend blob_s3_backend = {
	.name = "s3",
	.open = s3b_open,
	.close = s3b_close,
	.writer_open = s3b_writer_open,
	.writer_write = s3b_writer_write,
	.writer_commit = s3b_writer_commit,
	.writer_abort = s3b_writer_abort,
	.put_file = s3b_put_file,
	.reader_open = s3b_reader_open,
	.reader_pread = s3b_reader_pread,
	.reader_local_fd = s3b_reader_local_fd,
	.reader_stream = s3b_reader_stream,
	.reader_close = s3b_reader_close,
	.stat = s3b_stat,
	.del = s3b_del,
	.each = s3b_each,
	.scratch_new = s3b_scratch_new,
	.scratch_discard = s3b_scratch_discard,
	.partial_create = s3b_partial_create,
	.partial_open_append = s3b_partial_open_append,
	.partial_append_at = s3b_partial_append_at,
	.partial_close = s3b_partial_close,
	.partial_reader_open = s3b_partial_reader_open,
	.partial_publish = s3b_partial_publish,
	.partial_delete = s3b_partial_delete,
	.check = s3b_check,
	.clean_temp = s3b_clean_temp,
};

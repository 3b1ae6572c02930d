/*
 * test_s3.c - store/s3.c against a real S3 server (Ceph's RADOS Gateway,
 * started by tests/s3/run.sh with scripts/rgw.sh).
 *
 * DAM_S3_ENV names the s3.env file rgw.sh wrote (S3_ENDPOINT, S3_REGION,
 * S3_BUCKET, S3_KEY_ID, S3_SECRET). Without it, or with a server that does
 * not answer, the tests fail: they never skip. DAM_S3_TRACE=1 sends every
 * client's header trace to stderr, so run.sh can prove the secret never
 * shows in it. DAM_TEST_VALGRIND=1 leaves out the RSS bound (valgrind's
 * own memory would be measured).
 */
#include "../unit/testutil.h"

#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "store/s3.h"

#define MIB ((size_t)1 << 20)

struct env {
	char endpoint[256], region[64], bucket[64], key_id[128], secret[256];
};

static struct env E;
static char run_prefix[64]; /* keys of this run live under it */

/* ---- set-up ---- */

static void env_value(const char *line, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	if (!strncmp(line, name, n) && line[n] == '=') {
		const char *v = line + n + 1;
		size_t len = strcspn(v, "\r\n");

		if (len >= cap)
			len = cap - 1;
		memcpy(out, v, len);
		out[len] = '\0';
	}
}

static int load_env(void **state)
{
	const char *path = getenv("DAM_S3_ENV");
	char line[512];
	FILE *f;

	if (!path || !(f = fopen(path, "r"))) {
		fprintf(stderr, "test_s3: DAM_S3_ENV must name rgw.sh's s3.env (run tests/s3/run.sh)\n");
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		env_value(line, "S3_ENDPOINT", E.endpoint, sizeof E.endpoint);
		env_value(line, "S3_REGION", E.region, sizeof E.region);
		env_value(line, "S3_BUCKET", E.bucket, sizeof E.bucket);
		env_value(line, "S3_KEY_ID", E.key_id, sizeof E.key_id);
		env_value(line, "S3_SECRET", E.secret, sizeof E.secret);
	}
	fclose(f);
	if (!E.endpoint[0] || !E.secret[0] || !E.key_id[0] || !E.bucket[0] || !E.region[0]) {
		fprintf(stderr, "test_s3: %s lacks a setting\n", path);
		return -1;
	}
	snprintf(run_prefix, sizeof run_prefix, "t%ld-%d", (long)time(NULL), (int)getpid());
	return sodium_init() < 0 ? -1 : 0;
}

static struct s3_config base_config(void)
{
	struct s3_config cfg = {
		.endpoint = E.endpoint,
		.region = E.region,
		.bucket = E.bucket,
		.key_id = E.key_id,
		.secret = E.secret,
		.trace = getenv("DAM_S3_TRACE") ? stderr : NULL,
	};
	return cfg;
}

static struct s3_client *client_with(const struct s3_config *cfg)
{
	struct s3_client *c = NULL;
	struct dam_err err = { 0 };

	if (s3_client_new(cfg, &c, &err) < 0)
		fail_msg("s3_client_new: %s", err.msg);
	return c;
}

static struct s3_client *client(void)
{
	struct s3_config cfg = base_config();

	return client_with(&cfg);
}

/* A key under this run's prefix. */
static const char *K(const char *name)
{
	static char keys[8][512];
	static int next;
	char *k = keys[next++ % 8];

	snprintf(k, sizeof keys[0], "%s/%s", run_prefix, name);
	return k;
}

#define OK(call)                                                        \
	do {                                                            \
		struct dam_err err_ = { 0 };                            \
		int rc_ = (call);                                       \
		if (rc_ < 0)                                            \
			fail_msg("%s: %d %s", #call, rc_, err_.msg);    \
	} while (0)
/* `call` must use `err_` as its error argument. */

/* ---- deterministic bytes, hashed as they go ---- */

struct gen {
	uint64_t state, left;
	crypto_hash_sha256_state sha;
};

static void gen_init(struct gen *g, uint64_t seed, uint64_t len)
{
	g->state = seed | 1;
	g->left = len;
	crypto_hash_sha256_init(&g->sha);
}

static size_t gen_fill(struct gen *g, unsigned char *buf, size_t cap)
{
	size_t n = cap < g->left ? cap : (size_t)g->left;

	for (size_t i = 0; i < n; i++) {
		g->state ^= g->state << 13;
		g->state ^= g->state >> 7;
		g->state ^= g->state << 17;
		buf[i] = (unsigned char)(g->state >> 24);
	}
	g->left -= n;
	crypto_hash_sha256_update(&g->sha, buf, n);
	return n;
}

static ssize_t gen_read(void *ctx, void *buf, size_t cap)
{
	return (ssize_t)gen_fill(ctx, buf, cap);
}

struct hasher {
	crypto_hash_sha256_state sha;
	uint64_t n;
};

static int hash_write(void *ctx, const void *data, size_t len)
{
	struct hasher *h = ctx;

	crypto_hash_sha256_update(&h->sha, data, len);
	h->n += len;
	return 0;
}

/* GETs key streamed and compares its SHA-256 and size with want. */
static void assert_object_hash(struct s3_client *c, const char *key,
			       crypto_hash_sha256_state *want_sha, uint64_t want_len)
{
	unsigned char a[32], b[32];
	struct hasher h;
	uint64_t size = 0;

	crypto_hash_sha256_init(&h.sha);
	h.n = 0;
	OK(s3_get_stream(c, key, hash_write, &h, &size, &err_));
	assert_int_equal(h.n, want_len);
	assert_int_equal(size, want_len);
	crypto_hash_sha256_final(&h.sha, a);
	crypto_hash_sha256_final(want_sha, b);
	assert_memory_equal(a, b, 32);
}

static int count_lines(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* ---- objects ---- */

struct seen {
	int n;
	char keys[32][128];
	uint64_t sizes[32];
};

static int collect(void *ctx, const struct s3_object *o)
{
	struct seen *s = ctx;

	if (s->n == 32)
		return DAM_ELIMIT;
	snprintf(s->keys[s->n], sizeof s->keys[0], "%s", o->key);
	s->sizes[s->n] = o->size;
	assert_true(o->etag[0] == '"');
	assert_non_null(strchr(o->last_modified, 'T'));
	s->n++;
	return 0;
}


/* Bytes with NULs and every byte value, under a key that needs encoding. */
static void test_put_get_head_delete(void **state)
{
	struct s3_client *c = client();
	const char *key = K("dir/a b+c=\xc3\xbc&%.bin");
	unsigned char data[1000];
	struct dam_err err = { 0 };
	uint64_t size = 0;
	void *got = NULL;
	size_t len = 0;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7);
	OK(s3_put(c, key, data, sizeof data, &err_));
	OK(s3_head(c, key, &size, &err_));
	assert_int_equal(size, sizeof data);
	OK(s3_get(c, key, 1 << 20, &got, &len, &err_));
	assert_int_equal(len, sizeof data);
	assert_memory_equal(got, data, sizeof data);
	free(got);
	/* Listed under its own name (S3 escapes '&' in the XML). */
	{
		struct seen seen = { 0 };
		char prefix[128];
		snprintf(prefix, sizeof prefix, "%s/dir/", run_prefix);
		OK(s3_list(c, prefix, 0, collect, &seen, &err_));
		assert_int_equal(seen.n, 1);
		assert_string_equal(seen.keys[0], key);
		assert_int_equal(seen.sizes[0], sizeof data);
	}
	/* A bound smaller than the object refuses it. */
	assert_int_equal(s3_get(c, key, 999, &got, &len, &err), DAM_ELIMIT);
	assert_null(got);

	OK(s3_delete(c, key, &err_));
	assert_int_equal(s3_head(c, key, &size, &err), DAM_ENOTFOUND);
	assert_int_equal(s3_get(c, key, 1 << 20, &got, &len, &err), DAM_ENOTFOUND);
	assert_non_null(strstr(err.msg, "NoSuchKey"));
	OK(s3_delete(c, key, &err_)); /* absent: not an error */
	s3_client_free(c);
}

static void test_empty_object(void **state)
{
	struct s3_client *c = client();
	const char *key = K("empty");
	uint64_t size = 1;
	void *got = NULL;
	size_t len = 1;

	OK(s3_put(c, key, "", 0, &err_));
	OK(s3_head(c, key, &size, &err_));
	assert_int_equal(size, 0);
	OK(s3_get(c, key, 10, &got, &len, &err_));
	assert_int_equal(len, 0);
	free(got);
	OK(s3_delete(c, key, &err_));
	s3_client_free(c);
}

static void test_put_stream(void **state)
{
	struct s3_client *c = client();
	const char *key = K("streamed");
	struct gen g;

	gen_init(&g, 42, 3 * MIB + 17);
	OK(s3_put_stream(c, key, 3 * MIB + 17, gen_read, &g, &err_));
	assert_object_hash(c, key, &g.sha, 3 * MIB + 17);
	OK(s3_delete(c, key, &err_));
	s3_client_free(c);
}

/* A stream signed with its SHA-256 is stored when the bytes match it and
 * refused, with nothing stored, when they do not (a file that changed
 * after it was hashed). */
static void test_put_stream_sha256(void **state)
{
	struct s3_client *c = client();
	const char *key = K("hashed"), *bad = K("hashed-bad");
	unsigned char sum[crypto_hash_sha256_BYTES];
	char hex[crypto_hash_sha256_BYTES * 2 + 1];
	struct dam_err err = { 0 };
	unsigned char buf[65536];
	struct gen g, h;
	uint64_t size;

	gen_init(&h, 7, 2 * MIB + 5); /* the hash of the bytes g will produce */
	while (gen_fill(&h, buf, sizeof buf) > 0)
		;
	crypto_hash_sha256_final(&h.sha, sum);
	sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
	gen_init(&g, 7, 2 * MIB + 5);
	OK(s3_put_stream_sha256(c, key, 2 * MIB + 5, hex, gen_read, &g, &err_));
	assert_object_hash(c, key, &g.sha, 2 * MIB + 5);
	gen_init(&g, 8, 2 * MIB + 5); /* other bytes, same claimed hash */
	assert_int_equal(s3_put_stream_sha256(c, bad, 2 * MIB + 5, hex, gen_read, &g, &err), DAM_EINVAL);
	assert_non_null(strstr(err.msg, "HTTP 400"));
	assert_int_equal(s3_head(c, bad, &size, NULL), DAM_ENOTFOUND);
	OK(s3_delete(c, key, &err_));
	s3_client_free(c);
}

/* A reader that ends before the announced length stores nothing. */
static void test_put_stream_short(void **state)
{
	struct s3_client *c = client();
	const char *key = K("short");
	struct dam_err err = { 0 };
	struct gen g;

	gen_init(&g, 7, 1000);
	assert_true(s3_put_stream(c, key, 5000, gen_read, &g, &err) < 0);
	assert_non_null(strstr(err.msg, "ended early"));
	assert_int_equal(s3_head(c, key, NULL, &err), DAM_ENOTFOUND);
	s3_client_free(c);
}

/* Ranged reads, like pread; all of them (and the misses) on one
 * connection. */
static void test_ranged_get(void **state)
{
	struct s3_config cfg = base_config();
	const char *key = K("ranged");
	unsigned char data[100000], buf[4096];
	char *trace = NULL;
	size_t trace_len = 0;
	FILE *tf = open_memstream(&trace, &trace_len);
	struct dam_err err = { 0 };
	struct s3_client *c;
	size_t got = 0;

	cfg.trace = tf;
	c = client_with(&cfg);

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i ^ (i >> 8));
	OK(s3_put(c, key, data, sizeof data, &err_));
	OK(s3_get_range(c, key, 1000, buf, 500, &got, &err_));
	assert_int_equal(got, 500);
	assert_memory_equal(buf, data + 1000, 500);
	OK(s3_get_range(c, key, 0, buf, 1, &got, &err_));
	assert_int_equal(got, 1);
	assert_int_equal(buf[0], data[0]);
	/* Across the end: short; at and past the end: nothing. */
	OK(s3_get_range(c, key, sizeof data - 100, buf, sizeof buf, &got, &err_));
	assert_int_equal(got, 100);
	assert_memory_equal(buf, data + sizeof data - 100, 100);
	OK(s3_get_range(c, key, sizeof data, buf, sizeof buf, &got, &err_));
	assert_int_equal(got, 0);
	OK(s3_get_range(c, key, sizeof data + 5000, buf, sizeof buf, &got, &err_));
	assert_int_equal(got, 0);
	assert_int_equal(s3_get_range(c, K("no-such"), 0, buf, 10, &got, &err), DAM_ENOTFOUND);
	OK(s3_delete(c, key, &err_));
	fflush(tf);
	assert_int_equal(count_lines(trace, "> GET /"), 6);
	assert_int_equal(count_lines(trace, "* Connected to "), 1);
	s3_client_free(c);
	fclose(tf);
	free(trace);
}

/* ---- listing ---- */

/* 25 keys, 7 a page: four requests, every key once, in order. */
static void test_list_pages(void **state)
{
	struct s3_config cfg = base_config();
	struct seen seen = { 0 };
	char name[64], prefix[128], *trace = NULL;
	size_t trace_len = 0;
	struct s3_client *c;
	FILE *tf = open_memstream(&trace, &trace_len);

	cfg.trace = tf;
	c = client_with(&cfg);
	for (int i = 0; i < 25; i++) {
		snprintf(name, sizeof name, "list/k%02d", i);
		OK(s3_put(c, K(name), "abcdefghijklmnopqrstuvwxyz", (size_t)i, &err_));
	}
	OK(s3_put(c, K("listx/other"), "x", 1, &err_));
	fflush(tf);
	size_t mark = trace_len;
	snprintf(prefix, sizeof prefix, "%s/list/", run_prefix);
	OK(s3_list(c, prefix, 7, collect, &seen, &err_));
	fflush(tf);
	assert_int_equal(seen.n, 25);
	for (int i = 0; i < 25; i++) {
		char want[128];
		snprintf(want, sizeof want, "%s/list/k%02d", run_prefix, i);
		assert_string_equal(seen.keys[i], want);
		assert_int_equal(seen.sizes[i], (uint64_t)i);
	}
	assert_int_equal(count_lines(trace + mark, "> GET /"), 4);
	assert_int_equal(count_lines(trace + mark, "continuation-token="), 3);

	/* A callback's code stops the walk and comes back. */
	memset(&seen, 0, sizeof seen);
	seen.n = 30;
	struct dam_err err = { 0 };
	assert_int_equal(s3_list(c, prefix, 7, collect, &seen, &err), DAM_ELIMIT);

	for (int i = 0; i < 25; i++) {
		snprintf(name, sizeof name, "list/k%02d", i);
		OK(s3_delete(c, K(name), &err_));
	}
	OK(s3_delete(c, K("listx/other"), &err_));
	s3_client_free(c);
	fclose(tf);
	free(trace);
}

/* ---- multipart ---- */

static long status_kb(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, field, strlen(field)))
			v = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0). */
static void reset_peak_rss(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	assert_non_null(f);
	assert_int_equal(fputs("5", f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

struct pending_find {
	const char *key;
	int n;
};

static int find_pending(void *ctx, const struct s3_pending *p)
{
	struct pending_find *f = ctx;

	if (!strcmp(p->key, f->key))
		f->n++;
	return 0;
}

static int pending_count(struct s3_client *c, const char *key)
{
	struct pending_find f = { key, 0 };

	OK(s3_multipart_list(c, run_prefix, find_pending, &f, &err_));
	return f.n;
}

/* 20 MiB in 8 MiB parts streamed through s3_upload: the bytes arrive whole,
 * and the process never holds much more than one part. */
static void test_upload_multipart_bounded(void **state)
{
	struct s3_config cfg = base_config();
	const char *key = K("big");
	const uint64_t total = 20 * MIB + 12345;
	unsigned char chunk[64 << 10];
	struct s3_upload *u = NULL;
	struct s3_client *c;
	long base_kb, peak_kb;
	uint64_t size = 0;
	struct gen g;
	size_t n;

	cfg.part_size = 8 * MIB;
	c = client_with(&cfg);
	/* The connection and libcurl's buffers exist before the baseline. */
	assert_int_equal(s3_head(c, K("warm-up"), NULL, NULL), DAM_ENOTFOUND);
	gen_init(&g, 99, total);
	base_kb = status_kb("VmRSS:");
	reset_peak_rss();
	OK(s3_upload_begin(c, key, &u, &err_));
	while ((n = gen_fill(&g, chunk, sizeof chunk)) > 0)
		OK(s3_upload_write(u, chunk, n, &err_));
	assert_int_equal(s3_upload_size(u), total);
	OK(s3_upload_finish(u, &err_));
	peak_kb = status_kb("VmHWM:");
	print_message("upload of %" PRIu64 " bytes: peak RSS %ld KiB above the start\n", total,
		      peak_kb - base_kb);
	if (!getenv("DAM_TEST_VALGRIND"))
		assert_true(peak_kb - base_kb < (long)((8 * MIB + 3 * MIB) >> 10));

	OK(s3_head(c, key, &size, &err_));
	assert_int_equal(size, total);
	assert_object_hash(c, key, &g.sha, total);
	assert_int_equal(pending_count(c, key), 0);
	OK(s3_delete(c, key, &err_));
	s3_client_free(c);
}

/* Under one part: one PUT, no multipart upload. */
static void test_upload_small_single_put(void **state)
{
	struct s3_config cfg = base_config();
	char *trace = NULL;
	size_t trace_len = 0;
	FILE *tf = open_memstream(&trace, &trace_len);
	struct s3_upload *u = NULL;
	struct s3_client *c;
	void *got = NULL;
	size_t len = 0;

	cfg.trace = tf;
	c = client_with(&cfg);
	OK(s3_upload_begin(c, K("small"), &u, &err_));
	OK(s3_upload_write(u, "hello ", 6, &err_));
	OK(s3_upload_write(u, "world", 5, &err_));
	OK(s3_upload_finish(u, &err_));
	fflush(tf);
	assert_null(strstr(trace, "uploads"));
	assert_int_equal(count_lines(trace, "> PUT /"), 1);
	OK(s3_get(c, K("small"), 100, &got, &len, &err_));
	assert_int_equal(len, 11);
	assert_memory_equal(got, "hello world", 11);
	free(got);
	OK(s3_delete(c, K("small"), &err_));
	s3_client_free(c);
	fclose(tf);
	free(trace);
}

/* An upload abandoned after a part was sent leaves no object and no
 * unfinished upload; so does a step-by-step one. */
static void test_upload_abort(void **state)
{
	struct s3_config cfg = base_config();
	const char *key = K("aborted"), *key2 = K("aborted2");
	unsigned char chunk[64 << 10];
	struct s3_part part = { .number = 1 };
	struct s3_upload *u = NULL;
	struct dam_err err = { 0 };
	struct s3_client *c;
	char *id = NULL;
	struct gen g;
	size_t n;

	cfg.part_size = 5 * MIB;
	c = client_with(&cfg);
	gen_init(&g, 5, 6 * MIB);
	OK(s3_upload_begin(c, key, &u, &err_));
	while ((n = gen_fill(&g, chunk, sizeof chunk)) > 0)
		OK(s3_upload_write(u, chunk, n, &err_));
	assert_int_equal(pending_count(c, key), 1); /* the first part went out */
	s3_upload_abort(u);
	assert_int_equal(pending_count(c, key), 0);
	assert_int_equal(s3_head(c, key, NULL, &err), DAM_ENOTFOUND);

	OK(s3_multipart_create(c, key2, &id, &err_));
	OK(s3_multipart_put_part(c, key2, id, "abc", 3, &part, &err_));
	assert_true(part.etag[0] == '"');
	assert_int_equal(pending_count(c, key2), 1);
	OK(s3_multipart_abort(c, key2, id, &err_));
	assert_int_equal(pending_count(c, key2), 0);
	assert_int_equal(s3_head(c, key2, NULL, &err), DAM_ENOTFOUND);
	/* Completing an aborted upload fails (AWS: 404 NoSuchUpload; RGW 16
	 * answers 500) and makes no object. */
	assert_true(s3_multipart_complete(c, key2, id, &part, 1, &err) < 0);
	print_message("complete after abort: %s\n", err.msg);
	assert_non_null(strstr(err.msg, "s3: POST"));
	assert_int_equal(s3_head(c, key2, NULL, &err), DAM_ENOTFOUND);
	free(id);
	s3_client_free(c);
}

/* ---- copy ---- */

static void test_copy(void **state)
{
	struct s3_client *c = client();
	struct dam_err err = { 0 };
	void *got = NULL;
	size_t len = 0;

	OK(s3_put(c, K("tmp/src"), "copy me", 7, &err_));
	OK(s3_copy(c, K("tmp/src"), K("objects/ab/cd/dst"), 7, &err_));
	OK(s3_get(c, K("objects/ab/cd/dst"), 100, &got, &len, &err_));
	assert_int_equal(len, 7);
	assert_memory_equal(got, "copy me", 7);
	free(got);
	/* The source stays until deleted. */
	OK(s3_head(c, K("tmp/src"), NULL, &err_));
	assert_int_equal(s3_copy(c, K("no-such"), K("x"), UINT64_MAX, &err), DAM_ENOTFOUND);
	assert_int_equal(s3_copy(c, K("no-such"), K("x"), 10, &err), DAM_ENOTFOUND);
	OK(s3_delete(c, K("tmp/src"), &err_));
	OK(s3_delete(c, K("objects/ab/cd/dst"), &err_));
	s3_client_free(c);
}

/* Above copy_max the copy is a multipart upload of ranged GETs (5 GiB in
 * production; 5 MiB here so the path runs). */
static void test_copy_by_parts(void **state)
{
	struct s3_config cfg = base_config();
	const uint64_t total = 13 * MIB + 1;
	char *trace = NULL;
	size_t trace_len = 0;
	FILE *tf = open_memstream(&trace, &trace_len);
	struct s3_client *c;
	struct gen g;

	cfg.copy_max = 5 * MIB;
	cfg.part_size = 5 * MIB;
	cfg.trace = tf;
	c = client_with(&cfg);
	gen_init(&g, 1234, total);
	OK(s3_put_stream(c, K("bigsrc"), total, gen_read, &g, &err_));
	OK(s3_copy(c, K("bigsrc"), K("bigdst"), UINT64_MAX, &err_));
	fflush(tf);
	assert_int_equal(count_lines(trace, "> Range: bytes="), 3);
	assert_int_equal(count_lines(trace, "?partNumber="), 3);
	assert_object_hash(c, K("bigdst"), &g.sha, total);
	OK(s3_delete(c, K("bigsrc"), &err_));
	OK(s3_delete(c, K("bigdst"), &err_));
	s3_client_free(c);
	fclose(tf);
	free(trace);
}

/* ---- credentials and addressing ---- */

static void test_wrong_secret_refused(void **state)
{
	struct s3_config cfg = base_config();
	char wrong[256];
	struct dam_err err = { 0 };
	struct s3_client *c;

	snprintf(wrong, sizeof wrong, "%s", E.secret);
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	cfg.secret = wrong;
	c = client_with(&cfg);
	assert_int_equal(s3_put(c, K("refused"), "x", 1, &err), DAM_EPERM);
	print_message("wrong secret: %s\n", err.msg);
	assert_non_null(strstr(err.msg, "HTTP 403 SignatureDoesNotMatch"));
	assert_non_null(strstr(err.msg, "secret is wrong"));
	assert_null(strstr(err.msg, wrong));
	assert_null(strstr(err.msg, E.secret));
	assert_string_equal(err.field, "s3");
	/* HEAD answers carry no error document; the message still says why. */
	assert_int_equal(s3_head(c, K("refused"), NULL, &err), DAM_EPERM);
	assert_non_null(strstr(err.msg, "HTTP 403"));
	assert_non_null(strstr(err.msg, "wrong secret"));
	s3_client_free(c);

	/* Nothing was stored. */
	c = client();
	assert_int_equal(s3_head(c, K("refused"), NULL, &err), DAM_ENOTFOUND);
	s3_client_free(c);
}

static void test_secret_sources(void **state)
{
	struct s3_config cfg = base_config();
	char *dir = tu_tempdir(), path[512];
	struct s3_client *c = NULL;
	struct dam_err err = { 0 };
	FILE *f;

	/* From an environment variable. */
	cfg.secret = NULL;
	cfg.secret_env = "DAM_TEST_S3_SECRET";
	unsetenv("DAM_TEST_S3_SECRET");
	assert_int_equal(s3_client_new(&cfg, &c, &err), DAM_EINVAL);
	assert_non_null(strstr(err.msg, "DAM_TEST_S3_SECRET"));
	setenv("DAM_TEST_S3_SECRET", E.secret, 1);
	c = client_with(&cfg);
	OK(s3_put(c, K("from-env"), "e", 1, &err_));
	s3_client_free(c);
	unsetenv("DAM_TEST_S3_SECRET");

	/* From a private file, with a trailing newline. */
	cfg.secret_env = NULL;
	cfg.secret_file = path;
	snprintf(path, sizeof path, "%s/secret", dir);
	f = fopen(path, "w");
	fprintf(f, "%s\n", E.secret);
	fclose(f);
	chmod(path, 0600);
	c = client_with(&cfg);
	OK(s3_delete(c, K("from-env"), &err_));
	s3_client_free(c);

	/* A file others can read is refused, saying how to fix it. */
	chmod(path, 0644);
	assert_int_equal(s3_client_new(&cfg, &c, &err), DAM_EINVAL);
	assert_null(c);
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_null(strstr(err.msg, E.secret));
	chmod(path, 0640);
	assert_int_equal(s3_client_new(&cfg, &c, &err), DAM_EINVAL);

	/* Two sources at once are a mistake. */
	cfg.secret = E.secret;
	assert_int_equal(s3_client_new(&cfg, &c, &err), DAM_EINVAL);
	assert_non_null(strstr(err.msg, "exactly one"));
	tu_rmrf(dir);
	free(dir);
}

/* bucket.localhost:PORT/key (RGW with `rgw dns name = localhost`; libcurl
 * resolves *.localhost to the loopback itself). */
static void test_virtual_host(void **state)
{
	struct s3_config cfg = base_config();
	char endpoint[256], host_line[256], *trace = NULL;
	const char *port = strrchr(E.endpoint, ':');
	size_t trace_len = 0;
	FILE *tf = open_memstream(&trace, &trace_len);
	struct seen seen = { 0 };
	struct s3_client *c;
	void *got = NULL;
	size_t len = 0;
	char prefix[128];

	snprintf(endpoint, sizeof endpoint, "http://localhost%s", port);
	snprintf(host_line, sizeof host_line, "> Host: %s.localhost%s", E.bucket, port);
	cfg.endpoint = endpoint;
	cfg.virtual_host = true;
	cfg.trace = tf;
	c = client_with(&cfg);
	OK(s3_put(c, K("vhost/one"), "virtual", 7, &err_));
	OK(s3_get(c, K("vhost/one"), 100, &got, &len, &err_));
	assert_int_equal(len, 7);
	assert_memory_equal(got, "virtual", 7);
	free(got);
	snprintf(prefix, sizeof prefix, "%s/vhost/", run_prefix);
	OK(s3_list(c, prefix, 0, collect, &seen, &err_));
	assert_int_equal(seen.n, 1);
	fflush(tf);
	/* The bucket is in the host name, not the path. */
	assert_non_null(strstr(trace, host_line));
	assert_non_null(strstr(trace, "> PUT /t"));
	OK(s3_delete(c, K("vhost/one"), &err_));
	s3_client_free(c);
	fclose(tf);
	free(trace);
}

static void test_bucket_create(void **state)
{
	struct s3_config cfg = base_config();
	char bucket[64];
	struct s3_client *c;

	snprintf(bucket, sizeof bucket, "dam-b-%d", (int)getpid());
	cfg.bucket = bucket;
	c = client_with(&cfg);
	OK(s3_bucket_create(c, &err_));
	OK(s3_bucket_create(c, &err_)); /* already ours: fine */
	OK(s3_put(c, "k", "v", 1, &err_));
	OK(s3_head(c, "k", NULL, &err_));
	OK(s3_delete(c, "k", &err_));
	s3_client_free(c);

	/* A bucket that is not there is reported, also where a missing key
	 * would not be. */
	cfg.bucket = "dam-no-such-bucket";
	c = client_with(&cfg);
	struct dam_err err = { 0 };
	assert_int_equal(s3_delete(c, "k", &err), DAM_ENOTFOUND);
	assert_non_null(strstr(err.msg, "NoSuchBucket"));
	assert_non_null(strstr(err.msg, "the bucket does not exist"));
	assert_int_equal(s3_put(c, "k", "v", 1, &err), DAM_ENOTFOUND);
	s3_client_free(c);
}

/* The trace shows headers but never the secret or the Authorization. */
static void test_trace_redacted(void **state)
{
	struct s3_config cfg = base_config();
	char *trace = NULL;
	size_t trace_len = 0;
	FILE *tf = open_memstream(&trace, &trace_len);
	struct s3_client *c;

	cfg.trace = tf;
	c = client_with(&cfg);
	OK(s3_put(c, K("traced"), "t", 1, &err_));
	OK(s3_delete(c, K("traced"), &err_));
	fflush(tf);
	assert_non_null(strstr(trace, "> Authorization: [redacted]"));
	assert_non_null(strstr(trace, "x-amz-content-sha256: "));
	assert_null(strstr(trace, "Signature="));
	assert_null(strstr(trace, E.secret));
	s3_client_free(c);
	fclose(tf);
	free(trace);
}

static void test_config_errors(void **state)
{
	struct s3_config cfg = base_config();
	struct s3_client *c = NULL;
	struct dam_err err = { 0 };

	cfg.endpoint = "ftp://x";
	assert_int_equal(s3_client_new(&cfg, &c, &err), DAM_EINVAL);
	cfg = base_config();
	cfg.bucket = "Bad_Bucket";
	assert_int_equal(s3_client_new(&cfg, &c, &err), DAM_EINVAL);
	cfg = base_config();
	cfg.part_size = 1 * MIB;
	assert_int_equal(s3_client_new(&cfg, &c, &err), DAM_EINVAL);
	assert_non_null(strstr(err.msg, "part size"));
	assert_null(c);
	/* A server that is not there: a clear transport error, no hang. */
	cfg = base_config();
	cfg.endpoint = "http://127.0.0.1:1";
	c = client_with(&cfg);
	assert_int_equal(s3_head(c, "k", NULL, &err), DAM_EIO);
	assert_non_null(strstr(err.msg, "s3: HEAD"));
	s3_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* First, so the peak-RSS reading starts from a small process. */
		cmocka_unit_test(test_upload_multipart_bounded),
		cmocka_unit_test(test_put_get_head_delete),
		cmocka_unit_test(test_empty_object),
		cmocka_unit_test(test_put_stream),
		cmocka_unit_test(test_put_stream_sha256),
		cmocka_unit_test(test_put_stream_short),
		cmocka_unit_test(test_ranged_get),
		cmocka_unit_test(test_list_pages),
		cmocka_unit_test(test_upload_small_single_put),
		cmocka_unit_test(test_upload_abort),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_copy_by_parts),
		cmocka_unit_test(test_wrong_secret_refused),
		cmocka_unit_test(test_secret_sources),
		cmocka_unit_test(test_virtual_host),
		cmocka_unit_test(test_bucket_create),
		cmocka_unit_test(test_trace_redacted),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, load_env, NULL);
}

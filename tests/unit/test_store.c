#include "testutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <sys/stat.h>

#include <sodium.h>

#include "store/blob.h"
#include "store/s3.h"
#include "util/config.h"

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct fx {
	char *dir;
	struct blob_store *bs;
	struct s3_client *raw; /* S3 runs: the bucket, behind the store's back */
};

/*
 * The tests run on the fs backend, and again on the S3 backend when
 * DAM_TEST_S3_ENV names the s3.env of a running RADOS Gateway
 * (scripts/rgw.sh; tests/s3/run.sh starts one and sets it). Tests marked
 * fs-only look at files (modes, the local fd).
 */
static struct s3env {
	char endpoint[256], region[32], bucket[64], key_id[128], secret[256];
} S3;
static bool on_s3;

static void env_value(const char *line, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	if (!strncmp(line, name, n) && line[n] == '=')
		snprintf(out, cap, "%.*s", (int)strcspn(line + n + 1, "\r\n"), line + n + 1);
}

static void load_s3_env(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "test_store: cannot read DAM_TEST_S3_ENV %s\n", path);
		exit(1);
	}
	while (fgets(line, sizeof line, f)) {
		env_value(line, "S3_ENDPOINT", S3.endpoint, sizeof S3.endpoint);
		env_value(line, "S3_REGION", S3.region, sizeof S3.region);
		env_value(line, "S3_BUCKET", S3.bucket, sizeof S3.bucket);
		env_value(line, "S3_KEY_ID", S3.key_id, sizeof S3.key_id);
		env_value(line, "S3_SECRET", S3.secret, sizeof S3.secret);
	}
	fclose(f);
	/* The store reads the secret from a variable, as dam.conf's secret_env. */
	setenv("DAM_TEST_S3_SECRET", S3.secret, 1);
}

/* dam.conf's [store] for the test gateway; part_mb 5 so 5 MiB objects
 * take the multipart path. */
static void s3_conf(struct dam_config *cfg, const char *secret_env)
{
	config_defaults(cfg);
	snprintf(cfg->store_backend, sizeof cfg->store_backend, "s3");
	snprintf(cfg->s3_endpoint, sizeof cfg->s3_endpoint, "%s", S3.endpoint);
	snprintf(cfg->s3_region, sizeof cfg->s3_region, "%s", S3.region);
	snprintf(cfg->s3_bucket, sizeof cfg->s3_bucket, "%s", S3.bucket);
	snprintf(cfg->s3_key_id, sizeof cfg->s3_key_id, "%s", S3.key_id);
	snprintf(cfg->s3_secret_env, sizeof cfg->s3_secret_env, "%s", secret_env);
	cfg->s3_part_mb = 5;
}

static int empty_fn(void *ctx, const struct s3_object *o)
{
	return s3_delete(ctx, o->key, NULL);
}

static int abort_fn(void *ctx, const struct s3_pending *up)
{
	return s3_multipart_abort(ctx, up->key, up->upload_id, NULL);
}

/* Every test starts from an empty bucket. */
static void s3_empty(struct fx *f)
{
	struct s3_client *del;
	struct s3_config c = { .endpoint = S3.endpoint, .region = S3.region, .bucket = S3.bucket,
			       .key_id = S3.key_id, .secret_env = "DAM_TEST_S3_SECRET" };

	assert_int_equal(s3_client_new(&c, &del, NULL), 0);
	assert_int_equal(s3_list(f->raw, "", 0, empty_fn, del, NULL), 0);
	assert_int_equal(s3_multipart_list(f->raw, "", abort_fn, del, NULL), 0);
	s3_client_free(del);
}

static int open_store(struct fx *f, struct blob_store **bs)
{
	struct dam_config cfg;
	struct dam_err err;
	int rc;

	if (!on_s3)
		return blob_store_open(f->dir, "fs", bs, &err);
	s3_conf(&cfg, "DAM_TEST_S3_SECRET");
	if ((rc = blob_store_open_config(f->dir, &cfg, bs, &err)) < 0)
		fprintf(stderr, "test_store: %s\n", err.msg);
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	f->dir = tu_tempdir();
	if (on_s3) {
		struct s3_config c = { .endpoint = S3.endpoint, .region = S3.region,
				       .bucket = S3.bucket, .key_id = S3.key_id,
				       .secret_env = "DAM_TEST_S3_SECRET" };
		assert_int_equal(s3_client_new(&c, &f->raw, NULL), 0);
		s3_empty(f);
	}
	assert_int_equal(open_store(f, &f->bs), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	blob_store_free(f->bs);
	if (f->raw) {
		s3_empty(f);
		s3_client_free(f->raw);
	}
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static char *object_path(struct fx *f, const char *key)
{
	char *p = malloc(4200);

	if (on_s3)
		snprintf(p, 4200, "objects/%.2s/%.2s/%s", key, key + 2, key);
	else
		snprintf(p, 4200, "%s/objects/%.2s/%.2s/%s", f->dir, key, key + 2, key);
	return p;
}

/* Size of the object behind the store's back (file or bucket object). */
static uint64_t stored_size(struct fx *f, const char *key)
{
	char *p = object_path(f, key);
	uint64_t size = 0;
	struct stat st;

	if (on_s3) {
		assert_int_equal(s3_head(f->raw, p, &size, NULL), 0);
	} else {
		assert_int_equal(stat(p, &st), 0);
		size = (uint64_t)st.st_size;
	}
	free(p);
	return size;
}

static int count_each(void *ctx, const char *key, uint64_t size)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_put_mem_known_hash_and_layout(void **state)
{
	struct fx *f = *state;
	char key[65];
	bool existed = true;

	assert_int_equal(blob_put_mem(f->bs, "abc", 3, key, &existed, NULL), 0);
	assert_string_equal(key, ABC_SHA256);
	assert_false(existed);
	assert_int_equal(stored_size(f, key), 3);
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return (unsigned)st.st_mode & 07777;
}

/* With the usual umask 022, the store keeps everything its owner's:
 * folders 0700, objects 0400, upload partials 0600. */
static void test_private_modes(void **state)
{
	struct fx *f = *state;
	char key[65], dir[4200], *p;
	mode_t old = umask(022);
	struct dam_err err;

	blob_store_free(f->bs);
	tu_rmrf(f->dir);
	assert_int_equal(blob_store_open(f->dir, "fs", &f->bs, &err), 0);
	assert_int_equal(blob_put_mem(f->bs, "private", 7, key, NULL, NULL), 0);
	assert_int_equal(blob_partial_create(f->bs, "u1", &err), 0);
	p = object_path(f, key);
	assert_int_equal(mode_of(p), 0400);
	snprintf(dir, sizeof dir, "%s/objects/%.2s/%.2s", f->dir, key, key + 2);
	assert_int_equal(mode_of(dir), 0700);
	snprintf(dir, sizeof dir, "%s/objects/%.2s", f->dir, key);
	assert_int_equal(mode_of(dir), 0700);
	snprintf(dir, sizeof dir, "%s/objects/tmp", f->dir);
	assert_int_equal(mode_of(dir), 0700);
	snprintf(dir, sizeof dir, "%s/objects/tmp/part-u1", f->dir);
	assert_int_equal(mode_of(dir), 0600);
	snprintf(dir, sizeof dir, "%s/objects", f->dir);
	assert_int_equal(mode_of(dir), 0700);
	umask(old);
	free(p);
}

static void test_dedup(void **state)
{
	struct fx *f = *state;
	char k1[65], k2[65];
	bool existed;
	int n = 0;

	assert_int_equal(blob_put_mem(f->bs, "same bytes", 10, k1, &existed, NULL), 0);
	assert_false(existed);
	assert_int_equal(blob_put_mem(f->bs, "same bytes", 10, k2, &existed, NULL), 0);
	assert_true(existed);
	assert_string_equal(k1, k2);
	assert_int_equal(blob_each(f->bs, count_each, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(blob_count_temp(f->bs, NULL), 0); /* the second copy left nothing */
}

static void test_streaming_writer_and_read_back(void **state)
{
	struct fx *f = *state;
	struct blob_writer *w;
	struct blob_reader *r;
	char key[65], buf[16];

	assert_int_equal(blob_writer_new(f->bs, &w, NULL), 0);
	assert_int_equal(blob_writer_write(w, "a", 1, NULL), 0);
	assert_int_equal(blob_writer_write(w, "bc", 2, NULL), 0);
	assert_int_equal(blob_writer_size(w), 3);
	/* Not visible before commit. */
	assert_int_equal(blob_stat(f->bs, ABC_SHA256, NULL, NULL), DAM_ENOTFOUND);
	/* fs streams into a temp file; S3 holds an object under one part in
	 * memory and PUTs it at commit. */
	assert_int_equal(blob_count_temp(f->bs, NULL), on_s3 ? 0 : 1);
	assert_int_equal(blob_writer_commit(w, key, NULL, NULL), 0);
	assert_string_equal(key, ABC_SHA256);
	assert_int_equal(blob_count_temp(f->bs, NULL), 0);
	assert_int_equal(blob_reader_open(f->bs, key, &r, NULL), 0);
	assert_int_equal(blob_reader_size(r), 3);
	assert_int_equal(blob_reader_read(r, buf, sizeof buf, NULL), 3);
	assert_memory_equal(buf, "abc", 3);
	blob_reader_free(r);
	assert_int_equal(blob_verify(f->bs, key, NULL), 0);
}

static void test_abort_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct blob_writer *w;
	int n = 0;

	assert_int_equal(blob_writer_new(f->bs, &w, NULL), 0);
	assert_int_equal(blob_writer_write(w, "partial", 7, NULL), 0);
	blob_writer_abort(w);
	assert_int_equal(blob_count_temp(f->bs, NULL), 0);
	assert_int_equal(blob_each(f->bs, count_each, &n, NULL), 0);
	assert_int_equal(n, 0);
}

static void test_put_fd_large_and_hash_fd(void **state)
{
	struct fx *f = *state;
	char path[4200], k1[65], k2[65];
	size_t len = 3 * 1024 * 1024 + 17;
	char *data = malloc(len);
	uint64_t size;
	int fd;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 31 + (i >> 11));
	snprintf(path, sizeof path, "%s/big.bin", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(blob_hash_fd(fd, k1, &size, NULL), 0);
	assert_int_equal(size, len);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(blob_put_fd(f->bs, fd, k2, &size, NULL, NULL), 0);
	assert_string_equal(k1, k2);
	assert_int_equal(size, len);
	close(fd);
	free(data);
}

static void test_verify_detects_damage_and_missing(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	char key[65], *p;
	int fd;

	assert_int_equal(blob_put_mem(f->bs, "precious", 8, key, NULL, NULL), 0);
	p = object_path(f, key);
	if (on_s3) {
		assert_int_equal(s3_put(f->raw, p, "Xrecious", 8, NULL), 0);
	} else {
		chmod(p, 0644);
		fd = open(p, O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "X", 1, 0), 1);
		close(fd);
	}
	assert_int_equal(blob_verify(f->bs, key, &err), DAM_EDAMAGED);
	assert_non_null(strstr(err.msg, "damaged"));
	assert_int_equal(blob_delete(f->bs, key, NULL), 0);
	assert_int_equal(blob_verify(f->bs, key, NULL), DAM_ENOTFOUND);
	assert_int_equal(blob_delete(f->bs, key, NULL), 0); /* absent is fine */
	free(p);
}

static void test_bad_keys_refused(void **state)
{
	struct fx *f = *state;
	struct blob_reader *r;

	assert_false(blob_key_valid("../../etc/passwd"));
	assert_false(blob_key_valid(ABC_SHA256 "0"));
	assert_false(blob_key_valid("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	assert_int_equal(blob_reader_open(f->bs, "../../etc/passwd", &r, NULL), DAM_EINVAL);
	assert_null(r);
}

static void test_clean_temp_removes_stale(void **state)
{
	struct fx *f = *state;
	struct blob_writer *w;

	/* A writer that never finishes, as after kill -9 (on S3 one past a
	 * part, so its multipart upload has started). */
	size_t n = on_s3 ? (5u << 20) + 1 : 1;
	unsigned char *b = calloc(1, n);

	assert_int_equal(blob_writer_new(f->bs, &w, NULL), 0);
	assert_int_equal(blob_writer_write(w, b, n, NULL), 0);
	free(b);
	assert_int_equal(blob_count_temp(f->bs, NULL), 1);
	assert_int_equal(blob_clean_temp(f->bs, 3600, NULL), 0); /* too young */
	assert_int_equal(blob_clean_temp(f->bs, 0, NULL), 1);
	assert_int_equal(blob_count_temp(f->bs, NULL), 0);
	blob_writer_abort(w);
}

/* Deterministic test bytes. */
static unsigned char *pattern(size_t n)
{
	unsigned char *b = malloc(n);

	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(i * 131 + (i >> 9));
	return b;
}

static void whole_hash(const unsigned char *b, size_t n, char out[65])
{
	unsigned char d[32];

	crypto_hash_sha256(d, b, n);
	sodium_bin2hex(out, 65, d, 32);
}

/* The saved state, split at awkward places (inside a block, on a block
 * edge, large runs) and saved/loaded between pieces, gives the plain hash. */
static void test_hash_state_resumes(void **state)
{
	size_t n = 3 * 1000003, cuts[] = { 0, 1, 63, 64, 65, 1000, 1 << 20, 2000001, n };
	unsigned char *b = pattern(n), st[BLOB_HASH_STATE_SIZE], saved[BLOB_HASH_STATE_SIZE];
	char want[65], got[65];

	whole_hash(b, n, want);
	blob_hash_state_init(st);
	for (size_t i = 0; i + 1 < sizeof cuts / sizeof cuts[0]; i++) {
		memcpy(saved, st, sizeof st);
		memset(st, 0xee, sizeof st);
		assert_int_equal(blob_hash_state_load(saved, sizeof saved, st, NULL), 0);
		blob_hash_state_update(st, b + cuts[i], cuts[i + 1] - cuts[i]);
	}
	blob_hash_state_final(st, got);
	assert_string_equal(got, want);
	/* Empty input. */
	blob_hash_state_init(st);
	blob_hash_state_final(st, got);
	assert_string_equal(got, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	free(b);
}

/* A version 1 state (libsodium's struct, what dam saved before) converts,
 * and hashing goes on to the right digest. */
static void test_hash_state_v1_converts(void **state)
{
	size_t n = 500000, splits[] = { 0, 1, 64, 100, 4097, 333333 };
	unsigned char *b = pattern(n), st[BLOB_HASH_STATE_SIZE], junk[50] = { 0 };
	char want[65], got[65];
	struct dam_err err;

	whole_hash(b, n, want);
	for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++) {
		crypto_hash_sha256_state v1;
		crypto_hash_sha256_init(&v1);
		crypto_hash_sha256_update(&v1, b, splits[i]);
		assert_int_equal(sizeof v1, BLOB_HASH_STATE_V1_SIZE);
		assert_int_equal(blob_hash_state_load(&v1, sizeof v1, st, NULL), 0);
		blob_hash_state_update(st, b + splits[i], n - splits[i]);
		blob_hash_state_final(st, got);
		assert_string_equal(got, want);
	}
	assert_int_equal(blob_hash_state_load(junk, sizeof junk, st, &err), DAM_EDAMAGED);
	memset(st, 0, sizeof st); /* the right size without the tag */
	assert_int_equal(blob_hash_state_load(st, sizeof st, st, &err), DAM_EDAMAGED);
	free(b);
}

/* Appends hash as they write; bytes left past the recorded offset by a
 * crashed append are cut off; a short object is damage. */
static void test_partial_append_at(void **state)
{
	struct fx *f = *state;
	struct blob_partial *p;
	unsigned char *b = pattern(3 << 20), st[BLOB_HASH_STATE_SIZE];
	char want[65], got[65], path[4200];
	struct dam_err err;
	bool existed;
	int fd;

	whole_hash(b, 3 << 20, want);
	assert_int_equal(blob_partial_create(f->bs, "up-1", NULL), 0);
	blob_hash_state_init(st);
	assert_int_equal(blob_partial_open_append(f->bs, "up-1", &p, NULL), 0);
	assert_int_equal(blob_partial_append_at(p, 0, b, 1500000, st, NULL), 0);
	blob_partial_close(p);
	/* A crashed append left junk after the recorded 1500000 bytes. */
	if (on_s3) {
		snprintf(path, sizeof path, "partial/up-1/p/%020d", 1500000);
		assert_int_equal(s3_put(f->raw, path, "junk", 4, NULL), 0);
	} else {
		snprintf(path, sizeof path, "%s/objects/tmp/part-up-1", f->dir);
		fd = open(path, O_WRONLY | O_APPEND);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "junk", 4), 4);
		close(fd);
	}
	assert_int_equal(blob_partial_open_append(f->bs, "up-1", &p, NULL), 0);
	assert_int_equal(blob_partial_append_at(p, 1500000, b + 1500000, (3 << 20) - 1500000, st, NULL), 0);
	/* Claiming more than is stored is damage, and changes nothing. */
	assert_int_equal(blob_partial_append_at(p, (3 << 20) + 10, b, 10, st, &err), DAM_EDAMAGED);
	blob_partial_close(p);
	blob_hash_state_final(st, got);
	assert_string_equal(got, want);
	assert_int_equal(blob_partial_commit(f->bs, "up-1", got, &existed, NULL), 0);
	assert_false(existed);
	assert_int_equal(blob_verify(f->bs, got, NULL), 0);
	assert_int_equal(blob_partial_open_append(f->bs, "nope", &p, &err), DAM_ENOTFOUND);
	free(b);
}

/* ---- readers ---- */

#define BIG ((1u << 20) + 333) /* more than one copy chunk, not a round size */

/* Stores pattern(BIG) and returns its bytes (caller frees); key filled. */
static unsigned char *put_big(struct fx *f, char key[65])
{
	unsigned char *b = pattern(BIG);

	assert_int_equal(blob_put_mem(f->bs, b, BIG, key, NULL, NULL), 0);
	return b;
}

/* Sequential reads in odd-sized steps give back exactly the bytes, then 0. */
static void test_reader_read_sequential(void **state)
{
	struct fx *f = *state;
	char key[65];
	unsigned char *b = put_big(f, key), *got = malloc(BIG + 100);
	struct blob_reader *r;
	size_t done = 0;
	ssize_t n;

	assert_int_equal(blob_reader_open(f->bs, key, &r, NULL), 0);
	assert_int_equal(blob_reader_size(r), BIG);
	while ((n = blob_reader_read(r, got + done, 70001, NULL)) > 0)
		done += (size_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(done, BIG);
	assert_memory_equal(got, b, BIG);
	assert_int_equal(blob_reader_read(r, got, 10, NULL), 0); /* stays at the end */
	blob_reader_free(r);
	free(got);
	free(b);
}

/* pread: any offset, short only at the end, 0 at or past it, and it does
 * not move the sequential position. */
static void test_reader_pread(void **state)
{
	struct fx *f = *state;
	char key[65];
	unsigned char *b = put_big(f, key), buf[4096];
	struct blob_reader *r;

	assert_int_equal(blob_reader_open(f->bs, key, &r, NULL), 0);
	assert_int_equal(blob_reader_pread(r, buf, 4096, 500000, NULL), 4096);
	assert_memory_equal(buf, b + 500000, 4096);
	assert_int_equal(blob_reader_pread(r, buf, 4096, BIG - 100, NULL), 100);
	assert_memory_equal(buf, b + BIG - 100, 100);
	assert_int_equal(blob_reader_pread(r, buf, 4096, BIG, NULL), 0);
	assert_int_equal(blob_reader_pread(r, buf, 4096, (uint64_t)BIG * 10, NULL), 0);
	assert_int_equal(blob_reader_pread(r, buf, 0, 0, NULL), 0);
	assert_int_equal(blob_reader_read(r, buf, 16, NULL), 16);
	assert_memory_equal(buf, b, 16);
	blob_reader_free(r);
	free(b);
}

static void test_reader_empty_and_missing(void **state)
{
	struct fx *f = *state;
	struct blob_reader *r = NULL;
	struct dam_err err = { 0 };
	char key[65], buf[8];

	assert_int_equal(blob_put_mem(f->bs, "", 0, key, NULL, NULL), 0);
	assert_int_equal(blob_reader_open(f->bs, key, &r, NULL), 0);
	assert_int_equal(blob_reader_size(r), 0);
	assert_int_equal(blob_reader_read(r, buf, sizeof buf, NULL), 0);
	blob_reader_free(r);
	assert_int_equal(blob_reader_open(f->bs, ABC_SHA256, &r, &err), DAM_ENOTFOUND);
	assert_null(r);
	assert_non_null(strstr(err.msg, "missing"));
	blob_reader_free(NULL);
}

/* The fs fast path: a borrowed fd of the object itself, and a dup of it. */
static void test_reader_local_fd(void **state)
{
	struct fx *f = *state;
	char key[65], *path;
	unsigned char *b = put_big(f, key), buf[64];
	struct blob_reader *r;
	struct stat a, c;
	int fd;

	assert_int_equal(blob_reader_open(f->bs, key, &r, NULL), 0);
	fd = blob_reader_local_fd(r);
	assert_true(fd >= 0);
	path = object_path(f, key);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(fstat(fd, &c), 0);
	assert_int_equal(a.st_ino, c.st_ino);
	assert_int_equal(blob_reader_local_file(r, &fd, NULL), 0);
	assert_int_not_equal(fd, blob_reader_local_fd(r));
	assert_int_equal(fstat(fd, &c), 0);
	assert_int_equal(a.st_ino, c.st_ino); /* a dup, not a copy */
	blob_reader_free(r);
	assert_int_equal(pread(fd, buf, sizeof buf, 1000), (ssize_t)sizeof buf); /* outlives the reader */
	assert_memory_equal(buf, b + 1000, sizeof buf);
	close(fd);
	free(path);
	free(b);
}

/* With the fd hidden (as on an object store) callers get -1 and the
 * fallback: a spooled, unlinked copy with the same bytes, at offset 0,
 * leaving nothing behind in the store. */
static void test_reader_hidden_fd_fallback(void **state)
{
	struct fx *f = *state;
	struct blob_store *hidden;
	struct blob_reader *r;
	char key[65], *path;
	unsigned char *b = put_big(f, key), *got = malloc(BIG);
	uint64_t size = 0;
	struct stat a, c;
	int fd;

	setenv("DAM_STORE_NO_LOCAL_FD", "1", 1);
	assert_int_equal(open_store(f, &hidden), 0);
	unsetenv("DAM_STORE_NO_LOCAL_FD");
	assert_false(blob_store_local_files(hidden));
	assert_int_equal(blob_reader_open(hidden, key, &r, NULL), 0);
	assert_int_equal(blob_reader_local_fd(r), -1);
	assert_int_equal(blob_reader_local_file(r, &fd, NULL), 0);
	blob_reader_free(r);
	path = object_path(f, key);
	assert_int_equal(fstat(fd, &c), 0);
	if (!on_s3) {
		assert_int_equal(stat(path, &a), 0);
		assert_int_not_equal(a.st_ino, c.st_ino); /* a copy */
	}
	assert_int_equal(c.st_nlink, 0);          /* already unlinked */
	assert_int_equal(read(fd, got, BIG), (ssize_t)BIG);
	assert_memory_equal(got, b, BIG);
	close(fd);
	assert_int_equal(blob_local_file(hidden, key, &fd, &size, NULL), 0);
	assert_int_equal(size, BIG);
	assert_int_equal(pread(fd, got, BIG, 0), (ssize_t)BIG);
	assert_memory_equal(got, b, BIG);
	close(fd);
	assert_int_equal(blob_count_temp(hidden, NULL), 0);
	assert_int_equal(blob_local_file(hidden, ABC_SHA256, &fd, NULL, NULL), DAM_ENOTFOUND);
	assert_int_equal(fd, -1);
	/* the store opened without the variable still offers its fd (fs) */
	assert_true(blob_store_local_files(f->bs) == !on_s3);
	assert_int_equal(blob_reader_open(f->bs, key, &r, NULL), 0);
	assert_true(on_s3 ? blob_reader_local_fd(r) == -1 : blob_reader_local_fd(r) >= 0);
	blob_reader_free(r);
	blob_store_free(hidden);
	free(path);
	free(got);
	free(b);
}

/* A reader over a caller's own file borrows its fd. */
/* blob_reader_open_local: a reader with a local fd on every backend (the
 * store's file on fs, a spooled copy on S3), the blob's bytes, and the
 * copy gone with the reader. */
static void test_reader_open_local(void **state)
{
	struct fx *f = *state;
	char key[65], missing[65];
	unsigned char *b = put_big(f, key), *got = malloc(BIG);
	struct blob_reader *r;

	assert_int_equal(blob_reader_open_local(f->bs, key, &r, NULL), 0);
	assert_true(blob_reader_local_fd(r) >= 0);
	assert_int_equal(blob_reader_size(r), BIG);
	assert_int_equal(blob_reader_pread(r, got, BIG, 0, NULL), (ssize_t)BIG);
	assert_memory_equal(got, b, BIG);
	assert_int_equal(blob_reader_pread(r, got, 100, BIG - 50, NULL), 50);
	assert_memory_equal(got, b + BIG - 50, 50);
	blob_reader_free(r);
	assert_int_equal(blob_count_temp(f->bs, NULL), 0);
	memset(missing, 'a', 64);
	missing[64] = '\0';
	assert_int_equal(blob_reader_open_local(f->bs, missing, &r, NULL), DAM_ENOTFOUND);
	assert_null(r);
	free(got);
	free(b);
}

static void test_reader_from_fd(void **state)
{
	struct fx *f = *state;
	struct blob_reader *r;
	char path[4200], buf[8];
	int fd;

	snprintf(path, sizeof path, "%s/plain", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	assert_int_equal(blob_reader_from_fd(fd, &r, NULL), 0);
	assert_int_equal(blob_reader_size(r), 10);
	assert_int_equal(blob_reader_local_fd(r), fd);
	assert_int_equal(blob_reader_pread(r, buf, 8, 6, NULL), 4);
	assert_memory_equal(buf, "6789", 4);
	blob_reader_free(r);
	assert_true(fcntl(fd, F_GETFD) >= 0); /* still open */
	close(fd);
}

/* Scratch files are local files the caller writes by path; one left
 * behind is a temp object that blob_clean_temp sweeps. */
static void test_scratch(void **state)
{
	struct fx *f = *state;
	char *path = NULL, key[65];
	uint64_t size = 0;
	int fd;

	assert_int_equal(blob_scratch_new(f->bs, &path, NULL), 0);
	assert_non_null(path);
	assert_int_equal(blob_count_temp(f->bs, NULL), 1);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(blob_put_fd(f->bs, fd, key, &size, NULL, NULL), 0);
	assert_string_equal(key, ABC_SHA256);
	assert_int_equal(size, 3);
	close(fd);
	blob_scratch_discard(f->bs, path);
	assert_int_equal(blob_count_temp(f->bs, NULL), 0);
	blob_scratch_discard(f->bs, NULL);
}

/* A partial object's bytes so far can be read (sniffed) before commit. */
static void test_partial_reader(void **state)
{
	struct fx *f = *state;
	struct blob_partial *p;
	struct blob_reader *r = NULL;
	unsigned char st[BLOB_HASH_STATE_SIZE];
	char buf[16];

	assert_int_equal(blob_partial_create(f->bs, "up-2", NULL), 0);
	assert_int_equal(blob_partial_create(f->bs, "up-2", NULL), DAM_EEXIST);
	blob_hash_state_init(st);
	assert_int_equal(blob_partial_open_append(f->bs, "up-2", &p, NULL), 0);
	assert_int_equal(blob_partial_append_at(p, 0, "hello", 5, st, NULL), 0);
	blob_partial_close(p);
	assert_int_equal(blob_partial_reader_open(f->bs, "up-2", &r, NULL), 0);
	assert_int_equal(blob_reader_size(r), 5);
	assert_int_equal(blob_reader_read(r, buf, sizeof buf, NULL), 5);
	assert_memory_equal(buf, "hello", 5);
	blob_reader_free(r);
	assert_int_equal(blob_partial_reader_open(f->bs, "nope", &r, NULL), DAM_ENOTFOUND);
	assert_int_equal(blob_partial_reader_open(f->bs, "../x", &r, NULL), DAM_EINVAL);
	assert_int_equal(blob_partial_delete(f->bs, "up-2", NULL), 0);
	assert_int_equal(blob_partial_reader_open(f->bs, "up-2", &r, NULL), DAM_ENOTFOUND);
}

/* ---- S3 only ---- */

/* Above one part the writer streams a multipart upload to tmp/, copies it
 * under its key at commit and drops the temp; the bytes come back whole,
 * and a second copy of them is found by HEAD and stores nothing. */
static void test_s3_large_multipart(void **state)
{
	struct fx *f = *state;
	size_t n = (11u << 20) + 5;
	unsigned char *b = pattern(n), *got = malloc(n);
	char key[65], want[65];
	struct blob_writer *w;
	struct blob_reader *r;
	bool existed = true;

	whole_hash(b, n, want);
	assert_int_equal(blob_writer_new(f->bs, &w, NULL), 0);
	for (size_t off = 0; off < n; off += 1000003)
		assert_int_equal(blob_writer_write(w, b + off, n - off < 1000003 ? n - off : 1000003, NULL), 0);
	assert_int_equal(blob_count_temp(f->bs, NULL), 1); /* the upload in flight */
	assert_int_equal(blob_writer_commit(w, key, &existed, NULL), 0);
	assert_false(existed);
	assert_string_equal(key, want);
	assert_int_equal(blob_count_temp(f->bs, NULL), 0);
	assert_int_equal(stored_size(f, key), n);
	assert_int_equal(blob_reader_open(f->bs, key, &r, NULL), 0);
	assert_int_equal(blob_reader_pread(r, got, n, 0, NULL), (ssize_t)n);
	assert_memory_equal(got, b, n);
	blob_reader_free(r);
	assert_int_equal(blob_put_mem(f->bs, b, n, key, &existed, NULL), 0);
	assert_true(existed);
	assert_int_equal(blob_count_temp(f->bs, NULL), 0);
	free(got);
	free(b);
}

static int etag_of(void *ctx, const struct s3_object *o)
{
	snprintf(ctx, 200, "%s", o->etag);
	return 0;
}

/* A local file larger than a part (put_fd: ingest's originals, the
 * masters) goes up as one PUT straight under its key, signed with its
 * hash: no multipart upload (whose ETag ends in "-<parts>"), no temp
 * object, nothing left in flight. */
static void test_s3_put_fd_one_request(void **state)
{
	struct fx *f = *state;
	size_t n = (11u << 20) + 5;
	unsigned char *b = pattern(n);
	char path[4200], key[65], want[65], etag[200] = "", *obj;
	bool existed = true;
	uint64_t size = 0;
	int fd;

	whole_hash(b, n, want);
	snprintf(path, sizeof path, "%s/big.bin", f->dir);
	assert_true((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(blob_put_fd(f->bs, fd, key, &size, &existed, NULL), 0);
	assert_string_equal(key, want);
	assert_int_equal(size, n);
	assert_false(existed);
	assert_int_equal(stored_size(f, key), n);
	obj = object_path(f, key);
	assert_int_equal(s3_list(f->raw, obj, 0, etag_of, etag, NULL), 0);
	assert_non_null(strchr(etag, '"'));
	assert_null(strchr(etag, '-'));
	assert_int_equal(blob_count_temp(f->bs, NULL), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0); /* again: found, nothing sent */
	assert_int_equal(blob_put_fd(f->bs, fd, key, &size, &existed, NULL), 0);
	assert_true(existed);
	close(fd);
	free(obj);
	free(b);
}

struct pread_job {
	struct blob_reader *r;
	const unsigned char *b;
	int bad;
};

static void *pread_main(void *arg)
{
	struct pread_job *j = arg;
	unsigned char buf[8192];

	for (uint64_t off = 0; off + sizeof buf < BIG; off += 99991)
		if (blob_reader_pread(j->r, buf, sizeof buf, off, NULL) != (ssize_t)sizeof buf ||
		    memcmp(buf, j->b + off, sizeof buf))
			j->bad++;
	return NULL;
}

/* One reader, preads on four threads at once (each borrows a client). */
static void test_s3_pread_threads(void **state)
{
	struct fx *f = *state;
	char key[65];
	unsigned char *b = put_big(f, key);
	struct pread_job j[4];
	pthread_t t[4];
	struct blob_reader *r;

	assert_int_equal(blob_reader_open(f->bs, key, &r, NULL), 0);
	for (int i = 0; i < 4; i++) {
		j[i] = (struct pread_job){ r, b, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, pread_main, &j[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(j[i].bad, 0);
	}
	blob_reader_free(r);
	free(b);
}

/* A second appender (another node) waits for the lock, then is refused;
 * after close it gets in. */
static void test_s3_partial_lock(void **state)
{
	struct fx *f = *state;
	struct blob_store *other;
	struct blob_partial *p, *q = NULL;
	struct dam_err err = { 0 };

	assert_int_equal(blob_partial_create(f->bs, "up-3", NULL), 0);
	setenv("DAM_S3_LOCK_WAIT_MS", "300", 1);
	assert_int_equal(open_store(f, &other), 0);
	unsetenv("DAM_S3_LOCK_WAIT_MS");
	assert_int_equal(blob_partial_open_append(f->bs, "up-3", &p, NULL), 0);
	assert_int_equal(blob_partial_open_append(other, "up-3", &q, &err), DAM_ECONFLICT);
	assert_null(q);
	blob_partial_close(p);
	assert_int_equal(blob_partial_open_append(other, "up-3", &q, NULL), 0);
	blob_partial_close(q);
	blob_store_free(other);
}

/* A lock left by an appender that died (older than two minutes) is
 * broken by the next one; a fresh one is not. */
static void test_s3_stale_lock(void **state)
{
	struct fx *f = *state;
	struct blob_partial *p = NULL;
	char old[32];

	assert_int_equal(blob_partial_create(f->bs, "up-4", NULL), 0);
	snprintf(old, sizeof old, "%lld\n", (long long)time(NULL) - 600);
	assert_int_equal(s3_put(f->raw, "partial/up-4/lock", old, strlen(old), NULL), 0);
	assert_int_equal(blob_partial_open_append(f->bs, "up-4", &p, NULL), 0);
	blob_partial_close(p);
	snprintf(old, sizeof old, "%lld\n", (long long)time(NULL));
	assert_int_equal(s3_put(f->raw, "partial/up-4/lock", old, strlen(old), NULL), 0);
	setenv("DAM_S3_LOCK_WAIT_MS", "200", 1);
	blob_store_free(f->bs);
	assert_int_equal(open_store(f, &f->bs), 0);
	unsetenv("DAM_S3_LOCK_WAIT_MS");
	assert_int_equal(blob_partial_open_append(f->bs, "up-4", &p, NULL), DAM_ECONFLICT);
}

/* A wrong secret: the store does not open, and says why. */
static void test_s3_wrong_secret(void **state)
{
	struct fx *f = *state;
	struct blob_store *bs = NULL;
	struct dam_config cfg;
	struct dam_err err = { 0 };

	setenv("DAM_TEST_S3_WRONG", "not-the-secret", 1);
	s3_conf(&cfg, "DAM_TEST_S3_WRONG");
	assert_int_equal(blob_store_open_config(f->dir, &cfg, &bs, &err), DAM_EPERM);
	assert_null(bs);
	assert_non_null(strstr(err.msg, "SignatureDoesNotMatch"));
	assert_null(strstr(err.msg, "not-the-secret"));
}

/* The readiness probe's check: answers on an empty store and on one with
 * objects (S3: a listing that stops at its first key); on fs, a store
 * whose objects folder is gone fails, naming the folder but not its path,
 * and answers again once it is back. */
static void test_store_check(void **state)
{
	struct fx *f = *state;
	char key[BLOB_KEY_LEN + 1], a[4200], b[4200];
	struct dam_err err = { 0 };

	assert_int_equal(blob_store_check(f->bs, &err), 0);
	assert_int_equal(blob_put_mem(f->bs, "abc", 3, key, NULL, NULL), 0);
	assert_int_equal(blob_store_check(f->bs, &err), 0);
	if (on_s3)
		return;
	snprintf(a, sizeof a, "%s/objects", f->dir);
	snprintf(b, sizeof b, "%s/objects.away", f->dir);
	assert_int_equal(rename(a, b), 0);
	assert_true(blob_store_check(f->bs, &err) < 0);
	assert_non_null(strstr(err.msg, "objects folder is not reachable"));
	assert_null(strstr(err.msg, f->dir));
	assert_int_equal(rename(b, a), 0);
	assert_int_equal(blob_store_check(f->bs, &err), 0);
}

int main(void)
{
	const struct CMUnitTest both[] = {
		cmocka_unit_test_setup_teardown(test_store_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_mem_known_hash_and_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streaming_writer_and_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_fd_large_and_hash_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_detects_damage_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_temp_removes_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_append_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_read_sequential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_pread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_empty_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_hidden_fd_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_open_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_reader, setup, teardown),
	};
	const struct CMUnitTest fs_only[] = {
		cmocka_unit_test_setup_teardown(test_private_modes, setup, teardown),
		cmocka_unit_test(test_hash_state_resumes),
		cmocka_unit_test(test_hash_state_v1_converts),
		cmocka_unit_test_setup_teardown(test_reader_local_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_from_fd, setup, teardown),
	};
	const struct CMUnitTest s3_only[] = {
		cmocka_unit_test_setup_teardown(test_s3_large_multipart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s3_put_fd_one_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s3_pread_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s3_partial_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s3_stale_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s3_wrong_secret, setup, teardown),
	};
	const char *env = getenv("DAM_TEST_S3_ENV");
	int failed;

	if (!env || !*env)
		return cmocka_run_group_tests_name("fs", both, NULL, NULL) |
		       cmocka_run_group_tests_name("fs only", fs_only, NULL, NULL);
	load_s3_env(env);
	on_s3 = true;
	failed = cmocka_run_group_tests_name("s3", both, NULL, NULL);
	failed |= cmocka_run_group_tests_name("s3 only", s3_only, NULL, NULL);
	return failed;
}

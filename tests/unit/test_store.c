#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <sodium.h>

#include "store/blob.h"

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct fx {
	char *dir;
	struct blob_store *bs;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct dam_err err;

	f->dir = tu_tempdir();
	assert_int_equal(blob_store_open(f->dir, "fs", &f->bs, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	blob_store_free(f->bs);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static char *object_path(struct fx *f, const char *key)
{
	char *p = malloc(4200);

	snprintf(p, 4200, "%s/objects/%.2s/%.2s/%s", f->dir, key, key + 2, key);
	return p;
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
	struct stat st;
	char *p;

	assert_int_equal(blob_put_mem(f->bs, "abc", 3, key, &existed, NULL), 0);
	assert_string_equal(key, ABC_SHA256);
	assert_false(existed);
	p = object_path(f, key);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 3);
	free(p);
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
	assert_int_equal(blob_count_temp(f->bs, NULL), 1);
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
	chmod(p, 0644);
	fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 0), 1);
	close(fd);
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

	/* A writer that never finishes, as after kill -9. */
	assert_int_equal(blob_writer_new(f->bs, &w, NULL), 0);
	assert_int_equal(blob_writer_write(w, "x", 1, NULL), 0);
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
	snprintf(path, sizeof path, "%s/objects/tmp/part-up-1", f->dir);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "junk", 4), 4);
	close(fd);
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
	assert_int_equal(blob_store_open(f->dir, "fs", &hidden, NULL), 0);
	unsetenv("DAM_STORE_NO_LOCAL_FD");
	assert_int_equal(blob_reader_open(hidden, key, &r, NULL), 0);
	assert_int_equal(blob_reader_local_fd(r), -1);
	assert_int_equal(blob_reader_local_file(r, &fd, NULL), 0);
	blob_reader_free(r);
	path = object_path(f, key);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(fstat(fd, &c), 0);
	assert_int_not_equal(a.st_ino, c.st_ino); /* a copy */
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
	/* the store opened without the variable still offers its fd */
	assert_int_equal(blob_reader_open(f->bs, key, &r, NULL), 0);
	assert_true(blob_reader_local_fd(r) >= 0);
	blob_reader_free(r);
	blob_store_free(hidden);
	free(path);
	free(got);
	free(b);
}

/* A reader over a caller's own file borrows its fd. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_mem_known_hash_and_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streaming_writer_and_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_fd_large_and_hash_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_detects_damage_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_temp_removes_stale, setup, teardown),
		cmocka_unit_test(test_hash_state_resumes),
		cmocka_unit_test(test_hash_state_v1_converts),
		cmocka_unit_test_setup_teardown(test_partial_append_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_read_sequential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_pread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_empty_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_local_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_hidden_fd_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_from_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_reader, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

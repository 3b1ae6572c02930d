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
	char key[65], buf[16];
	uint64_t size = 0;
	int fd;

	assert_int_equal(blob_writer_new(f->bs, &w, NULL), 0);
	assert_int_equal(blob_writer_write(w, "a", 1, NULL), 0);
	assert_int_equal(blob_writer_write(w, "bc", 2, NULL), 0);
	assert_int_equal(blob_writer_size(w), 3);
	/* Not visible before commit. */
	assert_int_equal(blob_stat(f->bs, ABC_SHA256, NULL, NULL), DAM_ENOTFOUND);
	assert_int_equal(blob_count_temp(f->bs, NULL), 1);
	assert_int_equal(blob_writer_commit(w, key, NULL, NULL), 0);
	assert_string_equal(key, ABC_SHA256);
	assert_int_equal(blob_open(f->bs, key, &fd, &size, NULL), 0);
	assert_int_equal(size, 3);
	assert_int_equal(read(fd, buf, sizeof buf), 3);
	assert_memory_equal(buf, "abc", 3);
	close(fd);
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
	int fd;

	assert_false(blob_key_valid("../../etc/passwd"));
	assert_false(blob_key_valid(ABC_SHA256 "0"));
	assert_false(blob_key_valid("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	assert_int_equal(blob_open(f->bs, "../../etc/passwd", &fd, NULL, NULL), DAM_EINVAL);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

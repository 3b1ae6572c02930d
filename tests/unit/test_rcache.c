#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include "deliver/rcache.h"
#include "util/timeutil.h"

struct fx {
	char *dir;
	struct rcache *c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	f->dir = tu_tempdir();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rcache_close(f->c);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* A make() that records its calls. Data is `len` bytes of `fill`, or
 * `text` when set. It can sleep, wait until `wait_coalesced` other threads
 * are waiting on it (so a concurrency test does not depend on timing), and
 * fail. */
struct maker {
	struct rcache *c;
	const char *text;
	size_t len;
	char fill;
	int sleep_ms;
	uint64_t wait_coalesced;
	int fail; /* 0 or a DAM_E* code */
	atomic_int calls;
};

static int make_fn(void *ctx, void **data, size_t *len, struct dam_err *err)
{
	struct maker *m = ctx;

	atomic_fetch_add(&m->calls, 1);
	if (m->sleep_ms) {
		struct timespec ts = { m->sleep_ms / 1000, (long)(m->sleep_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (m->wait_coalesced) {
		double until = time_mono() + 30;
		struct rcache_stats s;
		do {
			struct timespec ts = { 0, 1000000L };
			nanosleep(&ts, NULL);
			rcache_stats(m->c, &s);
		} while (s.coalesced < m->wait_coalesced && time_mono() < until);
	}
	if (m->fail)
		return dam_err_set(err, m->fail, "pixels", "bad pixels in the master");
	if (m->text) {
		*len = strlen(m->text);
		*data = strdup(m->text);
	} else {
		*len = m->len;
		*data = malloc(m->len ? m->len : 1);
		memset(*data, m->fill, m->len);
	}
	return 0;
}

/* Deterministic keys spread over fan-out folders. */
static void key_of(int i, char out[65])
{
	snprintf(out, 65, "%02x%062d", (unsigned)(i * 37) & 0xff, i);
}

static char *read_fd(int fd, size_t *len)
{
	struct stat st;
	char *buf;

	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

/* Gets key i with a maker of len bytes; returns whether make() ran. */
static bool get_n(struct fx *f, int i, size_t len, bool *hit)
{
	struct maker m = { .len = len, .fill = (char)('a' + i % 26) };
	char key[65];
	uint64_t size = 0;
	int fd = -1;
	size_t got;
	char *buf;

	key_of(i, key);
	assert_int_equal(rcache_get(f->c, key, make_fn, &m, &fd, &size, hit, NULL), 0);
	assert_int_equal(size, len);
	buf = read_fd(fd, &got);
	assert_int_equal(got, len);
	for (size_t k = 0; k < got; k++)
		assert_int_equal(buf[k], m.fill);
	free(buf);
	close(fd);
	return m.calls == 1;
}

static void entry_file(struct fx *f, int i, char *out, size_t n)
{
	char key[65];

	key_of(i, key);
	snprintf(out, n, "%s/%.2s/%s", f->dir, key, key);
}

static bool on_disk(struct fx *f, int i)
{
	char p[4200];
	struct stat st;

	entry_file(f, i, p, sizeof p);
	return stat(p, &st) == 0;
}

/* Sum of sizes and count of every regular file below dir (two levels). */
static uint64_t disk_bytes(const char *dir, int *files)
{
	char sub[4200];
	uint64_t total = 0;
	DIR *d = opendir(dir), *d2;
	struct dirent *e, *e2;
	struct stat st;

	*files = 0;
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
		if (!(d2 = opendir(sub)))
			continue;
		while ((e2 = readdir(d2))) {
			if (fstatat(dirfd(d2), e2->d_name, &st, 0) == 0 && S_ISREG(st.st_mode)) {
				total += (uint64_t)st.st_size;
				(*files)++;
			}
		}
		closedir(d2);
	}
	closedir(d);
	return total;
}

static void test_round_trip_hit_and_stats(void **state)
{
	struct fx *f = *state;
	struct maker m = { .text = "rendition bytes" };
	struct rcache_stats s;
	char key[65], *buf;
	uint64_t size;
	size_t len;
	bool hit = true;
	int fd;

	assert_int_equal(rcache_open(f->dir, 1 << 20, &f->c, NULL), 0);
	key_of(1, key);
	assert_int_equal(rcache_get(f->c, key, make_fn, &m, &fd, &size, &hit, NULL), 0);
	assert_false(hit);
	assert_int_equal(size, 15);
	buf = read_fd(fd, &len);
	assert_string_equal(buf, "rendition bytes");
	free(buf);
	close(fd);

	m.text = "other bytes"; /* must not be used: the entry is cached */
	assert_int_equal(rcache_get(f->c, key, make_fn, &m, &fd, &size, &hit, NULL), 0);
	assert_true(hit);
	assert_int_equal(m.calls, 1);
	buf = read_fd(fd, &len);
	assert_string_equal(buf, "rendition bytes");
	free(buf);
	close(fd);
	assert_true(on_disk(f, 1));

	rcache_stats(f->c, &s);
	assert_int_equal(s.entries, 1);
	assert_int_equal(s.bytes, 15);
	assert_int_equal(s.max_bytes, 1 << 20);
	assert_int_equal(s.hits, 1);
	assert_int_equal(s.misses, 1);
	assert_int_equal(s.makes, 1);
	assert_int_equal(s.coalesced, 0);
	assert_int_equal(s.evictions, 0);
}

static void test_lru_eviction_respects_hits(void **state)
{
	struct fx *f = *state;
	struct rcache_stats s;
	bool hit;

	assert_int_equal(rcache_open(f->dir, 300, &f->c, NULL), 0);
	for (int i = 1; i <= 3; i++)
		assert_true(get_n(f, i, 100, &hit)); /* 300 bytes: exactly the bound */
	assert_false(get_n(f, 1, 100, &hit));      /* 1 is now the most recent */
	assert_true(hit);
	assert_true(get_n(f, 4, 100, &hit));       /* evicts 2, the least recent */
	assert_false(on_disk(f, 2));
	rcache_stats(f->c, &s);
	assert_int_equal(s.evictions, 1);
	assert_int_equal(s.entries, 3);
	assert_int_equal(s.bytes, 300);

	/* Order now (recent first): 4 1 3. Hitting 3 leaves 1 the oldest. */
	assert_false(get_n(f, 3, 100, &hit));
	assert_true(hit);
	assert_true(get_n(f, 2, 100, &hit)); /* 2 was gone: made again, evicts 1 */
	assert_false(hit);
	assert_true(get_n(f, 1, 100, &hit)); /* 1 was gone: evicts 4 */
	assert_false(get_n(f, 3, 100, &hit));
	assert_false(get_n(f, 2, 100, &hit));
	assert_true(get_n(f, 4, 100, &hit)); /* 4 was gone */
	rcache_stats(f->c, &s);
	assert_int_equal(s.evictions, 4);
}

static void test_bound_on_disk(void **state)
{
	struct fx *f = *state;
	struct rcache_stats s;
	uint64_t max = 4000;
	int files;
	bool hit;

	assert_int_equal(rcache_open(f->dir, max, &f->c, NULL), 0);
	srand(7);
	for (int i = 0; i < 60; i++) {
		size_t len = 1 + (size_t)(rand() % 900);
		get_n(f, i, len, &hit);
		rcache_stats(f->c, &s);
		assert_true(disk_bytes(f->dir, &files) <= max);
		assert_int_equal(disk_bytes(f->dir, &files), s.bytes);
		assert_int_equal(files, (int)s.entries);
	}
	assert_true(s.evictions > 0);
	assert_true(s.bytes > max / 2);
}

/* A reload lowers the bound (rcache_set_max): what no longer fits goes at
 * once, least recently used first; a higher bound keeps more again. */
static void test_set_max_evicts_at_once(void **state)
{
	struct fx *f = *state;
	struct rcache_stats s;
	bool hit;

	assert_int_equal(rcache_open(f->dir, 1000, &f->c, NULL), 0);
	for (int i = 1; i <= 4; i++)
		assert_true(get_n(f, i, 100, &hit));
	assert_false(get_n(f, 1, 100, &hit)); /* 1 is now the most recent */
	rcache_set_max(f->c, 200);
	rcache_stats(f->c, &s);
	assert_int_equal(s.max_bytes, 200);
	assert_int_equal(s.bytes, 200);
	assert_int_equal(s.entries, 2);
	assert_true(on_disk(f, 1));
	assert_true(on_disk(f, 4));
	assert_false(on_disk(f, 2));
	assert_false(on_disk(f, 3));
	rcache_set_max(f->c, 1000);
	for (int i = 5; i <= 8; i++)
		assert_true(get_n(f, i, 100, &hit));
	rcache_stats(f->c, &s);
	assert_int_equal(s.entries, 6);
	rcache_set_max(f->c, 0); /* caching off: nothing kept */
	rcache_stats(f->c, &s);
	assert_int_equal(s.entries, 0);
	assert_true(get_n(f, 9, 100, &hit));
	rcache_stats(f->c, &s);
	assert_int_equal(s.entries, 0);
}

static void set_mtime(struct fx *f, int i, time_t t)
{
	char p[4200];
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	entry_file(f, i, p, sizeof p);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static time_t mtime_of(struct fx *f, int i)
{
	char p[4200];
	struct stat st;

	entry_file(f, i, p, sizeof p);
	assert_int_equal(stat(p, &st), 0);
	return st.st_mtime;
}

static void test_reopen_rebuilds_from_mtimes(void **state)
{
	struct fx *f = *state;
	struct rcache_stats s;
	time_t past = time(NULL) - 7200;
	bool hit;

	assert_int_equal(rcache_open(f->dir, 1000, &f->c, NULL), 0);
	for (int i = 1; i <= 4; i++)
		get_n(f, i, 100, &hit);
	rcache_close(f->c);
	f->c = NULL;
	/* Oldest to newest: 3, 1, 4, 2. */
	set_mtime(f, 3, past + 10);
	set_mtime(f, 1, past + 20);
	set_mtime(f, 4, past + 30);
	set_mtime(f, 2, past + 40);

	/* A smaller bound drops the oldest at open. */
	assert_int_equal(rcache_open(f->dir, 300, &f->c, NULL), 0);
	rcache_stats(f->c, &s);
	assert_int_equal(s.entries, 3);
	assert_int_equal(s.bytes, 300);
	assert_int_equal(s.evictions, 1);
	assert_false(on_disk(f, 3));

	/* A new entry evicts the next oldest by mtime, 1. */
	assert_true(get_n(f, 5, 100, &hit));
	assert_false(on_disk(f, 1));
	assert_true(on_disk(f, 4) && on_disk(f, 2));

	/* The survivors hit without make(); the hit touches the old mtime... */
	assert_false(get_n(f, 4, 100, &hit));
	assert_true(hit);
	assert_true(mtime_of(f, 4) >= time(NULL) - 5);
	/* ...but at most once a minute. */
	set_mtime(f, 4, past);
	assert_false(get_n(f, 4, 100, &hit));
	assert_int_equal(mtime_of(f, 4), past);
	assert_false(get_n(f, 2, 100, &hit));
	assert_true(hit);
}

static void test_temp_leftovers_cleaned_at_open(void **state)
{
	struct fx *f = *state;
	char p[4200], key[65];
	struct stat st;
	FILE *fp;
	bool hit;

	key_of(9, key);
	snprintf(p, sizeof p, "%s/%.2s", f->dir, key);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/%.2s/.tmp-abc123", f->dir, key);
	fp = fopen(p, "w");
	fputs("half a rendi", fp);
	fclose(fp);
	snprintf(p, sizeof p, "%s/%.2s/%s", f->dir, key, key);
	fp = fopen(p, "w");
	for (int i = 0; i < 50; i++)
		fputc('a' + 9, fp);
	fclose(fp);
	snprintf(p, sizeof p, "%s/%.2s/README", f->dir, key); /* not ours: ignored */
	fp = fopen(p, "w");
	fclose(fp);

	assert_int_equal(rcache_open(f->dir, 1000, &f->c, NULL), 0);
	snprintf(p, sizeof p, "%s/%.2s/.tmp-abc123", f->dir, key);
	assert_int_equal(stat(p, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_false(get_n(f, 9, 50, &hit)); /* the complete entry was kept */
	assert_true(hit);
}

/* ---- coalescing ---- */

#define NTHREADS 64

struct racer {
	struct fx *f;
	struct maker *m;
	pthread_barrier_t *go;
	const char *key;
	int rc;
	struct dam_err err;
	char *data;
	size_t len;
	bool hit;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	int fd = -1;

	pthread_barrier_wait(r->go);
	struct stat st;

	/* No cmocka assertions off the main thread: record, check after join. */
	r->rc = rcache_get(r->f->c, r->key, make_fn, r->m, &fd, NULL, &r->hit, &r->err);
	if (r->rc == 0 && fstat(fd, &st) == 0 && (r->data = malloc((size_t)st.st_size + 1)))
		r->len = (size_t)pread(fd, r->data, (size_t)st.st_size, 0);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void run_race(struct fx *f, struct maker *m, const char *key, struct racer *r)
{
	pthread_t t[NTHREADS];
	pthread_barrier_t go;

	pthread_barrier_init(&go, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++) {
		r[i] = (struct racer){ .f = f, .m = m, .go = &go, .key = key };
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
}

static void check_coalesced(struct fx *f, uint64_t max)
{
	static struct racer r[NTHREADS];
	struct maker m = { .len = 5000, .fill = 'z', .sleep_ms = 100, .wait_coalesced = NTHREADS - 1 };
	struct rcache_stats s;
	char key[65];
	int files;

	assert_int_equal(rcache_open(f->dir, max, &f->c, NULL), 0);
	m.c = f->c;
	key_of(42, key);
	run_race(f, &m, key, r);
	assert_int_equal(m.calls, 1);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(r[i].rc, 0);
		assert_false(r[i].hit);
		assert_non_null(r[i].data);
		assert_int_equal(r[i].len, 5000);
		for (size_t k = 0; k < r[i].len; k++)
			assert_int_equal(r[i].data[k], 'z');
		free(r[i].data);
	}
	rcache_stats(f->c, &s);
	assert_int_equal(s.makes, 1);
	assert_int_equal(s.coalesced, NTHREADS - 1);
	assert_int_equal(s.misses, NTHREADS);
	/* Kept once when it fits; nothing left behind when it does not. */
	assert_int_equal(disk_bytes(f->dir, &files), max >= 5000 ? 5000 : 0);
	assert_int_equal(files, max >= 5000 ? 1 : 0);
	assert_int_equal(s.entries, max >= 5000 ? 1 : 0);
}

static void test_coalescing_makes_once(void **state)
{
	check_coalesced(*state, 1 << 20);
}

static void test_coalescing_with_caching_off(void **state)
{
	check_coalesced(*state, 0);
}

static void test_coalescing_oversize(void **state)
{
	check_coalesced(*state, 4999);
}

static void test_failed_make_reaches_every_waiter(void **state)
{
	static struct racer r[NTHREADS];
	struct fx *f = *state;
	struct maker m = { .sleep_ms = 100, .wait_coalesced = NTHREADS - 1, .fail = DAM_EMEDIA };
	struct rcache_stats s;
	char key[65];
	int files;
	bool hit;

	assert_int_equal(rcache_open(f->dir, 1 << 20, &f->c, NULL), 0);
	m.c = f->c;
	key_of(7, key);
	run_race(f, &m, key, r);
	assert_int_equal(m.calls, 1);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(r[i].rc, DAM_EMEDIA);
		assert_int_equal(r[i].err.code, DAM_EMEDIA);
		assert_string_equal(r[i].err.msg, "bad pixels in the master");
		assert_string_equal(r[i].err.field, "pixels");
	}
	rcache_stats(f->c, &s);
	assert_int_equal(s.entries, 0);
	assert_int_equal(disk_bytes(f->dir, &files), 0);
	assert_int_equal(files, 0);

	/* Not cached: the next request tries again, and succeeds. */
	assert_true(get_n(f, 7, 10, &hit));
	assert_false(hit);
	assert_false(get_n(f, 7, 10, &hit));
	assert_true(hit);
}

static void test_bad_key(void **state)
{
	struct fx *f = *state;
	struct maker m = { .text = "x" };
	struct dam_err err;
	char key[70];
	int fd = 5;
	static const char *bad[] = {
		"",
		"abc",
		"ABCDEF0000000000000000000000000000000000000000000000000000000000",
		"g000000000000000000000000000000000000000000000000000000000000000",
		"../0000000000000000000000000000000000000000000000000000000000000",
		"00000000000000000000000000000000000000000000000000000000000000000", /* 65 */
		"000000000000000000000000000000000000000000000000000000000000000", /* 63 */
	};

	assert_int_equal(rcache_open(f->dir, 1000, &f->c, NULL), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(rcache_get(f->c, bad[i], make_fn, &m, &fd, NULL, NULL, &err), DAM_EINVAL);
		assert_int_equal(err.code, DAM_EINVAL);
		assert_int_equal(fd, -1);
	}
	assert_int_equal(rcache_get(f->c, NULL, make_fn, &m, &fd, NULL, NULL, &err), DAM_EINVAL);
	assert_int_equal(m.calls, 0);
	key_of(1, key);
	assert_int_equal(rcache_get(f->c, key, make_fn, &m, &fd, NULL, NULL, &err), 0);
	close(fd);
}

static void test_oversize_returned_not_kept(void **state)
{
	struct fx *f = *state;
	struct rcache_stats s;
	int files;
	bool hit;

	assert_int_equal(rcache_open(f->dir, 100, &f->c, NULL), 0);
	assert_true(get_n(f, 1, 60, &hit));
	assert_true(get_n(f, 2, 150, &hit)); /* bytes come back... */
	assert_false(hit);
	rcache_stats(f->c, &s);
	assert_int_equal(s.entries, 1); /* ...but are not kept, and evict nothing */
	assert_int_equal(s.bytes, 60);
	assert_int_equal(s.evictions, 0);
	assert_int_equal(disk_bytes(f->dir, &files), 60);
	assert_int_equal(files, 1);
	assert_true(get_n(f, 2, 150, &hit)); /* made again */
	assert_false(get_n(f, 1, 60, &hit));
	assert_true(hit);
}

static void test_caching_off_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct rcache_stats s;
	int files;
	bool hit;

	assert_int_equal(rcache_open(f->dir, 0, &f->c, NULL), 0);
	assert_true(get_n(f, 1, 10, &hit));
	assert_true(get_n(f, 1, 10, &hit));
	assert_false(hit);
	assert_int_equal(disk_bytes(f->dir, &files), 0);
	assert_int_equal(files, 0);
	rcache_stats(f->c, &s);
	assert_int_equal(s.makes, 2);
	assert_int_equal(s.entries, 0);
}

/* A reader's fd stays valid after its entry is evicted. */
static void test_fd_survives_eviction(void **state)
{
	struct fx *f = *state;
	struct maker m = { .len = 100, .fill = 'q' };
	char key[65], *buf;
	size_t len;
	bool hit;
	int fd;

	assert_int_equal(rcache_open(f->dir, 200, &f->c, NULL), 0);
	key_of(100, key);
	assert_int_equal(rcache_get(f->c, key, make_fn, &m, &fd, NULL, NULL, NULL), 0);
	get_n(f, 1, 100, &hit);
	get_n(f, 2, 100, &hit);
	assert_false(on_disk(f, 100));
	buf = read_fd(fd, &len);
	assert_int_equal(len, 100);
	assert_int_equal(buf[0], 'q');
	assert_int_equal(buf[99], 'q');
	free(buf);
	close(fd);
}

/* A file deleted behind the cache's back is made again, not an error. */
static void test_missing_file_is_a_miss(void **state)
{
	struct fx *f = *state;
	char p[4200];
	bool hit;

	assert_int_equal(rcache_open(f->dir, 1000, &f->c, NULL), 0);
	get_n(f, 1, 10, &hit);
	entry_file(f, 1, p, sizeof p);
	assert_int_equal(unlink(p), 0);
	assert_true(get_n(f, 1, 10, &hit));
	assert_false(hit);
	assert_true(on_disk(f, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_hit_and_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lru_eviction_respects_hits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_on_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_max_evicts_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_rebuilds_from_mtimes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_temp_leftovers_cleaned_at_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalescing_makes_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalescing_with_caching_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalescing_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_make_reaches_every_waiter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversize_returned_not_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caching_off_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_survives_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file_is_a_miss, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

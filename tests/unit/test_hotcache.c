#include "testutil.h"

#include "http/hotcache.h"

/* An offer of len bytes of `fill`. */
static struct hot_offer *offer(size_t len, char fill, bool vary, int64_t expires)
{
	struct hot_offer *o = calloc(1, sizeof *o);

	o->body = malloc(len ? len : 1);
	memset(o->body, fill, len);
	o->len = len;
	o->vary_accept = vary;
	o->max_age = 300;
	o->expires = expires;
	return o;
}

static const struct http_header headers[] = {
	{ "etag", "\"abc\"" },
	{ "content-type", "image/png" },
	{ "cache-control", "public, max-age=300" },
};

static bool put(struct hotcache *c, const char *path, const char *accept, uint64_t epoch, struct hot_offer *o)
{
	bool kept = hotcache_put(c, path, accept, epoch, 1, headers, 3, o) != NULL;

	hot_offer_free(o);
	return kept;
}

static bool put2(struct hotcache *c, const char *path, uint64_t epoch, int cfg_gen, struct hot_offer *o)
{
	bool kept = hotcache_put(c, path, NULL, epoch, cfg_gen, headers, 3, o) != NULL;

	hot_offer_free(o);
	return kept;
}

static void test_round_trip_and_headers(void **state)
{
	struct hotcache *c = hotcache_new(1 << 20);
	struct hot_entry *e;

	(void)state;
	assert_true(put(c, "/t/a", NULL, 1, offer(100, 'x', false, 0)));
	e = hotcache_find(c, "/t/a", "image/webp", 1, 1, 1000);
	assert_non_null(e);
	assert_int_equal(e->len, 100);
	assert_int_equal(e->body[99], 'x');
	assert_string_equal(e->etag, "\"abc\"");
	/* Cache-Control is made per answer, so it is not kept */
	assert_int_equal(e->nheaders, 2);
	assert_null(hotcache_find(c, "/t/b", NULL, 1, 1, 1000));
	hotcache_free(c);
}

static void test_epoch_generation_and_expiry_retire(void **state)
{
	struct hotcache *c = hotcache_new(1 << 20);
	struct hotcache_stats st;

	(void)state;
	assert_true(put(c, "/t/a", NULL, 5, offer(10, 'a', false, 0)));
	assert_null(hotcache_find(c, "/t/a", NULL, 6, 1, 0));
	/* a stale entry found is dropped, not kept for later */
	hotcache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_true(put(c, "/t/a", NULL, 6, offer(10, 'a', false, 0)));
	assert_null(hotcache_find(c, "/t/a", NULL, 6, 2, 0));
	/* an answer from before the generation moved is stale on arrival */
	assert_false(put2(c, "/t/e", 6, 1, offer(10, 'e', false, 2000)));
	assert_true(put2(c, "/t/e", 6, 2, offer(10, 'e', false, 2000)));
	assert_non_null(hotcache_find(c, "/t/e", NULL, 6, 2, 2000));
	assert_null(hotcache_find(c, "/t/e", NULL, 6, 2, 2001));
	hotcache_free(c);
}

/* Under steady edits a delivered URL is rarely asked for twice in one
 * epoch: the entries of past epochs must not stay until evicted, holding
 * the cache's whole bound in bytes nobody can use. */
static void test_moving_epoch_frees_past_entries(void **state)
{
	struct hotcache *c = hotcache_new(1 << 20);
	struct hotcache_stats st;
	char path[32];

	(void)state;
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof path, "/t/%d", i);
		assert_true(put(c, path, NULL, 7, offer(1000, 'a', false, 0)));
	}
	hotcache_stats(c, &st);
	assert_int_equal(st.entries, 50);
	/* the loop looks up some other URL at the next epoch */
	assert_null(hotcache_find(c, "/t/other", NULL, 8, 1, 0));
	hotcache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	/* and an older epoch neither finds nor keeps anything */
	assert_true(put(c, "/t/new", NULL, 8, offer(10, 'n', false, 0)));
	assert_null(hotcache_find(c, "/t/new", NULL, 7, 1, 0));
	assert_false(put(c, "/t/old", NULL, 7, offer(10, 'o', false, 0)));
	assert_non_null(hotcache_find(c, "/t/new", NULL, 8, 1, 0));
	hotcache_free(c);
}

static void test_vary_accept_keys(void **state)
{
	struct hotcache *c = hotcache_new(1 << 20);
	struct hot_entry *e;

	(void)state;
	assert_true(put(c, "/t/auto", "image/avif,image/webp", 1, offer(10, 'A', true, 0)));
	assert_true(put(c, "/t/auto", "image/jpeg", 1, offer(10, 'J', true, 0)));
	e = hotcache_find(c, "/t/auto", "image/avif,image/webp", 1, 1, 0);
	assert_non_null(e);
	assert_int_equal(e->body[0], 'A');
	e = hotcache_find(c, "/t/auto", "image/jpeg", 1, 1, 0);
	assert_non_null(e);
	assert_int_equal(e->body[0], 'J');
	assert_null(hotcache_find(c, "/t/auto", "*/*", 1, 1, 0));
	assert_null(hotcache_find(c, "/t/auto", NULL, 1, 1, 0));
	hotcache_free(c);
}

static void test_lru_bound_and_replacement(void **state)
{
	struct hotcache *c = hotcache_new(10000);
	struct hotcache_stats st;
	char path[32];

	(void)state;
	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof path, "/t/%d", i);
		assert_true(put(c, path, NULL, 1, offer(2000, (char)('a' + i), false, 0)));
		/* keep /t/0 recently used */
		assert_non_null(hotcache_find(c, "/t/0", NULL, 1, 1, 0));
	}
	hotcache_stats(c, &st);
	assert_true(st.bytes <= 10000);
	assert_true(st.entries >= 2 && st.entries < 5);
	assert_non_null(hotcache_find(c, "/t/0", NULL, 1, 1, 0));
	assert_non_null(hotcache_find(c, "/t/19", NULL, 1, 1, 0));
	assert_null(hotcache_find(c, "/t/1", NULL, 1, 1, 0));
	/* the same key again replaces the entry */
	assert_true(put(c, "/t/0", NULL, 1, offer(10, 'z', false, 0)));
	assert_int_equal(hotcache_find(c, "/t/0", NULL, 1, 1, 0)->body[0], 'z');
	/* too large for the bound, or for an entry: refused, the offer keeps its body */
	{
		struct hot_offer *big = offer(HOT_ENTRY_MAX + 1, 'b', false, 0);
		assert_null(hotcache_put(c, "/t/big", NULL, 1, 1, headers, 3, big));
		assert_non_null(big->body);
		hot_offer_free(big);
	}
	assert_false(put(c, "/t/over", NULL, 1, offer(20000, 'o', false, 0)));
	hotcache_free(c);
}

static void test_entry_outlives_eviction_while_referenced(void **state)
{
	struct hotcache *c = hotcache_new(5000);
	struct hot_entry *e;

	(void)state;
	assert_true(put(c, "/t/sent", NULL, 1, offer(3000, 's', false, 0)));
	e = hotcache_find(c, "/t/sent", NULL, 1, 1, 0);
	hot_entry_ref(e); /* a response still sending it */
	assert_true(put(c, "/t/next", NULL, 1, offer(3000, 'n', false, 0)));
	assert_null(hotcache_find(c, "/t/sent", NULL, 1, 1, 0));
	/* evicted from the cache, but its bytes stay until the send is done
	 * (ASan and valgrind check the read and the free) */
	assert_int_equal(e->body[2999], 's');
	hotcache_free(c);
	assert_int_equal(e->body[0], 's');
	hot_entry_unref(e);
}

static void test_many_entries_grow_the_table(void **state)
{
	struct hotcache *c = hotcache_new(64 << 20);
	char path[32];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(path, sizeof path, "/t/k%d", i);
		assert_true(put(c, path, NULL, 1, offer(8, (char)i, false, 0)));
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(path, sizeof path, "/t/k%d", i);
		assert_non_null(hotcache_find(c, path, NULL, 1, 1, 0));
	}
	hotcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_headers),
		cmocka_unit_test(test_epoch_generation_and_expiry_retire),
		cmocka_unit_test(test_moving_epoch_frees_past_entries),
		cmocka_unit_test(test_vary_accept_keys),
		cmocka_unit_test(test_lru_bound_and_replacement),
		cmocka_unit_test(test_entry_outlives_eviction_while_referenced),
		cmocka_unit_test(test_many_entries_grow_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "testutil.h"

#include "util/lru.h"

struct item {
	char key[16];
	int value;
	struct lru_node node;
};

static struct item *item_of(struct lru_node *n)
{
	return n ? LRU_ENTRY(n, struct item, node) : NULL;
}

static struct item *items_new(int n)
{
	struct item *v = calloc((size_t)n, sizeof *v);

	assert_non_null(v);
	for (int i = 0; i < n; i++) {
		snprintf(v[i].key, sizeof v[i].key, "key-%d", i);
		v[i].value = i;
		v[i].node.key = v[i].key;
	}
	return v;
}

/* The keys from oldest to newest, joined by spaces. */
static const char *order(const struct lru *l)
{
	static char buf[512];
	size_t len = 0;

	buf[0] = '\0';
	for (struct lru_node *n = lru_oldest(l); n; n = lru_newer(n))
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? " " : "", n->key);
	return buf;
}

/* The same walk from the other end, reversed back: both links agree. */
static const char *order_backwards(const struct lru *l)
{
	static char buf[512];
	const char *keys[64];
	size_t n = 0, len = 0;

	for (struct lru_node *x = lru_newest(l); x && n < 64; x = lru_older(x))
		keys[n++] = x->key;
	buf[0] = '\0';
	while (n--)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? " " : "", keys[n]);
	return buf;
}

static void test_find_add_remove(void **state)
{
	struct lru l;
	struct item *v = items_new(3);

	(void)state;
	assert_int_equal(lru_init(&l, 0), 0);
	assert_null(lru_find(&l, "key-0"));
	assert_null(lru_oldest(&l));
	for (int i = 0; i < 3; i++)
		lru_add(&l, &v[i].node);
	assert_int_equal(l.count, 3);
	assert_int_equal(item_of(lru_find(&l, "key-1"))->value, 1);
	assert_null(lru_find(&l, "key-"));
	assert_null(lru_find(&l, "key-10"));
	assert_string_equal(order(&l), "key-0 key-1 key-2");
	lru_remove(&l, &v[1].node);
	assert_int_equal(l.count, 2);
	assert_null(lru_find(&l, "key-1"));
	assert_string_equal(order(&l), "key-0 key-2");
	assert_string_equal(order_backwards(&l), "key-0 key-2");
	/* removing the ends moves them */
	lru_remove(&l, &v[0].node);
	lru_remove(&l, &v[2].node);
	assert_null(lru_oldest(&l));
	assert_null(lru_newest(&l));
	assert_int_equal(l.count, 0);
	lru_release(&l);
	free(v);
}

static void test_use_moves_to_newest(void **state)
{
	struct lru l;
	struct item *v = items_new(4);

	(void)state;
	assert_int_equal(lru_init(&l, 4), 0);
	for (int i = 0; i < 4; i++)
		lru_add(&l, &v[i].node);
	lru_use(&l, &v[0].node); /* the oldest */
	assert_string_equal(order(&l), "key-1 key-2 key-3 key-0");
	lru_use(&l, &v[2].node); /* one in the middle */
	assert_string_equal(order(&l), "key-1 key-3 key-0 key-2");
	lru_use(&l, &v[2].node); /* already the newest */
	assert_string_equal(order(&l), "key-1 key-3 key-0 key-2");
	assert_string_equal(order_backwards(&l), "key-1 key-3 key-0 key-2");
	assert_ptr_equal(lru_oldest(&l), &v[1].node);
	assert_ptr_equal(lru_newest(&l), &v[2].node);
	/* lru_find does not count as a use */
	assert_non_null(lru_find(&l, "key-1"));
	assert_ptr_equal(lru_oldest(&l), &v[1].node);
	lru_release(&l);
	free(v);
}

/* Many more entries than the first table: it grows, and every key is
 * still found, including after removals that empty whole chains. */
static void test_grows_and_finds_everything(void **state)
{
	enum { N = 5000 };
	struct lru l;
	struct item *v = items_new(N);

	(void)state;
	assert_int_equal(lru_init(&l, 16), 0);
	for (int i = 0; i < N; i++)
		lru_add(&l, &v[i].node);
	assert_true(l.nbuckets >= N);
	assert_int_equal(l.nbuckets & (l.nbuckets - 1), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(item_of(lru_find(&l, v[i].key))->value, i);
	for (int i = 0; i < N; i += 2)
		lru_remove(&l, &v[i].node);
	assert_int_equal(l.count, N / 2);
	for (int i = 0; i < N; i++)
		assert_true((lru_find(&l, v[i].key) != NULL) == (i % 2 == 1));
	/* oldest first: 1, 3, 5 ... */
	assert_ptr_equal(lru_oldest(&l), &v[1].node);
	assert_ptr_equal(lru_newer(lru_oldest(&l)), &v[3].node);
	assert_ptr_equal(lru_newest(&l), &v[N - 1].node);
	lru_release(&l);
	assert_null(l.buckets);
	free(v);
}

/* Eviction as the caches do it: walk from the oldest, skip what is
 * pinned, remove until a bound holds. */
static void test_evict_walk_skips_pinned(void **state)
{
	struct lru l;
	struct item *v = items_new(6);
	struct lru_node *n, *newer;
	int kept = 6;

	(void)state;
	assert_int_equal(lru_init(&l, 0), 0);
	for (int i = 0; i < 6; i++)
		lru_add(&l, &v[i].node);
	v[0].value = -1; /* pinned */
	for (n = lru_oldest(&l); n && kept > 3; n = newer) {
		newer = lru_newer(n);
		if (item_of(n)->value >= 0) {
			lru_remove(&l, n);
			kept--;
		}
	}
	assert_string_equal(order(&l), "key-0 key-4 key-5");
	lru_release(&l);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_add_remove),
		cmocka_unit_test(test_use_moves_to_newest),
		cmocka_unit_test(test_grows_and_finds_everything),
		cmocka_unit_test(test_evict_walk_skips_pinned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

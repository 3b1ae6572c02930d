/* test_grow.c - util/grow.h: doubling from the first size, zeroed new room,
 * and on failure the old array and capacity kept. */
#include "testutil.h"

#include <stdint.h>

#include "util/err.h"
#include "util/grow.h"

static void test_grows_and_zeroes(void **state)
{
	uint32_t *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(GROW(&v, &cap, 1, 4), 0);
	assert_int_equal(cap, 4);
	for (size_t i = 0; i < cap; i++)
		assert_int_equal(v[i], 0);
	v[3] = 7;
	assert_int_equal(GROW(&v, &cap, 4, 4), 0); /* room enough: unchanged */
	assert_int_equal(cap, 4);
	assert_int_equal(GROW(&v, &cap, 9, 4), 0); /* 4 -> 8 -> 16 */
	assert_int_equal(cap, 16);
	assert_int_equal(v[3], 7);
	for (size_t i = 4; i < cap; i++)
		assert_int_equal(v[i], 0);
	free(v);
}

static void test_failure_keeps_the_array(void **state)
{
	uint64_t *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(GROW(&v, &cap, 3, 2), 0);
	v[2] = 42;
	/* more elements than memory can hold: refused, nothing lost */
	assert_int_equal(GROW(&v, &cap, SIZE_MAX / 4, 2), DAM_ENOMEM);
	assert_int_equal(cap, 4);
	assert_non_null(v);
	assert_int_equal(v[2], 42);
	assert_int_equal(GROW(&v, &cap, SIZE_MAX, 2), DAM_ENOMEM);
	assert_int_equal(cap, 4);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_and_zeroes),
		cmocka_unit_test(test_failure_keeps_the_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

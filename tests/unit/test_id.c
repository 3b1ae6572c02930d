#include "testutil.h"

#include "util/id.h"

static void test_format_and_version(void **state)
{
	char id[DAM_ID_LEN + 1];

	id_new(id);
	assert_int_equal(strlen(id), 36);
	assert_true(id_valid(id));
	assert_int_equal(id[14], '7');                    /* version 7 */
	assert_non_null(strchr("89ab", id[19]));          /* RFC 9562 variant */
	assert_int_equal(id[8], '-');
	assert_int_equal(id[23], '-');
}

static void test_time_roundtrip(void **state)
{
	char id[DAM_ID_LEN + 1];
	uint64_t ms = 1795000000123ull;

	id_new_at(id, ms);
	assert_int_equal(id_time_ms(id), ms);
}

static void test_monotonic_in_burst(void **state)
{
	char prev[DAM_ID_LEN + 1], cur[DAM_ID_LEN + 1];

	id_new(prev);
	for (int i = 0; i < 20000; i++) {
		id_new(cur);
		assert_true(strcmp(prev, cur) < 0);
		memcpy(prev, cur, sizeof cur);
	}
}

static void test_invalid(void **state)
{
	assert_false(id_valid(NULL));
	assert_false(id_valid(""));
	assert_false(id_valid("01a20544-bfed-7004-abca-58767571099"));   /* short */
	assert_false(id_valid("01a20544-bfed-7004-abca-58767571099dd")); /* long */
	assert_false(id_valid("01A20544-bfed-7004-abca-58767571099d"));  /* upper case */
	assert_false(id_valid("01a20544xbfed-7004-abca-58767571099d"));
	assert_false(id_valid("01a20544-bfed-7004-abca-58767571099g"));
	assert_int_equal(id_time_ms("not an id"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_version),
		cmocka_unit_test(test_time_roundtrip),
		cmocka_unit_test(test_monotonic_in_burst),
		cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

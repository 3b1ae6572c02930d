/* Durations and expiries (issue 11, point 17): one parser for the CLI's
 * --expires and the API's links?expires=, checked against a fixed clock. */
#include "testutil.h"

#include "util/err.h"
#include "util/timeutil.h"

#define NOW 1800000000123ull /* 2027-01-15T08:00:00.123Z */

static void test_durations(void **state)
{
	static const struct { const char *s; uint64_t ms; } ok[] = {
		{ "90s", 90000 }, { "10m", 600000 }, { "2h", 7200000 }, { "7d", 604800000 },
		{ "2w", 1209600000 }, { "1s", 1000 }, { "36600d", 36600ull * 86400000 },
	};
	static const char *const bad[] = {
		"", "s", "0s", "10", "10x", "1.5h", "-5m", "+5m", " 5m", "5m ", "5mm", "5m3", "36601d",
		"99999999999999999999s", "184467440737095516160s",
	};
	uint64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		ms = 0;
		assert_int_equal(time_parse_duration(ok[i].s, &ms), 0);
		assert_int_equal(ms, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(time_parse_duration(bad[i], &ms), DAM_EINVAL);
}

static void test_expiry_forms(void **state)
{
	static const struct { const char *s; uint64_t ms; } ok[] = {
		{ "90s", NOW + 90000 },
		{ "10m", NOW + 600000 },
		{ "2h", NOW + 7200000 },
		{ "7d", NOW + 604800000 },
		{ "3600", NOW + 3600000 },
		{ "2027-01-31", 1801353600000ull },
		{ "2027-01-31T12:00:00Z", 1801396800000ull },
		{ "2027-01-31T12:00", 1801396800000ull },
		{ "2001-01-01", 978307200000ull }, /* the past parses; callers refuse it */
	};
	static const char *const bad[] = { "soon", "0", "0s", "", "2027-13-01", "2027-02-30", "7 d", "1e3" };
	uint64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		ms = 0;
		assert_int_equal(time_parse_future(ok[i].s, NOW, &ms), 0);
		assert_int_equal(ms, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(time_parse_future(bad[i], NOW, &ms), DAM_EINVAL);
}

/* Filters read the same durations backwards from now. */
static void test_filters_count_back(void **state)
{
	uint64_t before = time_now_ms(), ms = 0, after;

	(void)state;
	assert_int_equal(time_parse("90s", &ms), 0);
	after = time_now_ms();
	assert_true(ms >= before - 90000 && ms <= after - 90000);
	assert_int_equal(time_parse("2w", &ms), 0);
	assert_true(ms <= after - 1209600000);
	assert_int_equal(time_parse("2027-01-31", &ms), 0);
	assert_int_equal(ms, 1801353600000ull);
	assert_int_equal(time_parse("0s", &ms), DAM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_expiry_forms),
		cmocka_unit_test(test_filters_count_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

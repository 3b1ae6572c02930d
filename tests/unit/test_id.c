#include "testutil.h"

#include <sys/wait.h>

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

/* A forked child does not reuse the random bytes its parent had drawn but
 * not yet used (ids come from a per-thread pool). */
static void test_fork_draws_fresh_bits(void **state)
{
	char parent[DAM_ID_LEN + 1], child[DAM_ID_LEN + 1] = "", mine[DAM_ID_LEN + 1];
	int fds[2];
	pid_t pid;

	id_new(parent); /* fills the pool */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char id[DAM_ID_LEN + 1];
		id_new(id);
		_exit(write(fds[1], id, sizeof id) == (ssize_t)sizeof id ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	id_new(mine);
	/* The last 12 hex digits are random in both. */
	assert_true(id_valid(child));
	assert_string_not_equal(child + 24, mine + 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_version),
		cmocka_unit_test(test_time_roundtrip),
		cmocka_unit_test(test_monotonic_in_burst),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_fork_draws_fresh_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

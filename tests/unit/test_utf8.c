#include "testutil.h"

#include "util/err.h"
#include "util/utf8.h"

/* utf8_name_check() with the message it gives ("" when accepted). */
static const char *check(const char *s, size_t len, size_t max)
{
	static struct dam_err err;

	dam_err_clear(&err);
	if (utf8_name_check(s, len, max, "the file name", "filename", &err) == 0)
		return "";
	assert_int_equal(err.code, DAM_EINVAL);
	assert_string_equal(err.field, "filename");
	return err.msg;
}

#define CHECK(lit) check(lit, sizeof(lit) - 1, DAM_NAME_MAX)

static void test_accepts_names(void **state)
{
	(void)state;
	assert_string_equal(CHECK("shoe.jpg"), "");
	assert_string_equal(CHECK("\xe8\xbf\x90\xe5\x8a\xa8\xe9\x9e\x8b.jpg"), "");  /* 运动鞋.jpg */
	assert_string_equal(CHECK("a\xe2\x80\xa9" "b.jpg"), "");    /* U+2029, just below the range */
	assert_string_equal(CHECK("a\xe2\x80\xaf" "b.jpg"), "");    /* U+202F, just above */
	assert_string_equal(CHECK("a\xe2\x81\xa5" "b.jpg"), "");    /* U+2065 */
	assert_string_equal(CHECK("a\xe2\x81\xaa" "b.jpg"), "");    /* U+206A */
	assert_string_equal(CHECK("a\xe2\x80\x8f" "b.jpg"), "");    /* U+200F RLM: a mark, not an override */
}

static void test_refuses_bidi_controls(void **state)
{
	(void)state;
	assert_string_equal(CHECK("invoice\xe2\x80\xaegpj.exe"),
			    "the file name contains a bidirectional control character (U+202E at character 8),"
			    " which can disguise the real extension");
	assert_string_equal(CHECK("\xe2\x80\xaa" "a"), "the file name contains a bidirectional control character"
						       " (U+202A at character 1), which can disguise the real extension");
	assert_true(strstr(CHECK("\xe8\xbf\x90\xe2\x81\xa6.jpg"), "(U+2066 at character 2)"));
	assert_true(strstr(CHECK("ab\xe2\x81\xa9"), "(U+2069 at character 3)"));
}

static void test_first_problem_is_named(void **state)
{
	char big[70004];

	(void)state;
	/* a long name is long, whatever else it holds */
	memset(big, '\xff', sizeof big);
	assert_string_equal(check(big, sizeof big, DAM_NAME_MAX), "the file name is too long (70004 bytes, max 255 bytes)");
	memset(big, 'a', sizeof big);
	assert_string_equal(check(big, 255, DAM_NAME_MAX), "");
	assert_string_equal(check(big, 256, DAM_NAME_MAX), "the file name is too long (256 bytes, max 255 bytes)");
	assert_string_equal(check("", 0, DAM_NAME_MAX), "the file name is empty");
	assert_string_equal(check("a\0\xff", 3, DAM_NAME_MAX), "the file name contains a NUL byte (at byte 2)");
	assert_string_equal(CHECK("ab\xff"), "the file name is not valid UTF-8 (byte 3)");
	assert_string_equal(CHECK("a\xc0\xaf"), "the file name is not valid UTF-8 (byte 2)"); /* overlong '/' */
	assert_string_equal(CHECK("\xe8\xbf\x90\x7f"), "the file name contains a control character (U+007F at character 2)");
	assert_string_equal(CHECK("a\nb"), "the file name contains a control character (U+000A at character 2)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_names),
		cmocka_unit_test(test_refuses_bidi_controls),
		cmocka_unit_test(test_first_problem_is_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

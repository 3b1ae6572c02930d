#include "testutil.h"

#include "core/query.h"
#include "util/utf8.h"

/* ---- valid queries, compared by their canonical dump ---- */

struct ok_case {
	const char *q;
	const char *dump;
};

static const struct ok_case ok_cases[] = {
	/* words, implicit AND */
	{ "spring", "(text \"spring\")" },
	{ "spring launch", "(and (text \"spring\") (text \"launch\"))" },
	{ "  spring \t launch\n", "(and (text \"spring\") (text \"launch\"))" },
	{ "a b c d", "(and (text \"a\") (text \"b\") (text \"c\") (text \"d\"))" },
	/* CJK and other UTF-8, ideographic and no-break spaces separate words */
	{ "运动鞋 蓝色", "(and (text \"运动鞋\") (text \"蓝色\"))" },
	{ "运动鞋\xe3\x80\x80蓝色", "(and (text \"运动鞋\") (text \"蓝色\"))" },
	{ "caf\xc3\xa9\xc2\xa0" "crème", "(and (text \"café\") (text \"crème\"))" },
	{ "\"运动 鞋\" tag:蓝色", "(and (text \"运动 鞋\" phrase) (field tag = \"蓝色\"))" },
	{ "运动*", "(text \"运动\" prefix)" },
	/* phrases and prefixes */
	{ "\"blue sneaker\"", "(text \"blue sneaker\" phrase)" },
	{ "\"blue snea\"*", "(text \"blue snea\" phrase prefix)" },
	{ "sneak*", "(text \"sneak\" prefix)" },
	{ "\"a:b\" \"(x)\"", "(and (text \"a:b\" phrase) (text \"(x)\" phrase))" },
	{ "t-shirt", "(text \"t-shirt\")" },
	/* explicit AND, OR, precedence NOT > AND > OR */
	{ "a AND b", "(and (text \"a\") (text \"b\"))" },
	{ "a OR b", "(or (text \"a\") (text \"b\"))" },
	{ "a OR b OR c", "(or (text \"a\") (text \"b\") (text \"c\"))" },
	{ "a b OR c", "(or (and (text \"a\") (text \"b\")) (text \"c\"))" },
	{ "a OR b c", "(or (text \"a\") (and (text \"b\") (text \"c\")))" },
	{ "a AND b OR c AND d", "(or (and (text \"a\") (text \"b\")) (and (text \"c\") (text \"d\")))" },
	{ "NOT a b", "(and (not (text \"a\")) (text \"b\"))" },
	{ "NOT a OR b", "(or (not (text \"a\")) (text \"b\"))" },
	{ "a OR NOT b c", "(or (text \"a\") (and (not (text \"b\")) (text \"c\")))" },
	{ "NOT NOT a", "(not (not (text \"a\")))" },
	/* parentheses */
	{ "(a OR b) c", "(and (or (text \"a\") (text \"b\")) (text \"c\"))" },
	{ "a (b OR c)", "(and (text \"a\") (or (text \"b\") (text \"c\")))" },
	{ "(a b) c", "(and (text \"a\") (text \"b\") (text \"c\"))" },
	{ "((a))", "(text \"a\")" },
	{ "NOT (a OR b)", "(not (or (text \"a\") (text \"b\")))" },
	{ "(a)(b)", "(and (text \"a\") (text \"b\"))" },
	/* minus */
	{ "-blue", "(not (text \"blue\"))" },
	{ "shoe -blue", "(and (text \"shoe\") (not (text \"blue\")))" },
	{ "-color:blue", "(not (field color = \"blue\"))" },
	{ "-\"blue sneaker\"", "(not (text \"blue sneaker\" phrase))" },
	{ "-(a OR b)", "(not (or (text \"a\") (text \"b\")))" },
	{ "a -b OR c", "(or (and (text \"a\") (not (text \"b\"))) (text \"c\"))" },
	/* lower-case keywords are words */
	{ "rock and roll", "(and (text \"rock\") (text \"and\") (text \"roll\"))" },
	{ "this or that not", "(and (text \"this\") (text \"or\") (text \"that\") (text \"not\"))" },
	{ "ANDROID ORANGE", "(and (text \"ANDROID\") (text \"ORANGE\"))" },
	/* field filters */
	{ "type:image", "(field type = \"image\")" },
	{ "TYPE:Image", "(field type = \"Image\")" },
	{ "sku:ABC123 color:blue", "(and (field sku = \"ABC123\") (field color = \"blue\"))" },
	{ "versions:all", "(field versions = \"all\")" },
	{ "exif.make:Canon", "(field exif.make = \"Canon\")" },
	{ "my_field2:x", "(field my_field2 = \"x\")" },
	{ "tag:\"spring 2026\"", "(field tag = \"spring 2026\" phrase)" },
	{ "tag:\"spr\"*", "(field tag = \"spr\" phrase prefix)" },
	{ "sku:ABC*", "(field sku = \"ABC\" prefix)" },
	{ "url:http://x/y", "(field url = \"http://x/y\")" },
	{ "time:12:30", "(field time = \"12:30\")" },
	{ "tag:a-b", "(field tag = \"a-b\")" },
	/* comparisons and ranges */
	{ "created:>2026-01-01", "(field created > \"2026-01-01\")" },
	{ "width:>=1000", "(field width >= \"1000\")" },
	{ "width:<10", "(field width < \"10\")" },
	{ "width:<=10", "(field width <= \"10\")" },
	{ "title:>\"b c\"", "(field title > \"b c\" phrase)" },
	{ "width:1000..2000", "(field width .. \"1000\" \"2000\")" },
	{ "created:2026-01-01..2026-03-31", "(field created .. \"2026-01-01\" \"2026-03-31\")" },
	/* user-defined number and date fields, relative dates (the engine reads them) */
	{ "price:10..20", "(field price .. \"10\" \"20\")" },
	{ "licence_expiry:<2028-01-01", "(field licence_expiry < \"2028-01-01\")" },
	{ "licence_expiry:<now+30d", "(field licence_expiry < \"now+30d\")" },
	{ "licence_expiry:>=now-7d", "(field licence_expiry >= \"now-7d\")" },
	{ "licence_expiry:now-7d..now+30d", "(field licence_expiry .. \"now-7d\" \"now+30d\")" },
	{ "size:1.5..2.5", "(field size .. \"1.5\" \"2.5\")" },
	{ "tag:\"a..b\"", "(field tag = \"a..b\" phrase)" },
	/* the brief's example */
	{ "type:image color:blue sku:ABC123 created:>2026-01-01 width:>=1000 tag:\"spring 2026\"",
	  "(and (field type = \"image\") (field color = \"blue\") (field sku = \"ABC123\") "
	  "(field created > \"2026-01-01\") (field width >= \"1000\") (field tag = \"spring 2026\" phrase))" },
	{ "spring launch (type:image OR type:video) -tag:draft",
	  "(and (text \"spring\") (text \"launch\") (or (field type = \"image\") (field type = \"video\")) "
	  "(not (field tag = \"draft\")))" },
	/* FTS5 syntax comes out as literal words */
	{ "NEAR(a b)", "(and (text \"NEAR\") (text \"a\") (text \"b\"))" },
	{ "^start", "(text \"^start\")" },
	{ "+plus", "(text \"+plus\")" },
	{ "{a b}", "(and (text \"{a\") (text \"b}\"))" },
	{ "a\\b", "(text \"a\\\\b\")" },
};

static void test_valid(void **state)
{
	for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
		const struct ok_case *c = &ok_cases[i];
		struct query_error qe;
		struct qnode *q = NULL;
		char *d;
		int rc = query_parse(c->q, strlen(c->q), &q, &qe);

		if (rc != 0)
			fail_msg("'%s': unexpected error at %d: %s", c->q, qe.pos, qe.msg);
		d = query_dump(q);
		assert_non_null(d);
		if (strcmp(d, c->dump) != 0)
			fail_msg("'%s'\n  got:  %s\n  want: %s", c->q, d, c->dump);
		free(d);
		query_free(q);
	}
}

/* ---- malformed queries: error position and a piece of the message ---- */

struct bad_case {
	const char *q;
	int pos;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	/* empty */
	{ "", 0, "the query is empty" },
	{ "   \t ", 0, "the query is empty" },
	{ "\xe3\x80\x80", 0, "the query is empty" },
	/* quotes */
	{ "blue \"sneaker", 5, "unclosed quote starting at column 6" },
	{ "\"", 0, "unclosed quote starting at column 1" },
	{ "tag:\"spring", 4, "unclosed quote starting at column 5" },
	{ "运动 \"鞋", 7, "unclosed quote starting at column 4" },
	{ "\"\"", 0, "empty quotes at column 1" },
	{ "tag:\"  \"", 4, "empty quotes at column 5" },
	{ "ab\"cd\"", 2, "a quote inside a word at column 3" },
	{ "\"a\"b", 3, "unexpected 'b' after the closing quote at column 4" },
	{ "\"a\nb\"", 2, "control character U+000A inside quotes at column 3" },
	/* parentheses */
	{ "(a OR b", 0, "unclosed '(' at column 1" },
	{ "a ((b)", 2, "unclosed '(' at column 3" },
	{ "a OR b)", 6, "unmatched ')' at column 7" },
	{ ")", 0, "unmatched ')' at column 1" },
	{ "(a))", 3, "unmatched ')' at column 4" },
	{ "a AND (", 6, "unclosed '(' at column 7" },
	{ "-(", 1, "unclosed '(' at column 2" },
	{ "-()", 1, "empty parentheses at column 2" },
	{ "()", 0, "empty parentheses at column 1" },
	{ "a ( ) b", 2, "empty parentheses at column 3" },
	/* operators */
	{ "blue AND", 5, "'AND' at column 6 has nothing after it" },
	{ "blue OR", 5, "'OR' at column 6 has nothing after it" },
	{ "NOT", 0, "'NOT' at column 1 has nothing after it" },
	{ "a NOT", 2, "'NOT' at column 3 has nothing after it" },
	{ "(a AND) b", 3, "'AND' at column 4 has nothing after it" },
	{ "AND blue", 0, "'AND' at column 1 has nothing before it" },
	{ "(OR a)", 1, "'OR' at column 2 has nothing before it" },
	{ "blue AND OR red", 9, "'OR' at column 10 follows 'AND'" },
	{ "NOT AND x", 4, "'AND' at column 5 follows 'NOT'" },
	{ "-", 0, "'-' at column 1 must be followed directly" },
	{ "a - b", 2, "'-' at column 3 must be followed directly" },
	{ "(a -)", 3, "'-' at column 4 must be followed directly" },
	{ "-OR", 1, "'OR' at column 2 follows '-'" },
	{ "a && b", 2, "'&&' at column 3 is not an operator; use AND" },
	{ "a || b", 2, "use OR" },
	/* prefixes */
	{ "*", 0, "'*' at column 1 needs a word before it" },
	{ "a *", 2, "'*' at column 3 needs a word before it" },
	{ "*shoe", 0, "'*' at column 1 is only allowed at the end of a word" },
	{ "sn*ak", 2, "'*' at column 3 is only allowed at the end" },
	{ "sneak**", 5, "only allowed at the end" },
	{ "sku:*", 4, "'*' at column 5 needs a word before it" },
	/* fields */
	{ "foo-bar:x", 0, "'foo-bar' at column 1 is not a field name" },
	{ "12:30", 0, "'12' at column 1 is not a field name" },
	{ ":x", 0, "':' at column 1 has no field name before it" },
	{ "a 运动:x", 2, "'运动' at column 3 is not a field name" },
	{ "type:", 0, "the field 'type' at column 1 has no value" },
	{ "a Type: image", 2, "the field 'type' at column 3 has no value; write type:value" },
	{ "width:>", 0, "the comparison 'width:>' at column 1 has no value" },
	{ "width:>=", 0, "the comparison 'width:>=' at column 1 has no value" },
	{ "width:>>5", 7, "bad comparison 'width:>>5' at column 8" },
	{ "width:<>5", 7, "bad comparison" },
	{ "width:=5", 6, "bad comparison 'width:=5' at column 7" },
	{ "width:>10*", 9, "'*' at column 10 cannot be combined with a comparison" },
	{ "width:1000..", 10, "the range at column 11 needs a value on both sides of '..'" },
	{ "width:..2000", 6, "needs a value on both sides" },
	{ "width:1..2..3", 7, "too many dots in the range at column 8" },
	{ "width:1...3", 7, "too many dots" },
	{ "width:>1..2", 8, "a range at column 9 cannot follow a comparison" },
	{ "sku:A*..B", 4, "a range at column 5 cannot use quotes or '*'" },
	{ "tag:a..\"b c\"", 4, "cannot use quotes" },
	{ "tag:\"a\"..b", 7, "unexpected '.' after the closing quote at column 8" },
	{ "tag:ab\"c\"", 6, "a quote inside a word at column 7" },
	/* encoding */
	{ "blue \xff", 5, "invalid UTF-8 at column 6" },
	{ "运动\xe8\xbf", 6, "invalid UTF-8 at column 3" },
	{ "\xc0\xaf", 0, "invalid UTF-8 at column 1" },
	{ "\xed\xa0\x80", 0, "invalid UTF-8 at column 1" }, /* surrogate */
	{ "a\x01" "b", 1, "control character U+0001 at column 2" },
	{ "a\x7f", 1, "control character U+007F at column 2" },
	{ "a \xc2\x85", 2, "control character U+0085 at column 3" },
	{ "a\x1b[31m", 1, "control character U+001B" },
};

static void check_bad(const char *q, size_t len, int pos, const char *msg)
{
	struct query_error qe;
	struct qnode *n = (struct qnode *)&qe; /* must be reset to NULL */
	int rc = query_parse(q, len, &n, &qe);

	if (rc != DAM_EINVAL) {
		char *d = query_dump(n);
		fail_msg("'%.*s': expected an error, got rc %d: %s", (int)len, q, rc, d ? d : "?");
	}
	assert_null(n);
	if (qe.pos != pos || !strstr(qe.msg, msg))
		fail_msg("'%.*s'\n  got:  %d %s\n  want: %d ...%s...", (int)len, q, qe.pos, qe.msg, pos, msg);
	assert_true(utf8_valid(qe.msg, strlen(qe.msg)));
}

static void test_malformed(void **state)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
		check_bad(bad_cases[i].q, strlen(bad_cases[i].q), bad_cases[i].pos, bad_cases[i].msg);
	check_bad("a\0b", 3, 1, "control character U+0000 at column 2");
	check_bad(NULL, 0, 0, "the query is empty");
}

static void test_limits(void **state)
{
	char big[QUERY_MAX_BYTES + 2];
	struct strbuf_like {
		char b[1024];
		size_t n;
	} s = { .n = 0 };
	struct qnode *q = NULL;
	struct query_error qe;

	/* length: 4096 bytes parse, 4097 do not */
	memset(big, 'a', sizeof big);
	assert_int_equal(query_parse(big, QUERY_MAX_BYTES, &q, &qe), 0);
	query_free(q);
	check_bad(big, QUERY_MAX_BYTES + 1, QUERY_MAX_BYTES, "the query is longer than 4096 bytes");

	/* 64 terms parse, the 65th fails where it starts */
	for (int i = 0; i < QUERY_MAX_TERMS; i++)
		s.n += (size_t)snprintf(s.b + s.n, sizeof s.b - s.n, "%sw%d", i ? " " : "", i);
	assert_int_equal(query_parse(s.b, s.n, &q, &qe), 0);
	assert_int_equal(q->nkids, QUERY_MAX_TERMS);
	query_free(q);
	s.n += (size_t)snprintf(s.b + s.n, sizeof s.b - s.n, " x:1");
	check_bad(s.b, s.n, (int)s.n - 3, "the query has more than 64 terms");

	/* 32 levels parse, 33 do not; parentheses and NOTs both count */
	s.n = 0;
	for (int i = 0; i < QUERY_MAX_DEPTH; i++)
		s.b[s.n++] = '(';
	s.b[s.n++] = 'a';
	for (int i = 0; i < QUERY_MAX_DEPTH; i++)
		s.b[s.n++] = ')';
	assert_int_equal(query_parse(s.b, s.n, &q, &qe), 0);
	query_free(q);
	memmove(s.b + 1, s.b, s.n++);
	s.b[0] = '-';
	check_bad(s.b, s.n, QUERY_MAX_DEPTH, "the query nests deeper than 32 levels at column 33");
	s.n = 0;
	for (int i = 0; i <= QUERY_MAX_DEPTH; i++)
		s.n += (size_t)snprintf(s.b + s.n, sizeof s.b - s.n, "NOT ");
	s.b[s.n++] = 'a';
	check_bad(s.b, s.n, 4 * QUERY_MAX_DEPTH, "nests deeper than 32 levels");

	/* field name length */
	memset(big, 'f', 64);
	big[64] = ':';
	big[65] = 'x';
	assert_int_equal(query_parse(big, 66, &q, &qe), 0);
	query_free(q);
	memset(big, 'f', 65);
	big[65] = ':';
	big[66] = 'x';
	check_bad(big, 67, 0, "the field name at column 1 is longer than 64 characters");

	/* a long word is cut in the message, at a character boundary */
	s.n = 0;
	for (int i = 0; i < 30; i++)
		s.n += (size_t)snprintf(s.b + s.n, sizeof s.b - s.n, "运");
	s.n += (size_t)snprintf(s.b + s.n, sizeof s.b - s.n, ":x");
	check_bad(s.b, s.n, 0, "...' at column 1 is not a field name");
}

static void test_positions(void **state)
{
	const char *text = "运动 (a OR -tag:x) \"b c\"";
	struct qnode *q = NULL;
	struct query_error qe;
	struct qnode *grp, *neg;

	assert_int_equal(query_parse(text, strlen(text), &q, &qe), 0);
	assert_int_equal(q->kind, QNODE_AND);
	assert_int_equal(q->nkids, 3);
	assert_int_equal(q->pos, 0);
	assert_int_equal(q->kids[0]->pos, 0);
	grp = q->kids[1];
	assert_int_equal(grp->kind, QNODE_OR);
	assert_int_equal(grp->pos, 7); /* the '(' */
	assert_int_equal(grp->kids[0]->pos, 8);
	neg = grp->kids[1];
	assert_int_equal(neg->kind, QNODE_NOT);
	assert_int_equal(neg->pos, 13);
	assert_int_equal(neg->kids[0]->kind, QNODE_FIELD);
	assert_int_equal(neg->kids[0]->pos, 14);
	assert_string_equal(neg->kids[0]->name, "tag");
	assert_null(neg->kids[0]->value2);
	assert_int_equal(q->kids[2]->pos, 21);
	assert_true(q->kids[2]->phrase);
	query_free(q);
}

struct seen {
	char names[8][80];
	int pos[8];
	int n, stop_at;
};

static int on_field(const struct qnode *f, void *arg)
{
	struct seen *s = arg;

	assert_int_equal(f->kind, QNODE_FIELD);
	snprintf(s->names[s->n], sizeof s->names[0], "%s%s%s", f->name, query_op_name(f->op), f->value);
	s->pos[s->n++] = f->pos;
	return s->n == s->stop_at ? 7 : 0;
}

static void test_fields_walk(void **state)
{
	const char *text = "a Type:image (width:>=10 OR NOT color:Blue) created:1..2";
	struct qnode *q = NULL;
	struct query_error qe;
	struct seen s = { .n = 0 };

	assert_int_equal(query_parse(text, strlen(text), &q, &qe), 0);
	assert_int_equal(query_fields(q, on_field, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.names[0], "type=image");
	assert_int_equal(s.pos[0], 2);
	assert_string_equal(s.names[1], "width>=10");
	assert_int_equal(s.pos[1], 14);
	assert_string_equal(s.names[2], "color=Blue");
	assert_int_equal(s.pos[2], 32);
	assert_string_equal(s.names[3], "created..1");
	memset(&s, 0, sizeof s);
	s.stop_at = 2;
	assert_int_equal(query_fields(q, on_field, &s), 7); /* stops at the second */
	assert_int_equal(s.n, 2);
	assert_int_equal(query_fields(NULL, on_field, &s), 0);
	query_free(q);
}

static void test_dump_and_errors(void **state)
{
	struct query_error qe = { .pos = 3 };
	struct dam_err err;
	char *d = query_dump(NULL);

	assert_string_equal(d, "()");
	free(d);
	query_free(NULL);
	assert_string_equal(query_op_name(QOP_RANGE), "..");

	assert_int_equal(query_parse("(a", 2, &(struct qnode *){ NULL }, NULL), DAM_EINVAL);
	assert_int_equal(query_parse("a)", 2, &(struct qnode *){ NULL }, &qe), DAM_EINVAL);
	assert_int_equal(query_error_to_dam(&qe, DAM_EINVAL, &err), DAM_EINVAL);
	assert_int_equal(err.code, DAM_EINVAL);
	assert_string_equal(err.field, "q");
	assert_string_equal(err.msg, "unmatched ')' at column 2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_fields_walk),
		cmocka_unit_test(test_dump_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

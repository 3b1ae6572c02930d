/*
 * test_search_engine.c - the full-text engine behind struct search_backend,
 * called directly: index, unindex, expr, match and rank on a handful of
 * versions. The same cases run on the engine of the database at hand:
 * FTS5 on a SQLite file by default, PostgreSQL's (search_pg.c) when
 * DAM_TEST_PG_URL is set (tests/pg/run.sh), in a schema of its own made
 * fresh for each test - so both engines are held to the same answers:
 * case and diacritics folded, prefixes, phrases in order, CJK inside a
 * longer run, title before body, and hostile terms matched literally.
 */
#include "testutil.h"

#include <math.h>

#include "db/db.h"
#include "db/search_backend.h"

static const char *pg_url;

struct fx {
	char *dir;
	struct db *db;
	const struct search_backend *be;
};

/* The versions: id, title, tags, description, file name, body. */
struct ver {
	int64_t id;
	const char *title, *tags, *description, *filename, *body;
};

static const struct ver vers[] = {
	{ 1, "Crème Brûlée recipe", "food", "Dessert card", "brulee.txt", NULL },
	{ 2, "Blue running sneaker", "shoes", "Lightweight mesh upper", "sneaker-blue.jpg", NULL },
	{ 3, "白色运动鞋", "运动", "轻便 透气", "shoe.jpg", NULL },
	{ 4, "Catalogue", "print", "Every shoe", "cat.pdf", "every sneaker of the season" },
	{ 5, "it's a \"quoted\" back\\slash & pipe | bang! (paren) colon: star* <-> 'x':*", "", "", "x.txt", NULL },
	{ 6, "running blue", "", "", "other.jpg", NULL },
};
#define NV (sizeof vers / sizeof vers[0])

static void index_one(struct fx *f, const struct ver *v)
{
	struct search_doc *d = f->be->doc_new();
	struct dam_err err;

	assert_non_null(d);
	dam_err_clear(&err);
	assert_int_equal(f->be->doc_add(d, SEARCH_COL_TITLE, v->title), 0);
	assert_int_equal(f->be->doc_add(d, SEARCH_COL_TAGS, v->tags), 0);
	assert_int_equal(f->be->doc_add(d, SEARCH_COL_DESCRIPTION, v->description), 0);
	if (f->be->index(f->db, v->id, d, v->filename, v->body, &err) < 0)
		fail_msg("index %lld: %s", (long long)v->id, err.msg);
	f->be->doc_free(d);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char path[4200];

	f->dir = tu_tempdir();
	if (pg_url)
		snprintf(path, sizeof path, "%s", pg_url);
	else
		snprintf(path, sizeof path, "%s/t.db", f->dir);
	assert_int_equal(db_open(path, &f->db, NULL), 0);
	if (pg_url) /* a schema of its own: the "dam" database may hold a library */
		assert_int_equal(db_exec(f->db, "DROP SCHEMA IF EXISTS search_engine_test CASCADE;"
					 "CREATE SCHEMA search_engine_test; SET search_path TO search_engine_test", NULL), 0);
	f->be = search_backend_for(f->db);
	assert_string_equal(f->be->name, pg_url ? "pg" : "fts5");
	assert_int_equal(db_exec(f->db, f->be->ddl, NULL), 0);
	for (size_t i = 0; i < NV; i++)
		index_one(f, &vers[i]);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (pg_url)
		assert_int_equal(db_exec(f->db, "DROP SCHEMA search_engine_test CASCADE", NULL), 0);
	db_close(f->db);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* What a match saw: versions in ascending order with their ranks. */
struct seen {
	int64_t v[64];
	double rank[64];
	int n;
};

static int on_match(int64_t version, double rank, void *arg)
{
	struct seen *s = arg;
	int i = s->n++;

	assert_true(s->n <= 64);
	while (i > 0 && s->v[i - 1] > version) { /* insertion: engines give no order */
		s->v[i] = s->v[i - 1];
		s->rank[i] = s->rank[i - 1];
		i--;
	}
	s->v[i] = version;
	s->rank[i] = rank;
	return 0;
}

/* "1 3": the versions matching the terms (n of them; prefix marks which). */
static void match_terms(struct fx *f, const struct search_term *t, size_t n, bool ranked, struct seen *s, char *out,
			size_t len)
{
	struct strbuf e = STRBUF_INIT;
	struct dam_err err;
	size_t at = 0;

	memset(s, 0, sizeof *s);
	dam_err_clear(&err);
	assert_int_equal(f->be->expr(t, n, &e), 0);
	if (f->be->match(f->db, e.buf, ranked, on_match, s, NULL, &err) < 0)
		fail_msg("match %s (%s): %s", t[0].value, e.buf, err.msg);
	strbuf_release(&e);
	out[0] = '\0';
	for (int i = 0; i < s->n; i++)
		at += (size_t)snprintf(out + at, len - at, "%s%lld", i ? " " : "", (long long)s->v[i]);
}

static void expect(struct fx *f, const char *value, bool prefix, const char *want)
{
	struct search_term t = { value, prefix };
	struct seen s;
	char got[256];

	match_terms(f, &t, 1, false, &s, got, sizeof got);
	if (strcmp(got, want))
		fail_msg("%s%s: want [%s], got [%s]", value, prefix ? "*" : "", want, got);
}

static void test_case_and_accents(void **state)
{
	struct fx *f = *state;

	expect(f, "creme", false, "1");
	expect(f, "CRÈME", false, "1");
	expect(f, "BRULEE", false, "1");
	expect(f, "brûlée", false, "1");
	expect(f, "Cre\xcc\x80me", false, "1"); /* e + combining grave: decomposed input */
	expect(f, "SNEAKER", false, "2 4");
	expect(f, "crem", false, "");
}

static void test_prefix(void **state)
{
	struct fx *f = *state;

	expect(f, "sneak", true, "2 4");
	expect(f, "sneak", false, "");
	expect(f, "SNEA", true, "2 4");
	expect(f, "blue run", true, "2"); /* a phrase whose last word is a prefix */
	expect(f, "sneaker", true, "2 4");
}

static void test_phrase_order(void **state)
{
	struct fx *f = *state;

	expect(f, "blue running", false, "2");
	expect(f, "running blue", false, "6");
	expect(f, "blue sneaker", false, "");  /* both words, not next to each other */
	expect(f, "sneaker shoes", false, ""); /* title's last word, tags' first: columns apart */
	expect(f, "sneaker-blue", false, "2"); /* the file name's words */
}

static void test_cjk(void **state)
{
	struct fx *f = *state;

	expect(f, "运动鞋", false, "3");
	expect(f, "白色运动鞋", false, "3");
	expect(f, "鞋", false, "3");
	expect(f, "色", false, "3");
	expect(f, "运动", false, "3");
	expect(f, "鞋白", false, "");
	expect(f, "透气", false, "3");
	expect(f, "运动", true, "3");
}

static void test_weights(void **state)
{
	struct fx *f = *state;
	struct search_term t = { "sneaker", false };
	struct seen s, r;
	struct strbuf e = STRBUF_INIT;
	struct dam_err err;
	const uint32_t ids[] = { 4 };
	struct search_hits h = { 0 };
	char got[256];

	match_terms(f, &t, 1, true, &s, got, sizeof got);
	assert_string_equal(got, "2 4");
	if (!(s.rank[0] < s.rank[1])) /* lower is more relevant: title before body */
		fail_msg("title hit %g, body hit %g", s.rank[0], s.rank[1]);
	/* rank() of one version (fewer than half the matches: the list path)
	 * scores it as the full pass did */
	memset(&r, 0, sizeof r);
	dam_err_clear(&err);
	assert_int_equal(f->be->expr(&t, 1, &e), 0);
	assert_int_equal(f->be->rank(f->db, e.buf, NULL, ids, 1, 10, on_match, &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0], 4);
	assert_true(r.rank[0] == s.rank[1]);
	/* with what an unranked match counted (PostgreSQL: the term's hits,
	 * then not counted again), the same score */
	memset(&r, 0, sizeof r);
	assert_int_equal(f->be->match(f->db, e.buf, false, on_match, &r, &h, &err), 0);
	assert_int_equal(h.n, pg_url ? 1 : 0);
	if (pg_url)
		assert_int_equal(h.hits[0], 2);
	memset(&r, 0, sizeof r);
	assert_int_equal(f->be->rank(f->db, e.buf, &h, ids, 1, 10, on_match, &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_true(r.rank[0] == s.rank[1]);
	if (pg_url) { /* and they are what it ranks by: another count, another score */
		h.hits[0] = 1;
		memset(&r, 0, sizeof r);
		assert_int_equal(f->be->rank(f->db, e.buf, &h, ids, 1, 10, on_match, &r, &err), 0);
		assert_int_equal(r.n, 1);
		assert_true(r.rank[0] != s.rank[1]);
	}
	strbuf_release(&e);
}

/* "quay" in one column of each of five versions of equal length: title
 * before tags before description before file name before other, with
 * FTS5's bm25 scores (printed from FTS5) on both engines. */
static void test_weight_order(void **state)
{
	struct fx *f = *state;
	const struct ver v[] = {
		{ 20, "quay", "fa", "fb", "fc.jpg", "fd" }, { 21, "fe", "quay", "ff", "fg.jpg", "fh" },
		{ 22, "fi", "fj", "quay", "fk.jpg", "fl" }, { 23, "fm", "fn", "fo", "quay.jpg", "fp" },
		{ 24, "fq", "fr", "fs", "ft.jpg", "quay" },
	};
	static const double bm25[] = { -0.336791, -0.310805, -0.281813, -0.252385, -0.192180 };
	struct search_term t = { "quay", false };
	struct seen s;
	char got[256];

	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		index_one(f, &v[i]);
	match_terms(f, &t, 1, true, &s, got, sizeof got);
	assert_string_equal(got, "20 21 22 23 24");
	for (int i = 0; i + 1 < s.n; i++)
		if (!(s.rank[i] < s.rank[i + 1]))
			fail_msg("version %lld ranks %g, not before %lld's %g", (long long)s.v[i], s.rank[i],
				 (long long)s.v[i + 1], s.rank[i + 1]);
	for (int i = 0; i < s.n; i++)
		if (fabs(s.rank[i] - bm25[i]) > 1e-5)
			fail_msg("version %lld ranks %.6f, bm25 %.6f", (long long)s.v[i], s.rank[i], bm25[i]);
}

/* A rare word weighs more than a common one (bm25's idf): "creme" (one
 * version) in a title outranks "sneaker" (two) in a title. */
static void test_rare_word(void **state)
{
	struct fx *f = *state;
	const struct search_term t[] = { { "sneaker", false }, { "creme", false } };
	struct seen s;
	char got[256];

	match_terms(f, t, 2, true, &s, got, sizeof got);
	assert_string_equal(got, "1 2 4");
	if (!(s.rank[0] < s.rank[1]))
		fail_msg("creme's title %g, sneaker's title %g", s.rank[0], s.rank[1]);
}

/* Every character of the engines' query syntaxes, alone and in words:
 * never an error, and matched as the words they hold. */
static void test_hostile_terms(void **state)
{
	struct fx *f = *state;
	static const char *const nothing[] = {
		"&", "|", "!", "(", ")", ":", "*", "\\", "'", "\"", "''", ":*", "<->", "!(", "&|!():*\\", "\"\"", " ", "",
		"'\\'", "-", "NEAR(", "^",
	};

	for (size_t i = 0; i < sizeof nothing / sizeof *nothing; i++) {
		expect(f, nothing[i], false, "");
		expect(f, nothing[i], true, "");
	}
	expect(f, "it's", false, "5");
	expect(f, "\"quoted\"", false, "5");
	expect(f, "back\\slash", false, "5");
	expect(f, "bang!", false, "5");
	expect(f, "(paren)", false, "5");
	expect(f, "colon:", false, "5");
	expect(f, "star*", false, "5");
	expect(f, "'x':*", false, "5");
	expect(f, "pipe | bang", false, "5");
	expect(f, "x' | 'creme", false, ""); /* one phrase, not an OR */
	expect(f, "creme') | ('sneaker", false, "");
	expect(f, "sneaker\" OR \"creme", false, "");
}

static void test_or_and_unindex(void **state)
{
	struct fx *f = *state;
	const struct search_term t[] = { { "creme", false }, { "&", false }, { "运动鞋", false }, { "seas", true } };
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct dam_err err;
	struct seen s;
	char got[256];

	match_terms(f, t, 4, false, &s, got, sizeof got);
	assert_string_equal(got, "1 3 4");
	assert_int_equal(f->be->expr(t, 4, &a), 0); /* equal terms, equal expressions */
	assert_int_equal(f->be->expr(t, 4, &b), 0);
	assert_string_equal(a.buf, b.buf);
	strbuf_release(&a);
	strbuf_release(&b);
	dam_err_clear(&err);
	assert_int_equal(f->be->unindex(f->db, 2, &err), 0);
	assert_int_equal(f->be->unindex(f->db, 2, &err), 0); /* not there: no error */
	expect(f, "sneaker", false, "4");
	if (pg_url) { /* bm25's N and total length follow the rows */
		int64_t n;
		assert_int_equal(db_query_int(f->db, &n, NULL,
					      "SELECT count(*) FROM search_text_stats st WHERE docs = (SELECT count(*) FROM search_text)"
					      " AND words = (SELECT sum(len) FROM search_text)", ""), 0);
		assert_int_equal(n, 1);
	}
}

/* A word longer than PostgreSQL takes as a lexeme (2047 bytes) is indexed
 * and found, cut alike in the index and in the query. */
static void test_long_word(void **state)
{
	struct fx *f = *state;
	struct ver v = { 7, NULL, "", "", "long.txt", NULL };
	char *w = malloc(5001);

	memset(w, 'a', 5000);
	w[5000] = '\0';
	v.title = w;
	index_one(f, &v);
	expect(f, w, false, "7");
	free(w);
}

/* The match is a GIN index scan, whatever the table's size (with seq
 * scans off, as the planner would choose at 1M rows on a tiny table). */
static void test_pg_plan_uses_index(void **state)
{
	struct fx *f = *state;
	struct search_term t = { "sneaker", true };
	struct strbuf e = STRBUF_INIT, plan = STRBUF_INIT;
	struct db_stmt *st;
	int rc;

	if (!pg_url)
		skip();
	assert_int_equal(f->be->expr(&t, 1, &e), 0);
	assert_int_equal(db_exec(f->db, "SET enable_seqscan = off", NULL), 0);
	assert_int_equal(db_query(f->db, &st, NULL, "EXPLAIN SELECT version_num FROM search_text WHERE doc @@ CAST(? AS tsquery)",
				  "s", e.buf), 0);
	while ((rc = db_step(st, NULL)) == DB_ROW)
		strbuf_addf(&plan, "%s\n", db_col_text(st, 0));
	db_finalize(st);
	assert_int_equal(rc, DB_DONE);
	if (!strstr(plan.buf, "Bitmap Index Scan on search_text_doc"))
		fail_msg("plan does not use the GIN index:\n%s", plan.buf);
	assert_int_equal(db_exec(f->db, "RESET enable_seqscan", NULL), 0);
	strbuf_release(&e);
	strbuf_release(&plan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_case_and_accents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phrase_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cjk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weight_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rare_word, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_terms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_or_and_unindex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_word, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_plan_uses_index, setup, teardown),
	};

	pg_url = tu_pg_url();
	return cmocka_run_group_tests_name(pg_url ? "search engine (postgresql)" : "search engine (sqlite fts5)", tests,
					   NULL, NULL);
}

/*
 * test_search_cases.c - the shared table of search queries and their
 * expected results (search_cases.txt) over a fixed corpus: names, fields,
 * text, CJK, synonyms, facets, numbers and dates, a deleted asset and an
 * asset with two versions.
 *
 * The backend is a parameter: DAM_SEARCH_CASES_BACKEND names it ("sqlite",
 * the default, or "pg": the library on a fresh database of the PostgreSQL
 * server of DAM_TEST_PG_URL, dropped afterwards; tests/pg/run.sh), so the
 * same table proves the same queries return the same assets on each.
 *
 * DAM_SEARCH_CASES_PRINT=1 prints every case with what the engine returns
 * instead of checking: how the expected column was written (and checked by
 * eye) from the engine as it was before the search backend split.
 */
#include "testutil.h"

#include <jansson.h>

#include "core/asset.h"
#include "core/fielddef.h"
#include "core/ingest.h"
#include "core/library.h"
#include "core/search.h"
#include "core/vocab.h"
#include "db/db.h"

/* A fixed "now" for relative dates: 2026-06-01T00:00:00Z. */
#define NOW_MS 1780272000000ull

struct corpus_asset {
	const char *name;  /* file name (the asset's name) without .txt */
	const char *body;  /* the file's bytes (their length is the size) */
	const char *tags;  /* comma-separated */
	const char *fields[8]; /* "key=value" */
};

/* In ingest order: created order is this order. */
static const struct corpus_asset corpus[] = {
	{ "sneaker-blue", "lightweight mesh sneaker, size 42", "blue,running",
	  { "title=Blue running sneaker", "description=Lightweight mesh upper", "price=89.5", "season=ss25",
	    "material=mesh", "sku=SKU-001", "launch=2026-01-15" } },
	{ "sneaker-red", "red canvas", "red",
	  { "title=Red sneaker", "description=Classic canvas", "price=59", "season=aw25", "material=canvas",
	    "sku=SKU-002", "launch=2026-02-10" } },
	{ "trainers-sale", "sale sale sale sale sale sale sale sale", "sale",
	  { "title=Trainers sale", "description=Spring discount on trainers", "price=39.99", "season=ss25",
	    "sku=SKU-003" } },
	{ "cjk-shoe", "白色运动鞋 说明书", "运动",
	  { "title=白色运动鞋", "description=轻便 透气", "price=120", "season=ss25", "material=网布" } },
	{ "cjk-leather", "黑色皮鞋", "leather",
	  { "title=黑色皮鞋", "description=正装", "price=200", "season=aw25", "material=leather" } },
	{ "jacket", "denim jacket with brass buttons, washed", "blue,denim",
	  { "title=Blue denim jacket", "description=Washed denim with brass buttons", "price=150", "season=aw25",
	    "material=denim", "launch=2026-03-01" } },
	{ "coat", "wool", "winter",
	  { "title=Wool coat", "description=Warm winter coat", "price=300", "season=aw25", "material=wool" } },
	{ "cafe", "poster", "print",
	  { "title=Café crème poster", "description=Print for the café", "price=25" } },
	{ "brulee", "recipe card for crème brûlée", "print,food",
	  { "title=Crème brûlée recipe", "description=Dessert card", "price=5" } },
	{ "portrait", "portrait", "people",
	  { "title=Studio portrait", "description=Black and white portrait of the designer", "sku=SKU-010" } },
	{ "catalogue", "every shoe of the season", "catalogue,sneakers",
	  { "title=Footwear catalogue 2026", "description=Every shoe of the season: sneakers, boots, sandals",
	    "price=0", "launch=2026-05-20" } },
	{ "archived", "old", "archive", { "title=Old sneaker", "price=10" } },
};
#define NC (sizeof corpus / sizeof corpus[0])
#define ARCHIVED 11     /* deleted after ingest */
#define SECOND_VERSION 1 /* gets a second version: sneaker-red-v2.txt */

struct fx {
	char *dir;
	struct dam *dam;
	bool print;
	char pgdb[64]; /* the fresh PostgreSQL database, or "" */
};

static void define(struct dam *dam, const char *key, enum field_type type, bool facetable)
{
	struct fielddef d = { .key = key, .type = type, .searchable = true, .facetable = facetable };
	struct dam_err err;

	dam_err_clear(&err);
	if (fielddef_add(dam, &d, &err) < 0)
		fail_msg("fielddef_add %s: %s", key, err.msg);
}

/* footwear > sneakers (= trainers, 运动鞋); jacket (= coat). */
static void vocabulary(struct dam *dam)
{
	const char *const sneakers[2] = { "trainers", "运动鞋" }, *const jacket[1] = { "coat" };
	struct dam_err err;

	dam_err_clear(&err);
	if (vocab_add(dam, "products", &err) < 0 ||
	    vocab_term_set(dam, "products", "footwear", NULL, NULL, 0, NULL, NULL, 0, &err) < 0 ||
	    vocab_term_set(dam, "products", "sneakers", "footwear", sneakers, 2, NULL, NULL, 0, &err) < 0 ||
	    vocab_term_set(dam, "products", "jacket", NULL, jacket, 1, NULL, NULL, 0, &err) < 0)
		fail_msg("vocabulary: %s", err.msg);
}

static void write_file(const char *path, const char *body)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(body, fp);
	fclose(fp);
}

/* Splits "a,b" into v (pointers into buf); returns the count. */
static int split(char *buf, char sep, const char **v, int max)
{
	int n = 0;

	for (char *p = buf; *p && n < max;) {
		char *e = strchr(p, sep);
		v[n++] = p;
		if (!e)
			break;
		*e = '\0';
		p = e + 1;
	}
	return n;
}

static void ingest_one(struct fx *f, const struct corpus_asset *a, const char *new_version_of, char id[DAM_ID_LEN + 1])
{
	char path[4200], tagbuf[256], kv[8][256];
	const char *tags[8], *keys[8], *vals[8];
	struct ingest_opts o = { .tags = tags, .meta_keys = keys, .meta_values = vals, .new_version_of = new_version_of };
	struct ingest_result r;

	snprintf(tagbuf, sizeof tagbuf, "%s", a->tags);
	o.ntags = new_version_of ? 0 : split(tagbuf, ',', tags, 8);
	for (int i = 0; !new_version_of && i < 8 && a->fields[i]; i++) {
		char *eq;
		snprintf(kv[i], sizeof kv[i], "%s", a->fields[i]);
		eq = strchr(kv[i], '=');
		*eq = '\0';
		keys[o.nmeta] = kv[i];
		vals[o.nmeta++] = eq + 1;
	}
	snprintf(path, sizeof path, "%s/%s.txt", f->dir, a->name);
	write_file(path, a->body);
	if (ingest_file(f->dam, path, &o, &r) < 0 || (r.status != INGEST_ADDED && r.status != INGEST_VERSION))
		fail_msg("ingest %s: %s", a->name, r.err.msg);
	memcpy(id, r.asset_id, DAM_ID_LEN + 1);
}

/* url with its database name replaced by db: postgresql://HOST/DB?PARAMS. */
static void pg_url_with(const char *url, const char *db, char *out, size_t len)
{
	const char *host = strstr(url, "://"), *name = host ? strchr(host + 3, '/') : NULL;

	if (!name)
		fail_msg("DAM_TEST_PG_URL is not a postgresql://host/database URL: %s", url);
	snprintf(out, len, "%.*s/%s%s", (int)(name - url), url, db, name + strcspn(name, "?"));
}

/* Runs sql on DAM_TEST_PG_URL's database (CREATE/DROP DATABASE). */
static void pg_admin(const char *sql)
{
	const char *url = getenv("DAM_TEST_PG_URL");
	struct dam_err err;
	struct db *db;

	dam_err_clear(&err);
	if (!url || !*url)
		fail_msg("DAM_SEARCH_CASES_BACKEND=pg needs DAM_TEST_PG_URL (tests/pg/run.sh sets it)");
	if (db_open(url, &db, &err) < 0 || db_exec(db, sql, &err) < 0)
		fail_msg("%s: %s", sql, err.msg);
	db_close(db);
}

/* A library in dir on the named backend. */
static void library_on(struct fx *f, const char *backend, const char *lib)
{
	struct library_init_opts o = { 0 };
	char sql[128], url[4200];
	struct dam_err err;

	if (!strcmp(backend, "pg")) {
		snprintf(f->pgdb, sizeof f->pgdb, "dam_search_cases_%ld", (long)getpid());
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", f->pgdb); /* one statement each: */
		pg_admin(sql);                                                     /* no transaction */
		snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->pgdb);
		pg_admin(sql);
		pg_url_with(getenv("DAM_TEST_PG_URL"), f->pgdb, url, sizeof url);
		o.db_url = url;
	} else if (strcmp(backend, "sqlite"))
		fail_msg("DAM_SEARCH_CASES_BACKEND=%s: no such backend (sqlite, pg)", backend);
	dam_err_clear(&err);
	if (library_init_with(lib, &o, &err) < 0)
		fail_msg("library_init on %s: %s", backend, err.msg);
}

/* The corpus in a new library on the named backend. */
static void corpus_open(struct fx *f, const char *backend)
{
	static const struct corpus_asset v2 = { "sneaker-red-v2", "red canvas, second shoot with laces", "", { NULL } };
	char lib[4200], ids[NC][DAM_ID_LEN + 1], ignored[DAM_ID_LEN + 1];
	struct dam_err err;

	snprintf(lib, sizeof lib, "%s/lib", f->dir);
	library_on(f, backend, lib);
	assert_int_equal(library_open(lib, &f->dam, NULL), 0);
	define(f->dam, "price", FIELD_NUMBER, true);
	define(f->dam, "launch", FIELD_DATE, true);
	define(f->dam, "season", FIELD_TEXT, true);
	define(f->dam, "material", FIELD_TEXT, true);
	vocabulary(f->dam);
	for (size_t i = 0; i < NC; i++)
		ingest_one(f, &corpus[i], NULL, ids[i]);
	ingest_one(f, &v2, ids[SECOND_VERSION], ignored);
	dam_err_clear(&err);
	if (asset_delete(f->dam, ids[ARCHIVED], &err) < 0)
		fail_msg("asset_delete: %s", err.msg);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	const char *backend = getenv("DAM_SEARCH_CASES_BACKEND"), *print = getenv("DAM_SEARCH_CASES_PRINT");

	f->dir = tu_tempdir();
	f->print = print && !strcmp(print, "1");
	corpus_open(f, backend && *backend ? backend : "sqlite");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	library_close(f->dam);
	if (f->pgdb[0]) {
		char sql[128];
		snprintf(sql, sizeof sql, "DROP DATABASE %s", f->pgdb);
		pg_admin(sql);
	}
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* One line of the table: query | options | expected names. */
struct search_case {
	char query[1024], options[1024], expected[1024];
	int line;
};

/* Options: sort=S limit=N offset=N page=N (follow next_cursor to page N)
 * prefix (as you type) set (compare as a set, order aside). */
struct case_opts {
	char sort[32];
	int limit, page;
	uint64_t offset;
	bool prefix, set;
};

static void parse_opts(const struct search_case *c, struct case_opts *o)
{
	char buf[1024];
	const char *tok[16];
	int n;

	memset(o, 0, sizeof *o);
	o->page = 1;
	snprintf(buf, sizeof buf, "%s", c->options);
	n = split(buf, ' ', tok, 16);
	for (int i = 0; i < n; i++) {
		if (!*tok[i])
			continue;
		if (!strncmp(tok[i], "sort=", 5))
			snprintf(o->sort, sizeof o->sort, "%s", tok[i] + 5);
		else if (!strncmp(tok[i], "limit=", 6))
			o->limit = (int)strtol(tok[i] + 6, NULL, 10);
		else if (!strncmp(tok[i], "offset=", 7))
			o->offset = strtoull(tok[i] + 7, NULL, 10);
		else if (!strncmp(tok[i], "page=", 5))
			o->page = (int)strtol(tok[i] + 5, NULL, 10);
		else if (!strcmp(tok[i], "prefix"))
			o->prefix = true;
		else if (!strcmp(tok[i], "set"))
			o->set = true;
		else
			fail_msg("search_cases.txt:%d: unknown option %s", c->line, tok[i]);
	}
}

/* The names of a result's items, without ".txt", space-separated. */
static void names_of(const json_t *o, char *out, size_t len)
{
	const json_t *it;
	size_t i, at = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(o, "items"), i, it) {
		const char *name = json_string_value(json_object_get(it, "name"));
		size_t n = strlen(name);
		if (n > 4 && !strcmp(name + n - 4, ".txt"))
			n -= 4;
		at += (size_t)snprintf(out + at, len - at, "%s%.*s", at ? " " : "", (int)n, name);
		if (at >= len)
			fail_msg("result too long");
	}
}

/* Runs a case (following cursors to its page); the names found go to out. */
static void run_case(struct fx *f, const struct search_case *c, char *out, size_t len)
{
	struct case_opts o;
	struct search_request r = { .q = c->query, .now_ms = NOW_MS };
	char cursor[4096] = "";
	json_t *res = NULL;
	struct dam_err err;

	parse_opts(c, &o);
	r.sort = o.sort[0] ? o.sort : NULL;
	r.limit = o.limit ? o.limit : 1000;
	r.offset = o.offset;
	r.prefix_last = o.prefix;
	for (int p = 1; p <= o.page; p++) {
		r.cursor = cursor[0] ? cursor : NULL;
		json_decref(res);
		dam_err_clear(&err);
		if (search_run(f->dam, &r, &res, &err) < 0)
			fail_msg("search_cases.txt:%d: %s: %s", c->line, c->query, err.msg);
		if (p < o.page) {
			const char *next = json_string_value(json_object_get(res, "next_cursor"));
			if (!next)
				fail_msg("search_cases.txt:%d: no page %d", c->line, p + 1);
			snprintf(cursor, sizeof cursor, "%s", next);
		}
	}
	if (!o.limit && (size_t)json_integer_value(json_object_get(res, "total")) != json_array_size(json_object_get(res, "items")))
		fail_msg("search_cases.txt:%d: total and items differ", c->line);
	names_of(res, out, len);
	json_decref(res);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* s with its words sorted (for "set" cases). */
static void sorted_words(const char *s, char *out, size_t len)
{
	char buf[1024];
	const char *w[64];
	int n;
	size_t at = 0;

	snprintf(buf, sizeof buf, "%s", s);
	n = buf[0] ? split(buf, ' ', w, 64) : 0;
	qsort(w, (size_t)n, sizeof *w, cmp_str);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		at += (size_t)snprintf(out + at, len - at, "%s%s", i ? " " : "", w[i]);
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (s[i] == ' ')
		i++;
	memmove(s, s + i, n - i + 1);
}

/* Reads "query | options | expected" (queries hold no '|'; each part
 * trimmed); false at the end of the file. */
static bool next_case(FILE *fp, struct search_case *c, int *line)
{
	char buf[1024];

	while (fgets(buf, sizeof buf, fp)) {
		char *a, *b;
		(*line)++;
		if (buf[0] == '#' || buf[0] == '\n')
			continue;
		if (!(a = strchr(buf, '|')) || !(b = strchr(a + 1, '|')))
			fail_msg("search_cases.txt:%d: want query | options | expected", *line);
		*a = *b = '\0';
		snprintf(c->query, sizeof c->query, "%s", buf);
		snprintf(c->options, sizeof c->options, "%s", a + 1);
		snprintf(c->expected, sizeof c->expected, "%s", b + 1);
		trim(c->query);
		trim(c->options);
		trim(c->expected);
		c->line = *line;
		return true;
	}
	return false;
}

static void test_cases(void **state)
{
	struct fx *f = *state;
	const char *path = getenv("DAM_SEARCH_CASES");
	FILE *fp = fopen(path ? path : "tests/unit/search_cases.txt", "r");
	struct search_case c;
	int line = 0, ncases = 0, failed = 0;

	if (!fp)
		fail_msg("cannot open %s (DAM_SEARCH_CASES)", path ? path : "tests/unit/search_cases.txt");
	while (next_case(fp, &c, &line)) {
		char got[1024], want[1024], got_sorted[1024];
		struct case_opts o;
		ncases++;
		run_case(f, &c, got, sizeof got);
		if (f->print) {
			printf("%s | %s | %s\n", c.query, c.options, got);
			continue;
		}
		parse_opts(&c, &o);
		snprintf(want, sizeof want, "%s", c.expected);
		if (o.set) {
			sorted_words(got, got_sorted, sizeof got_sorted);
			sorted_words(c.expected, want, sizeof want);
			snprintf(got, sizeof got, "%s", got_sorted);
		}
		if (strcmp(got, want)) {
			print_error("search_cases.txt:%d: %s [%s]\n  want: %s\n  got:  %s\n", c.line, c.query, c.options, want, got);
			failed++;
		}
	}
	fclose(fp);
	if (ncases < 40)
		fail_msg("only %d cases", ncases);
	if (failed)
		fail_msg("%d of %d cases differ", failed, ncases);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

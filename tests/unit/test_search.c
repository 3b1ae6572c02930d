/* test_search.c - the search engine over a real library: totals, facet
 * counts, CJK, search_sync idempotence, triggers. */
#include "testutil.h"

#include <jansson.h>

#include "core/asset.h"
#include "core/fielddef.h"
#include "core/ingest.h"
#include "core/library.h"
#include "core/search.h"
#include "core/search_cache.h"
#include "core/search_index.h"
#include "core/vocab.h"
#include "db/search_backend.h"

#define NA 12

struct fx {
	char *dir;
	struct dam *dam;
	char ids[NA][DAM_ID_LEN + 1];
};

static const char *const titles[NA] = {
	"blue sneaker launch", "白色运动鞋", "Café crème", "red sneaker", "蓝色 jacket", "running shoe",
	"blue running shoe", "spring campaign", "黑色皮鞋", "Crème brûlée", "fiets zomer", "studio portrait",
};

/* tags of asset i: "even"/"odd", and "blue" on 0, 4, 6 */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char lib[4200], file[4200];

	f->dir = tu_tempdir();
	snprintf(lib, sizeof lib, "%s/lib", f->dir);
	assert_int_equal(library_init(lib, NULL), 0);
	assert_int_equal(library_open(lib, &f->dam, NULL), 0);
	for (int i = 0; i < NA; i++) {
		const char *tags[2] = { i % 2 ? "odd" : "even", "blue" };
		const char *keys[2] = { "title", "sku" }, *vals[2];
		char sku[32];
		struct ingest_opts o = { .tags = tags, .ntags = (i == 0 || i == 4 || i == 6) ? 2 : 1,
					 .meta_keys = keys, .meta_values = vals, .nmeta = 2 };
		struct ingest_result r;
		FILE *fp;
		snprintf(sku, sizeof sku, "SKU-%04d", i);
		vals[0] = titles[i];
		vals[1] = sku;
		snprintf(file, sizeof file, "%s/file%02d.txt", f->dir, i);
		fp = fopen(file, "w");
		fprintf(fp, "search unit test file %d\n", i);
		fclose(fp);
		assert_int_equal(ingest_file(f->dam, file, &o, &r), 0);
		assert_int_equal(r.status, INGEST_ADDED);
		memcpy(f->ids[i], r.asset_id, sizeof r.asset_id);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	library_close(f->dam);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Runs q; returns the result (caller frees). */
static json_t *run(struct fx *f, const char *q, bool facets)
{
	struct search_request r = { .q = q, .limit = 1000, .facets = facets };
	struct dam_err err;
	json_t *out = NULL;

	dam_err_clear(&err);
	if (search_run(f->dam, &r, &out, &err) < 0)
		fail_msg("search %s: %s", q, err.msg);
	return out;
}

static int64_t total(struct fx *f, const char *q)
{
	json_t *o = run(f, q, false);
	int64_t n = json_integer_value(json_object_get(o, "total"));

	assert_int_equal(json_array_size(json_object_get(o, "items")), n);
	json_decref(o);
	return n;
}

/* True when asset index i is in the result of q. */
static bool has(struct fx *f, const char *q, int i)
{
	json_t *o = run(f, q, false), *it;
	size_t k;
	bool found = false;

	json_array_foreach(json_object_get(o, "items"), k, it)
		found = found || !strcmp(json_string_value(json_object_get(it, "id")), f->ids[i]);
	json_decref(o);
	return found;
}

static int64_t facet(json_t *o, const char *facet, const char *value)
{
	return json_integer_value(json_object_get(json_object_get(json_object_get(o, "facets"), facet), value));
}

static void patch(struct fx *f, int i, const char *key, const char *value, const char *add, const char *remove)
{
	const char *keys[1] = { key }, *vals[1] = { value }, *adds[1] = { add }, *rems[1] = { remove };
	struct asset_change c = { .keys = keys, .values = vals, .nfields = key ? 1 : 0, .add = adds, .nadd = add ? 1 : 0,
				  .remove = rems, .nremove = remove ? 1 : 0 };
	struct dam_err err;

	dam_err_clear(&err);
	if (asset_patch(f->dam, f->ids[i], &c, NULL, &err) < 0)
		fail_msg("asset_patch %s %s=%s +%s -%s: %s", f->ids[i], key ? key : "", value ? value : "", add ? add : "",
			 remove ? remove : "", err.msg);
}

static void test_totals_and_text(void **state)
{
	struct fx *f = *state;

	assert_int_equal(total(f, ""), NA);
	assert_int_equal(total(f, "sneaker"), 2);
	assert_int_equal(total(f, "SNEAKER"), 2);
	assert_int_equal(total(f, "sneak*"), 2);
	assert_int_equal(total(f, "running shoe"), 2);
	assert_int_equal(total(f, "\"blue running\""), 1);
	assert_int_equal(total(f, "sneaker OR shoe"), 4);
	assert_int_equal(total(f, "sneaker -blue"), 1);
	assert_int_equal(total(f, "cafe"), 1);       /* diacritics folded */
	assert_int_equal(total(f, "creme"), 2);
	assert_int_equal(total(f, "brulee"), 1);
	assert_int_equal(total(f, "sku"), NA);       /* other fields are text too */
	assert_int_equal(total(f, "0007"), 1);
	assert_int_equal(total(f, "file03"), 1);     /* the file name */
	assert_int_equal(total(f, "nosuchword"), 0);
	assert_true(has(f, "cafe", 2));
	assert_true(has(f, "\"blue running shoe\"", 6));
}

static void test_cjk(void **state)
{
	struct fx *f = *state;

	assert_int_equal(total(f, "运动鞋"), 1);
	assert_true(has(f, "运动鞋", 1));
	assert_int_equal(total(f, "白色运动鞋"), 1);
	assert_int_equal(total(f, "蓝色"), 1);
	assert_true(has(f, "蓝色", 4));
	assert_int_equal(total(f, "鞋"), 2);         /* 白色运动鞋, 黑色皮鞋 */
	assert_int_equal(total(f, "色"), 3);
	assert_int_equal(total(f, "皮鞋"), 1);
	assert_int_equal(total(f, "运动*"), 1);
	assert_int_equal(total(f, "鞋白"), 0);       /* not a substring */
	assert_int_equal(total(f, "蓝色 jacket"), 1);
	assert_int_equal(total(f, "\"蓝色 jacket\""), 1);
	/* A word and then a CJK run in one phrase (the index puts the run's
	 * single characters between the word and the pairs). */
	assert_int_equal(total(f, "\"blue 运动鞋\""), 0);
	patch(f, 1, "title", "Nike 运动鞋", NULL, NULL);
	assert_int_equal(total(f, "\"Nike 运动鞋\""), 1);
	/* the same in a free field (the "other" column) */
	patch(f, 8, "caption", "Nike 运动鞋", NULL, NULL);
	assert_true(has(f, "\"Nike 运动鞋\"", 8));
	assert_int_equal(total(f, "\"Nike 运动鞋\""), 2);
}

static void test_facet_counts(void **state)
{
	struct fx *f = *state;
	json_t *o;

	o = run(f, "", true);
	assert_int_equal(json_integer_value(json_object_get(o, "total")), NA);
	assert_int_equal(facet(o, "tag", "even"), NA / 2);
	assert_int_equal(facet(o, "tag", "odd"), NA / 2);
	assert_int_equal(facet(o, "tag", "blue"), 3);
	assert_int_equal(facet(o, "type", "document") + facet(o, "type", "other"), NA);
	json_decref(o);

	/* tag:blue: the tag facet ignores the tag filter; others apply it. */
	o = run(f, "tag:blue", true);
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 3);
	assert_int_equal(facet(o, "tag", "even"), NA / 2);
	assert_int_equal(facet(o, "tag", "blue"), 3);
	json_decref(o);

	/* text + a tag: the text applies to the tag counts. */
	o = run(f, "shoe tag:odd", true);
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 1); /* 5 "running shoe" */
	assert_int_equal(facet(o, "tag", "odd"), 1);
	assert_int_equal(facet(o, "tag", "even"), 1); /* 6 "blue running shoe" */
	assert_int_equal(facet(o, "tag", "blue"), 1);
	json_decref(o);

	/* an OR of one facet's values (a multiple choice in the UI's facet
	 * sidebar) is that facet's own filter: its counts ignore it. */
	o = run(f, "tag:blue OR tag:odd", true);
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 9);
	assert_int_equal(facet(o, "tag", "even"), NA / 2);
	assert_int_equal(facet(o, "tag", "odd"), NA / 2);
	assert_int_equal(facet(o, "tag", "blue"), 3);
	assert_int_equal(facet(o, "type", "document") + facet(o, "type", "other"), 9);
	json_decref(o);

	/* an OR across facets is no facet's own filter: counts follow the result. */
	o = run(f, "tag:blue OR type:zzz", true);
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 3);
	assert_int_equal(facet(o, "tag", "blue"), 3);
	assert_int_equal(facet(o, "tag", "even") + facet(o, "tag", "odd"), 3);
	json_decref(o);
}

static void test_multichoice_facet_splits_values(void **state)
{
	struct fx *f = *state;
	struct fielddef d = { .key = "material", .type = FIELD_MULTICHOICE, .vocab = "materials", .facetable = true,
			      .searchable = true };
	struct dam_err err;
	json_t *o;

	dam_err_clear(&err);
	assert_int_equal(vocab_add(f->dam, "materials", &err), 0);
	assert_int_equal(vocab_term_set(f->dam, "materials", "cotton", NULL, NULL, 0, NULL, NULL, 0, &err), 0);
	assert_int_equal(vocab_term_set(f->dam, "materials", "wool", NULL, NULL, 0, NULL, NULL, 0, &err), 0);
	if (fielddef_add(f->dam, &d, &err) < 0)
		fail_msg("fielddef_add: %s", err.msg);
	patch(f, 0, "material", "cotton,wool", NULL, NULL);
	patch(f, 3, "material", "wool", NULL, NULL);
	o = run(f, "", true);
	assert_int_equal(facet(o, "material", "wool"), 2);
	assert_int_equal(facet(o, "material", "cotton"), 1);
	assert_int_equal(facet(o, "material", "cotton,wool"), 0);
	json_decref(o);
	assert_int_equal(total(f, "material:wool"), 2);
}

/* Many facetable fields (and long field names): every facet is counted. */
static void test_many_facets(void **state)
{
	struct fx *f = *state;
	char key[80], keys[70][80];
	const char *kp[70], *vp[70];
	struct asset_change c = { 0 };
	struct dam_err err;
	json_t *o;

	dam_err_clear(&err);
	for (int i = 0; i < 70; i++) {
		struct fielddef d = { .type = FIELD_TEXT, .facetable = true };
		/* a few keys longer than 48 characters */
		snprintf(key, sizeof key, i < 5 ? "a_rather_long_facet_field_name_for_testing_number_%02d" : "f%02d", i);
		snprintf(keys[i], sizeof keys[i], "%s", key);
		d.key = keys[i];
		if (fielddef_add(f->dam, &d, &err) < 0)
			fail_msg("fielddef_add %s: %s", key, err.msg);
		kp[i] = keys[i];
		vp[i] = "v";
	}
	c.keys = kp;
	c.values = vp;
	c.nfields = 70;
	if (asset_patch(f->dam, f->ids[0], &c, NULL, &err) < 0)
		fail_msg("asset_patch: %s", err.msg);
	o = run(f, "", true);
	assert_int_equal(facet(o, "tag", "blue"), 3);
	assert_int_equal(facet(o, "tag", "even"), NA / 2);
	assert_int_equal(facet(o, "f42", "v"), 1);
	assert_int_equal(facet(o, keys[0], "v"), 1);
	assert_true(json_object_size(json_object_get(o, "facets")) >= 70 + 3);
	json_decref(o);
}

/* A facetable field that no asset has yet is a known field with no match;
 * once a value is set it is found. */
static void test_facetable_field_without_values(void **state)
{
	struct fx *f = *state;
	struct fielddef d = { .key = "season", .type = FIELD_TEXT, .facetable = true };
	struct dam_err err;

	dam_err_clear(&err);
	assert_int_equal(fielddef_add(f->dam, &d, &err), 0);
	assert_int_equal(total(f, "season:SS25"), 0);
	patch(f, 4, "season", "SS25", NULL, NULL);
	assert_int_equal(total(f, "season:SS25"), 1);
	assert_int_equal(total(f, "season:ss25"), 1);
}

/* Vocabulary expansion: a term stands for its synonyms and descendants,
 * in text and in facet filters; a synonym resolves to its term first. */
static void test_synonyms(void **state)
{
	struct fx *f = *state;
	const char *const syn[2] = { "trainers", "运动鞋" };
	struct dam_err err;

	dam_err_clear(&err);
	assert_int_equal(vocab_add(f->dam, "products", &err), 0);
	assert_int_equal(vocab_term_set(f->dam, "products", "footwear", NULL, NULL, 0, NULL, NULL, 0, &err), 0);
	if (vocab_term_set(f->dam, "products", "sneakers", "footwear", syn, 2, NULL, NULL, 0, &err) < 0)
		fail_msg("vocab_term_set: %s", err.msg);
	patch(f, 3, "title", "trainers sale", NULL, NULL);
	patch(f, 5, "title", "sneakers", NULL, NULL);
	patch(f, 7, "title", "footwear catalogue", "sneakers", NULL);
	/* sneakers = 5 (title) and 7 (tag), trainers = 3, 运动鞋 in 白色运动鞋 = 1 */
	assert_int_equal(total(f, "sneakers"), 4);
	assert_true(has(f, "sneakers", 1) && has(f, "sneakers", 3) && has(f, "sneakers", 5) && has(f, "sneakers", 7));
	assert_int_equal(total(f, "trainers"), 4);
	assert_int_equal(total(f, "Trainers"), 4);
	assert_int_equal(total(f, "运动鞋"), 4);
	/* the parent term matches its children (and 7 has the word itself) */
	assert_int_equal(total(f, "footwear"), 4);
	assert_int_equal(total(f, "footwear -tag:sneakers"), 3);
	/* facet filters: tag "sneakers" on asset 7 */
	assert_int_equal(total(f, "tag:trainers"), 1);
	assert_true(has(f, "tag:trainers", 7));
	assert_int_equal(total(f, "tag:footwear"), 1);
	/* a word in no vocabulary is itself; prefixes are not expanded */
	assert_int_equal(total(f, "sneaker"), 1); /* 0 "blue sneaker launch"; 3 "red sneaker" became "trainers sale" */
	assert_int_equal(total(f, "train*"), 1);
}



static int64_t facet_total(struct fx *f, const char *name, const char *value)
{
	json_t *o = run(f, "", true);
	int64_t n = facet(o, name, value);

	json_decref(o);
	return n;
}

/* A library made before synonyms were stored as terms: the migration
 * rewrites choice values and each multichoice item, and nothing else. */
static void test_migration_canonicalises_synonyms(void **state)
{
	char *dir = tu_tempdir(), path[4200];
	const struct db_migration *migs;
	struct db *db = NULL;
	struct dam_err err;
	int n, mine = -1;
	char got[4][64];
	struct db_stmt *st;

	(void)state;
	snprintf(path, sizeof path, "%s/old.db", dir);
	dam_err_clear(&err);
	assert_int_equal(db_open(path, &db, &err), 0);
	migs = db_migrations(db, &n);
	for (int i = 0; i < n; i++)
		if (strstr(migs[i].sql, "search_field_defs_i"))
			mine = i;
	assert_true(mine > 0);
	assert_int_equal(db_migrate(db, migs, mine, &err), 0);
	assert_int_equal(db_exec(db,
				 "INSERT INTO assets(id, name, kind, created_at, updated_at) VALUES ('a1','a','other',1,1);"
				 "INSERT INTO vocabs VALUES ('products', 1);"
				 "INSERT INTO vocab_terms(vocab, term, created_at) VALUES ('products','sneakers',1), ('products','boots',1);"
				 "INSERT INTO vocab_synonyms VALUES ('products','trainers','sneakers'), ('products','wellies','boots');"
				 "INSERT INTO field_defs(key, type, vocab, created_at, updated_at) VALUES"
				 " ('category','choice','products',1,1), ('styles','multichoice','products',1,1);"
				 "INSERT INTO fields(asset_id, key, value, updated_at) VALUES"
				 " ('a1','category','Trainers',1), ('a1','styles','boots, trainers,wellies',1),"
				 " ('a1','note','trainers',1), ('a1','title','boots, trainers',1);",
				 &err), 0);
	assert_int_equal(db_migrate(db, migs, n, &err), 0);
	assert_int_equal(db_query(db, &st, &err, "SELECT value FROM fields WHERE asset_id='a1' ORDER BY key", ""), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(db_step(st, &err), DB_ROW);
		snprintf(got[i], sizeof got[i], "%s", db_col_text(st, 0));
	}
	db_finalize(st);
	assert_string_equal(got[0], "sneakers");              /* category */
	assert_string_equal(got[1], "trainers");              /* note: a free field */
	assert_string_equal(got[2], "boots, sneakers, boots"); /* styles */
	assert_string_equal(got[3], "boots, trainers");       /* title: text */
	db_close(db);
	tu_rmrf(dir);
	free(dir);
}

/* ---- issue #11: ranges on defined fields, as-you-type prefixes, stored
 * synonyms ---- */

#define NOW_2026_06_01 1780272000000ull /* 2026-06-01T00:00:00Z */

static json_t *run_req(struct fx *f, struct search_request *r)
{
	struct dam_err err;
	json_t *out = NULL;

	r->limit = 1000;
	dam_err_clear(&err);
	if (search_run(f->dam, r, &out, &err) < 0)
		fail_msg("search %s: %s", r->q, err.msg);
	return out;
}

/* The asset indexes of a result, as "0,3,5" (ascending). */
static char *which(struct fx *f, json_t *o)
{
	static char buf[256];
	json_t *it;
	size_t k;

	buf[0] = '\0';
	for (int i = 0; i < NA; i++)
		json_array_foreach(json_object_get(o, "items"), k, it)
			if (!strcmp(json_string_value(json_object_get(it, "id")), f->ids[i]))
				snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%d", buf[0] ? "," : "", i);
	return buf;
}

static void expect_at(struct fx *f, const char *q, uint64_t now, const char *want)
{
	struct search_request r = { .q = q, .now_ms = now };
	json_t *o = run_req(f, &r);

	if (strcmp(which(f, o), want))
		fail_msg("%s: got [%s], want [%s]", q, which(f, o), want);
	json_decref(o);
}

static void define(struct fx *f, const char *key, enum field_type type, bool facetable, const char *vocab)
{
	struct fielddef d = { .key = key, .type = type, .searchable = true, .facetable = facetable, .vocab = vocab };
	struct dam_err err;

	dam_err_clear(&err);
	if (fielddef_add(f->dam, &d, &err) < 0)
		fail_msg("fielddef_add %s: %s", key, err.msg);
}

static void test_date_values(void **state)
{
	uint64_t ms;
	bool day;

	(void)state;
	assert_int_equal(search_date_value("now", NOW_2026_06_01, &ms, &day), 0);
	assert_true(ms == NOW_2026_06_01 && !day);
	assert_int_equal(search_date_value("now+30d", NOW_2026_06_01, &ms, &day), 0);
	assert_true(ms == NOW_2026_06_01 + 30 * 86400000ull);
	assert_int_equal(search_date_value("now-7d", NOW_2026_06_01, &ms, &day), 0);
	assert_true(ms == NOW_2026_06_01 - 7 * 86400000ull);
	assert_int_equal(search_date_value("now+12h", NOW_2026_06_01, &ms, &day), 0);
	assert_true(ms == NOW_2026_06_01 + 12 * 3600000ull);
	assert_int_equal(search_date_value("now-2w", NOW_2026_06_01, &ms, &day), 0);
	assert_true(ms == NOW_2026_06_01 - 14 * 86400000ull);
	assert_int_equal(search_date_value("7d", NOW_2026_06_01, &ms, &day), 0); /* 7 days ago */
	assert_true(ms == NOW_2026_06_01 - 7 * 86400000ull);
	assert_int_equal(search_date_value("2026-06-01", 0, &ms, &day), 0);
	assert_true(ms == NOW_2026_06_01 && day);
	assert_int_equal(search_date_value("2026-06-01T02:00:00+02:00", 0, &ms, &day), 0);
	assert_true(ms == NOW_2026_06_01 && !day);
	for (const char *const *b = (const char *const[]){ "now+", "now+x", "now*2d", "now+7y", "nowish", "tomorrow", "2026-13-01",
							    "30", "", NULL };
	     *b; b++)
		assert_int_equal(search_date_value(*b, NOW_2026_06_01, &ms, &day), DAM_EINVAL);
}

static void test_ranges_on_defined_fields(void **state)
{
	struct fx *f = *state;
	const uint64_t now = NOW_2026_06_01;
	struct search_request r = { .q = "", .facets = true, .now_ms = now };
	json_t *o, *price, *b;
	size_t i;
	int64_t sum = 0;

	define(f, "price", FIELD_NUMBER, true, NULL);
	define(f, "licence_expiry", FIELD_DATE, true, NULL);
	patch(f, 0, "price", "5", NULL, NULL);
	patch(f, 1, "price", "15", NULL, NULL);
	patch(f, 2, "price", "25.5", NULL, NULL);
	patch(f, 0, "licence_expiry", "2026-06-15", NULL, NULL);
	patch(f, 1, "licence_expiry", "2027-01-10", NULL, NULL);
	patch(f, 2, "licence_expiry", "2029-05-01T12:00:00Z", NULL, NULL);
	expect_at(f, "price:10..20", now, "1");
	expect_at(f, "price:>=15", now, "1,2");
	expect_at(f, "price:<15", now, "0");
	expect_at(f, "price:25.5", now, "2");
	expect_at(f, "licence_expiry:<2028-01-01", now, "0,1");
	expect_at(f, "licence_expiry:2026-06-15", now, "0"); /* the whole day */
	expect_at(f, "licence_expiry:<now+30d", now, "0");
	expect_at(f, "licence_expiry:now..now+365d", now, "0,1");
	expect_at(f, "licence_expiry:>now+365d", now, "2");
	expect_at(f, "licence_expiry:>now-7d -licence_expiry:>2028-01-01", now, "0,1");
	/* the clock moves: a year later only the 2029 licence is in the next 30 months */
	expect_at(f, "licence_expiry:>now", now + 400 * 86400000ull, "2");
	/* a field that was defined after its values were set still ranges */
	patch(f, 3, "weight", "70", NULL, NULL);
	expect_at(f, "weight:70", now, "3");
	define(f, "weight", FIELD_NUMBER, false, NULL);
	expect_at(f, "weight:60..80", now, "3");
	/* range facets: the buckets' counts add up, and each bucket's q selects them */
	o = run_req(f, &r);
	price = json_object_get(json_object_get(o, "ranges"), "price");
	assert_non_null(price);
	assert_string_equal(json_string_value(json_object_get(price, "type")), "number");
	assert_true(json_number_value(json_object_get(price, "min")) == 5 && json_number_value(json_object_get(price, "max")) == 25.5);
	json_array_foreach(json_object_get(price, "buckets"), i, b) {
		int64_t n = json_integer_value(json_object_get(b, "count"));
		sum += n;
		assert_int_equal(total(f, json_string_value(json_object_get(b, "q"))), n);
	}
	assert_int_equal(sum, 3);
	assert_null(json_object_get(json_object_get(o, "ranges"), "weight")); /* not facetable */
	sum = 0;
	json_array_foreach(json_object_get(json_object_get(json_object_get(o, "ranges"), "licence_expiry"), "buckets"), i, b) {
		int64_t n = json_integer_value(json_object_get(b, "count"));
		sum += n;
		assert_int_equal(total(f, json_string_value(json_object_get(b, "q"))), n);
	}
	assert_int_equal(sum, 3);
	/* once a bucket is chosen, its field's histogram leaves that filter
	 * out (the other buckets stay visible); other filters apply */
	{
		char q[300];
		struct search_request rq = { .q = q, .facets = true, .now_ms = now };
		json_t *o2;
		snprintf(q, sizeof q, "%s",
			 json_string_value(json_object_get(json_array_get(json_object_get(price, "buckets"), 0), "q")));
		o2 = run_req(f, &rq);
		assert_int_equal(json_integer_value(json_object_get(o2, "total")), 1);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(o2, "ranges"), "price"), "count")), 3);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(o2, "ranges"), "licence_expiry"), "count")), 1);
		json_decref(o2);
	}
	json_decref(o);
	/* bad values name the field and what it wants */
	{
		struct search_request bad = { .q = "licence_expiry:<now+x" };
		struct dam_err err;
		json_t *out = NULL;
		dam_err_clear(&err);
		assert_int_equal(search_run(f->dam, &bad, &out, &err), DAM_EINVAL);
		assert_non_null(strstr(err.msg, "licence_expiry wants a date like 2026-01-31, now+30d"));
		bad.q = "price:cheap";
		assert_int_equal(search_run(f->dam, &bad, &out, &err), DAM_EINVAL);
		assert_non_null(strstr(err.msg, "price wants a number at column 1"));
		bad.q = "price:1*";
		assert_int_equal(search_run(f->dam, &bad, &out, &err), DAM_EINVAL);
	}
}

static void expect_typed(struct fx *f, const char *q, bool prefix_last, const char *want)
{
	struct search_request r = { .q = q, .prefix_last = prefix_last };
	json_t *o = run_req(f, &r);

	if (strcmp(which(f, o), want))
		fail_msg("%s (prefix_last %d): got [%s], want [%s]", q, prefix_last, which(f, o), want);
	json_decref(o);
}

static void test_prefix_last(void **state)
{
	struct fx *f = *state;

	/* titles: 0 "blue sneaker launch", 3 "red sneaker", 5 "running shoe",
	 * 6 "blue running shoe" */
	expect_typed(f, "sne", false, "");
	expect_typed(f, "sne", true, "0,3");
	expect_typed(f, "sne*", false, "0,3");
	expect_typed(f, "blue sne", true, "0");
	expect_typed(f, "sne tag:blue", true, "0"); /* filters after the text are not words */
	expect_typed(f, "sne -tag:blue", true, "3");
	expect_typed(f, "(blue OR red) sne", true, "0,3");
	expect_typed(f, "sne blue", true, ""); /* only the last word is a prefix */
	expect_typed(f, "running sho", true, "5,6");
	expect_typed(f, "runn sho", true, ""); /* only the last one */
	expect_typed(f, "\"sne\"", true, "");  /* quoted: a whole word */
	expect_typed(f, "shoe -sne", true, "5,6"); /* a negation is not being typed */
	expect_typed(f, "s", true, "");   /* one character stays a word */
	expect_typed(f, "sneaker", true, "0,3"); /* a whole word still matches */
}

static void test_synonyms_stored_as_terms(void **state)
{
	struct fx *f = *state;
	const char *const syn[1] = { "trainers" };
	struct search_request r = { .q = "category:trainers", .facets = true };
	struct dam_err err;
	json_t *o, *cat;
	int64_t n = -1;

	dam_err_clear(&err);
	assert_int_equal(vocab_add(f->dam, "products", &err), 0);
	assert_int_equal(vocab_term_set(f->dam, "products", "sneakers", NULL, syn, 1, NULL, NULL, 0, &err), 0);
	assert_int_equal(vocab_term_set(f->dam, "products", "boots", NULL, NULL, 0, NULL, NULL, 0, &err), 0);
	define(f, "category", FIELD_CHOICE, true, "products");
	define(f, "styles", FIELD_MULTICHOICE, true, "products");
	patch(f, 0, "category", "trainers", NULL, NULL);
	patch(f, 1, "category", "sneakers", NULL, NULL);
	patch(f, 2, "category", "Boots", NULL, NULL);
	patch(f, 2, "styles", "boots,trainers", NULL, NULL);
	assert_int_equal(db_query_int(f->dam->db, &n, NULL,
				      "SELECT count(*) FROM fields WHERE key='category' AND value='sneakers'", ""), 0);
	assert_int_equal(n, 2);
	assert_int_equal(db_query_int(f->dam->db, &n, NULL,
				      "SELECT count(*) FROM fields WHERE (key='category' AND value='boots')"
				      " OR (key='styles' AND value='boots, sneakers')", ""), 0);
	assert_int_equal(n, 2);
	o = run_req(f, &r);
	cat = json_object_get(json_object_get(o, "facets"), "category");
	assert_int_equal(json_integer_value(json_object_get(cat, "sneakers")), 2);
	assert_null(json_object_get(cat, "trainers"));
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 2);
	assert_int_equal(json_array_size(json_object_get(o, "synonyms")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(o, "synonyms"), 0), "word")),
			    "trainers");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(o, "synonyms"), 0), "term")),
			    "sneakers");
	json_decref(o);
	assert_int_equal(facet_total(f, "styles", "sneakers"), 1);
}

/* Ids and facets of a few queries, as one string. */
static char *snapshot(struct fx *f)
{
	static const char *const qs[] = { "", "sneaker", "tag:blue", "运动鞋", "-tag:odd shoe", NULL };
	json_t *all = json_array();
	char *s;

	for (int i = 0; qs[i]; i++) {
		json_t *o = run(f, qs[i], true);
		json_object_del(o, "took_ms");
		json_array_append_new(all, o);
	}
	s = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(all);
	return s;
}

static int64_t count(struct fx *f, const char *sql)
{
	int64_t n = -1;

	assert_int_equal(db_query_int(f->dam->db, &n, NULL, sql, ""), 0);
	return n;
}

static void test_sync_idempotent(void **state)
{
	struct fx *f = *state;
	char *a, *b, *c;
	int64_t fv, fts, nums;

	a = snapshot(f);
	assert_int_equal(count(f, "SELECT count(DISTINCT asset_id) FROM search_dirty"), 0);
	fv = count(f, "SELECT count(*) FROM facet_values");
	fts = count(f, "SELECT count(*) FROM search_fts");
	nums = count(f, "SELECT count(*) FROM search_numbers");
	for (int round = 0; round < 2; round++) {
		assert_int_equal(db_run(f->dam->db, NULL, "INSERT OR IGNORE INTO search_dirty SELECT id FROM assets", ""), NA);
		assert_int_equal(search_sync(f->dam, 0, NULL), NA);
		assert_int_equal(search_sync(f->dam, 0, NULL), 0);
		assert_int_equal(count(f, "SELECT count(*) FROM facet_values"), fv);
		assert_int_equal(count(f, "SELECT count(*) FROM search_fts"), fts);
		assert_int_equal(count(f, "SELECT count(*) FROM search_numbers"), nums);
	}
	b = snapshot(f);
	assert_string_equal(a, b);
	/* search_sync with a limit does at most a batch more than asked. */
	assert_int_equal(db_run(f->dam->db, NULL, "INSERT OR IGNORE INTO search_dirty SELECT id FROM assets", ""), NA);
	assert_true(search_sync(f->dam, 1, NULL) >= 1);
	c = snapshot(f);
	assert_string_equal(a, c);
	free(a);
	free(b);
	free(c);
}

static void test_triggers_tag_and_field_changes(void **state)
{
	struct fx *f = *state;

	assert_int_equal(total(f, "tag:fresh"), 0); /* also syncs */
	patch(f, 2, NULL, NULL, "fresh", NULL);
	assert_int_equal(count(f, "SELECT count(DISTINCT asset_id) FROM search_dirty"), 1);
	assert_int_equal(total(f, "tag:fresh"), 1);
	assert_int_equal(total(f, "fresh"), 1);
	assert_true(has(f, "tag:fresh", 2));
	patch(f, 2, NULL, NULL, NULL, "fresh");
	assert_int_equal(total(f, "tag:fresh"), 0);
	assert_int_equal(total(f, "fresh"), 0);
	patch(f, 2, "title", "wombat", NULL, NULL);
	assert_int_equal(total(f, "wombat"), 1);
	assert_int_equal(total(f, "cafe"), 0);
	/* soft delete and restore */
	assert_int_equal(asset_delete(f->dam, f->ids[2], NULL), 0);
	assert_int_equal(total(f, "wombat"), 0);
	assert_int_equal(total(f, "wombat status:deleted"), 1);
	assert_int_equal(total(f, ""), NA - 1);
	assert_int_equal(asset_restore(f->dam, f->ids[2], NULL), 0);
	assert_int_equal(total(f, "wombat"), 1);
}

/* Updating an existing field (an UPSERT's DO UPDATE) of an asset that is
 * still dirty: the trigger's INSERT OR IGNORE into search_dirty takes the
 * UPSERT's conflict handling and fails. */
static void test_patch_twice_before_sync(void **state)
{
	struct fx *f = *state;

	assert_int_equal(total(f, ""), NA); /* clean */
	patch(f, 5, "title", "first", NULL, NULL);
	patch(f, 5, "title", "second", NULL, NULL);
	patch(f, 5, NULL, NULL, "odd", NULL); /* an existing tag again */
	assert_int_equal(total(f, "second"), 1);
}

static void test_bad_queries(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = { "a \"b", "(a", "foo:bar", "width:abc", "()", "type:>1", "versions:x", NULL };

	for (int i = 0; bad[i]; i++) {
		struct search_request r = { .q = bad[i] };
		struct dam_err err;
		json_t *out = NULL;
		dam_err_clear(&err);
		assert_int_equal(search_run(f->dam, &r, &out, &err), DAM_EINVAL);
		assert_null(out);
		assert_string_equal(err.field, "q");
		assert_non_null(strstr(err.msg, "column"));
	}
}

/* Relevance order is the order of the bare FTS5 ranking, and cursor pages
 * put together give the same list, for each plan: bm25 captured in the
 * matching pass ("blue"), several terms ranked by their OR over the
 * versions the terms matched ("running OR sneaker", "shoe running"), and
 * filter-first ranking when tag:blue (3 of 12 assets) leaves few
 * candidates - scored through the IN list ("even": 3 of its 6 matches
 * survive) or by a full pass ("blue": all 3 survive). The third column
 * lists the assets the query keeps (NULL: all that match the text). */
static void test_relevance_order(void **state)
{
	struct fx *f = *state;
	static const char *const qs[][3] = { { "blue", "\"blue\"", NULL }, { "shoe -tag:odd", "\"shoe\"", ",0,2,4,6,8,10," },
					     { "running OR sneaker", "\"running\" OR \"sneaker\"", NULL },
					     { "shoe running", "\"shoe\" OR \"running\"", ",5,6," },
					     { "even tag:blue", "\"even\"", ",0,4,6," }, { "tag:blue blue", "\"blue\"", ",0,4,6," },
					     { "odd tag:blue", "\"odd\"", ",0,4,6," }, { NULL, NULL, NULL } };

	for (int k = 0; qs[k][0]; k++) {
		json_t *all = run(f, qs[k][0], false), *it, *paged = json_array();
		struct db_stmt *st;
		size_t i;
		char cursor[4096] = "";
		int rc;

		/* expected: bm25 of the current versions, ties newest first */
		assert_int_equal(db_query(f->dam->db, &st, NULL,
					  "SELECT a.id FROM search_fts s JOIN search_docs d ON d.version_rowid = s.rowid"
					  " JOIN assets a ON a.rowid = d.asset_rowid WHERE search_fts MATCH ? AND d.is_current"
					  " ORDER BY bm25(search_fts, 10.0, 5.0, 3.0, 2.0, 1.0), a.rowid DESC", "s", qs[k][1]), 0);
		i = 0;
		while ((rc = db_step(st, NULL)) == DB_ROW) {
			const char *id = db_col_text(st, 0);
			int idx = -1;
			for (int j = 0; j < NA; j++)
				if (!strcmp(f->ids[j], id))
					idx = j;
			char in[16];
			/* skip the ones the query's filter excludes */
			snprintf(in, sizeof in, ",%d,", idx);
			if (qs[k][2] && !strstr(qs[k][2], in))
				continue;
			it = json_array_get(json_object_get(all, "items"), i);
			assert_non_null(it);
			assert_string_equal(json_string_value(json_object_get(it, "id")), id);
			i++;
		}
		db_finalize(st);
		assert_int_equal(i, json_array_size(json_object_get(all, "items")));
		for (;;) {
			struct search_request r = { .q = qs[k][0], .limit = 2, .cursor = cursor };
			json_t *o = NULL, *nc;
			struct dam_err err;
			dam_err_clear(&err);
			assert_int_equal(search_run(f->dam, &r, &o, &err), 0);
			json_array_extend(paged, json_object_get(o, "items"));
			nc = json_object_get(o, "next_cursor");
			if (!json_is_string(nc)) {
				json_decref(o);
				break;
			}
			snprintf(cursor, sizeof cursor, "%s", json_string_value(nc));
			json_decref(o);
		}
		assert_int_equal(json_array_size(paged), json_array_size(json_object_get(all, "items")));
		json_array_foreach(paged, i, it)
			assert_string_equal(json_string_value(json_object_get(it, "id")),
					    json_string_value(json_object_get(json_array_get(json_object_get(all, "items"), i), "id")));
		json_decref(paged);
		json_decref(all);
	}
}

/* Pages of one (the page is picked with a heap when it is small next to the
 * result) put together, by cursor and by offset, give the full sorted list. */
static void test_pages_match_full_sort(void **state)
{
	struct fx *f = *state;
	static const char *const cases[][2] = { { "", "name" }, { "", "-name" }, { "", "size" }, { "", "-created" },
						{ "blue OR shoe OR sneaker OR tag:odd", NULL }, { NULL, NULL } };

	for (int c = 0; cases[c][0]; c++) {
		struct search_request all = { .q = cases[c][0], .sort = cases[c][1], .limit = 1000 };
		json_t *full = NULL, *items;
		struct dam_err err;
		char cursor[4096] = "";
		size_t n;

		dam_err_clear(&err);
		assert_int_equal(search_run(f->dam, &all, &full, &err), 0);
		items = json_object_get(full, "items");
		n = json_array_size(items);
		assert_true(n >= 5);
		for (size_t i = 0; i < n; i++) {
			struct search_request byc = { .q = cases[c][0], .sort = cases[c][1], .limit = 1, .cursor = cursor };
			struct search_request byo = { .q = cases[c][0], .sort = cases[c][1], .limit = 1, .offset = i };
			json_t *a = NULL, *b = NULL;
			const char *want = json_string_value(json_object_get(json_array_get(items, i), "id"));
			assert_int_equal(search_run(f->dam, &byc, &a, &err), 0);
			assert_int_equal(search_run(f->dam, &byo, &b, &err), 0);
			assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(a, "items"), 0), "id")), want);
			assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(b, "items"), 0), "id")), want);
			if (i + 1 < n)
				snprintf(cursor, sizeof cursor, "%s", json_string_value(json_object_get(a, "next_cursor")));
			else
				assert_true(json_is_null(json_object_get(a, "next_cursor")));
			json_decref(a);
			json_decref(b);
		}
		json_decref(full);
	}
}

struct named_row {
	int64_t row;
	char name[64];
	char id[DAM_ID_LEN + 1];
};

static int named_row_cmp(const void *a, const void *b)
{
	const struct named_row *x = a, *y = b;
	int c = strcasecmp(x->name, y->name);

	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : x->row < y->row ? 1 : x->row > y->row ? -1 : 0;
}

/* Every asset in the order a name sort shows, computed here from the
 * table: A to Z (case-insensitive, then bytewise), equal names newest
 * first. Returns the count; v holds up to 64. */
static size_t expected_by_name(struct fx *f, struct named_row *v)
{
	struct db_stmt *st;
	size_t n = 0;

	assert_int_equal(db_query(f->dam->db, &st, NULL, "SELECT rowid, name, id FROM assets", ""), 0);
	while (db_step(st, NULL) == DB_ROW && n < 64) {
		v[n].row = db_col_int(st, 0);
		snprintf(v[n].name, sizeof v[n].name, "%s", db_col_text(st, 1));
		snprintf(v[n].id, sizeof v[n].id, "%s", db_col_text(st, 2));
		n++;
	}
	db_finalize(st);
	qsort(v, n, sizeof *v, named_row_cmp);
	return n;
}

/* The ids of a name sort, page by page (limit per page) from cursor. */
static size_t by_name_pages(struct fx *f, const char *sort, int limit, char *cursor, size_t max_pages,
			    char ids[][DAM_ID_LEN + 1])
{
	size_t n = 0;

	for (size_t p = 0; p < max_pages; p++) {
		struct search_request r = { .q = "", .sort = sort, .limit = limit, .cursor = cursor };
		struct dam_err err;
		json_t *o = NULL, *it, *nc;
		size_t i;
		dam_err_clear(&err);
		assert_int_equal(search_run(f->dam, &r, &o, &err), 0);
		json_array_foreach(json_object_get(o, "items"), i, it)
			snprintf(ids[n++], DAM_ID_LEN + 1, "%s", json_string_value(json_object_get(it, "id")));
		nc = json_object_get(o, "next_cursor");
		snprintf(cursor, 4096, "%s", json_is_string(nc) ? json_string_value(nc) : "");
		json_decref(o);
		if (!*cursor)
			break;
	}
	return n;
}

static void rename_asset(struct fx *f, int i, const char *name)
{
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE assets SET name=? WHERE id=?", "ss", name, f->ids[i]), 1);
}

/* sort=name through the name order kept with the search cache: equal
 * names and names differing only in case, then renames and a new asset
 * (patched into the order), and a cursor taken before a rename. */
static void test_name_order(void **state)
{
	struct fx *f = *state;
	static const char *const names[] = { "b.txt", "B.txt", "b.txt", "a.txt", "c.txt", "b.txt", NULL };
	struct named_row want[64];
	char got[64][DAM_ID_LEN + 1], cursor[4096];
	size_t n, k;

	for (int i = 0; names[i]; i++)
		rename_asset(f, i, names[i]);
	for (int round = 0; round < 3; round++) {
		if (round == 1) { /* renames after the order was built */
			rename_asset(f, 3, "zz.txt");
			rename_asset(f, 7, "b.txt");
			rename_asset(f, 8, "B.TXT");
		} else if (round == 2) { /* a new asset */
			char file[4200];
			struct ingest_result r;
			FILE *fp;
			snprintf(file, sizeof file, "%s/b.txt", f->dir);
			fp = fopen(file, "w");
			fprintf(fp, "one more\n");
			fclose(fp);
			struct ingest_opts o = { .ntags = 0 };
			assert_int_equal(ingest_file(f->dam, file, &o, &r), 0);
		}
		n = expected_by_name(f, want);
		*cursor = '\0';
		assert_int_equal(by_name_pages(f, "name", 2, cursor, 64, got), n);
		for (size_t i = 0; i < n; i++)
			assert_string_equal(got[i], want[i].id);
		*cursor = '\0';
		assert_int_equal(by_name_pages(f, "-name", 5, cursor, 64, got), n);
		/* Z to A: the groups of equal names reversed, each still newest first */
		k = 0;
		for (size_t e = n; e > 0;) {
			size_t g = e - 1;
			while (g > 0 && !strcmp(want[g - 1].name, want[e - 1].name))
				g--;
			for (size_t j = g; j < e; j++)
				assert_string_equal(got[k++], want[j].id);
			e = g;
		}
	}
	/* A cursor after the first 4 by name, then the asset it points at
	 * renamed away: the next page starts after the cursor's name. */
	n = expected_by_name(f, want);
	*cursor = '\0';
	assert_int_equal(by_name_pages(f, "name", 4, cursor, 1, got), 4);
	for (k = 0; k < NA && strcmp(f->ids[k], want[3].id); k++)
		;
	assert_true(k < NA);
	rename_asset(f, (int)k, "0-first.txt");
	assert_int_equal(by_name_pages(f, "name", 100, cursor, 1, got), n - 4);
	for (size_t i = 0; i < n - 4; i++)
		assert_string_equal(got[i], want[4 + i].id);
}

/* A library without assets sorts by name too (the order is empty). */
static void test_name_order_empty(void **state)
{
	char *dir = tu_tempdir(), lib[4200];
	struct dam *dam = NULL;
	struct search_request r = { .q = "", .sort = "-name" };
	struct dam_err err;
	json_t *o = NULL;

	(void)state;
	snprintf(lib, sizeof lib, "%s/lib", dir);
	assert_int_equal(library_init(lib, NULL), 0);
	assert_int_equal(library_open(lib, &dam, NULL), 0);
	dam_err_clear(&err);
	assert_int_equal(search_run(dam, &r, &o, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 0);
	json_decref(o);
	library_close(dam);
	tu_rmrf(dir);
	free(dir);
}

static int64_t rowid_of(struct fx *f, int i)
{
	int64_t r = -1;

	assert_int_equal(db_query_int(f->dam->db, &r, NULL, "SELECT rowid FROM assets WHERE id=?", "s", f->ids[i]), 0);
	return r;
}

static void put_similarity(struct fx *f, int i, uint64_t ph, const float *hist)
{
	assert_int_equal(db_run(f->dam->db, NULL,
				"INSERT OR REPLACE INTO similarity(version_rowid, asset_rowid, phash, hist)"
				" SELECT v.rowid, a.rowid, ?, ? FROM assets a JOIN versions v ON v.id = a.current_version_id"
				" WHERE a.id=?", "ibs", (int64_t)ph, hist, sizeof(float) * 64, f->ids[i]), 1);
	/* what search_sync's bookkeeping does for a changed asset */
	assert_int_equal(db_run(f->dam->db, NULL, "INSERT INTO search_log(asset_rowid) VALUES (?)", "i", rowid_of(f, i)), 1);
}

/* Similarity over the in-memory hashes: Hamming distance first, colour
 * histograms refine the order; deleted assets and the query asset are left
 * out; a changed hash is seen by the next search. */
static void test_similar(void **state)
{
	struct fx *f = *state;
	const uint64_t x = 0x0123456789abcdefull;
	float warm[64] = { 0 }, cold[64] = { 0 };
	struct dam_err err;
	json_t *o = NULL, *items;
	static const int want[] = { 0, 1, 3, 5 };

	warm[0] = 1;
	cold[63] = 1;
	assert_int_equal(total(f, ""), NA); /* loads the cache first */
	put_similarity(f, 0, x, warm);
	put_similarity(f, 1, x ^ 1, warm);            /* distance 1 */
	put_similarity(f, 3, x ^ 0x700, warm);        /* 3 */
	put_similarity(f, 5, x ^ 0x30000, cold);      /* 2, but other colours: 2 + 16 */
	put_similarity(f, 7, ~x, warm);               /* 64: too far */
	put_similarity(f, 9, x ^ 0x3, warm);          /* 2, deleted below */
	assert_int_equal(asset_delete(f->dam, f->ids[9], NULL), 0);
	dam_err_clear(&err);
	assert_int_equal(search_similar(f->dam, x, warm, UINT32_MAX, 10, 20, &o, &err), 0);
	items = json_object_get(o, "items");
	assert_int_equal(json_array_size(items), 4);
	for (int k = 0; k < 4; k++)
		assert_string_equal(json_string_value(json_object_get(json_array_get(items, k), "id")), f->ids[want[k]]);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 2), "distance")), 3);
	json_decref(o);
	/* by asset: itself left out; max_distance applies */
	assert_int_equal(search_similar_to_asset(f->dam, f->ids[0], 10, 2, &o, &err), 0);
	items = json_object_get(o, "items");
	assert_int_equal(json_array_size(items), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), f->ids[1]);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "id")), f->ids[5]);
	json_decref(o);
	/* a new hash replaces the old one in the cache */
	put_similarity(f, 1, ~x, warm);
	assert_int_equal(search_similar_to_asset(f->dam, f->ids[0], 10, 2, &o, &err), 0);
	items = json_object_get(o, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), f->ids[5]);
	json_decref(o);
}

/* Each library handle owns its search cache: two libraries in one process
 * never share (or reset) one, and a handle opened with
 * library_open_shared() uses its first handle's cache, which lives on
 * after that handle closes. */
static void test_cache_per_library(void **state)
{
	struct fx *f = *state;
	struct ingest_opts o = { 0 };
	struct ingest_result r;
	struct dam *b = NULL, *a2 = NULL;
	char lib[4200], file[4200];
	int64_t seq_a;
	uint32_t nv_a;

	snprintf(lib, sizeof lib, "%s/lib-b", f->dir);
	snprintf(file, sizeof file, "%s/zebra.txt", f->dir);
	assert_int_equal(library_init(lib, NULL), 0);
	assert_int_equal(library_open(lib, &b, NULL), 0);
	tu_sh("printf 'zebra crossing' > '%s'", file);
	assert_int_equal(ingest_file(b, file, &o, &r), 0);
	assert_int_equal(r.status, INGEST_ADDED);
	assert_ptr_not_equal(f->dam->search_cache, b->search_cache);

	assert_int_equal(total(f, ""), NA);
	seq_a = f->dam->search_cache->seq;
	nv_a = f->dam->search_cache->nv;
	assert_true(seq_a > 0);
	{
		struct fx fb = { .dam = b };
		assert_int_equal(total(&fb, ""), 1);
		assert_int_equal(total(&fb, "zebra"), 1);
		assert_int_equal(total(&fb, "sneaker"), 0);
	}
	/* A's cache was neither reset nor reloaded by B's searches */
	assert_true(f->dam->search_cache->seq == seq_a && f->dam->search_cache->nv == nv_a);
	assert_int_equal(total(f, "zebra"), 0);
	assert_int_equal(total(f, "sneaker"), 2);

	/* a shared handle: the same cache, alive after the first handle closes */
	assert_int_equal(library_open_shared(f->dam, &a2, NULL), 0);
	assert_ptr_equal(a2->search_cache, f->dam->search_cache);
	library_close(f->dam);
	f->dam = a2;
	assert_true(a2->search_cache->seq == seq_a);
	assert_int_equal(total(f, "sneaker"), 2);
	patch(f, 5, "title", "zebra print", NULL, NULL);
	assert_int_equal(total(f, "zebra"), 1);
	library_close(b);
}

/* The FTS5 backend's DDL is what the migrations made. */
static void test_fts5_ddl(void **state)
{
	struct fx *f = *state;
	struct db_stmt *st;

	assert_string_equal(f->dam->search_be->name, "fts5");
	assert_int_equal(db_query(f->dam->db, &st, NULL, "SELECT sql FROM sqlite_master WHERE name='search_fts'", ""), 0);
	assert_int_equal(db_step(st, NULL), DB_ROW);
	assert_string_equal(db_col_text(st, 0), f->dam->search_be->ddl);
	db_finalize(st);
}

/* sort=relevance with no query: every asset, newest first (all relevance
 * keys equal). It crashed before the split: the ranking expression was
 * built from a NULL query tree. */
static void test_relevance_without_query(void **state)
{
	struct fx *f = *state;
	struct search_request r = { .q = "", .sort = "relevance", .limit = 1000 };
	struct dam_err err;
	json_t *o = NULL, *items;

	dam_err_clear(&err);
	assert_int_equal(search_run(f->dam, &r, &o, &err), 0);
	items = json_object_get(o, "items");
	assert_int_equal(json_array_size(items), NA);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), f->ids[NA - 1]);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, NA - 1), "id")), f->ids[0]);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_totals_and_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cjk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_facet_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multichoice_facet_splits_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synonyms, setup, teardown),
		cmocka_unit_test(test_date_values),
		cmocka_unit_test_setup_teardown(test_ranges_on_defined_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synonyms_stored_as_terms, setup, teardown),
		cmocka_unit_test(test_migration_canonicalises_synonyms),
		cmocka_unit_test_setup_teardown(test_many_facets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_facetable_field_without_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_triggers_tag_and_field_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patch_twice_before_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relevance_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_similar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages_match_full_sort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_order, setup, teardown),
		cmocka_unit_test(test_name_order_empty),
		cmocka_unit_test_setup_teardown(test_cache_per_library, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fts5_ddl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relevance_without_query, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

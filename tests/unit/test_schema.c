#include "testutil.h"

#include <sys/stat.h>

#include "core/asset.h"
#include "core/audit.h"
#include "core/fielddef.h"
#include "core/ingest.h"
#include "core/library.h"
#include "core/namepattern.h"
#include "core/template.h"
#include "core/vocab.h"

struct fx {
	char *dir;
	struct dam *dam;
	int files;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char lib[4200];

	f->dir = tu_tempdir();
	snprintf(lib, sizeof lib, "%s/lib", f->dir);
	assert_int_equal(library_init(lib, NULL), 0);
	assert_int_equal(library_open(lib, &f->dam, NULL), 0);
	library_set_actor(f->dam, "test:unit");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	/* Every change of every test left a verifiable audit chain. */
	assert_true(audit_verify(f->dam, NULL, NULL) >= 0);
	library_close(f->dam);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Ingests a new small text file at dir/sub/name; returns the result. */
static struct ingest_result ingest_named(struct fx *f, const char *sub, const char *name,
					 const struct ingest_opts *o)
{
	struct ingest_opts none = { 0 };
	struct ingest_result r;
	char path[4300];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", f->dir, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/%s/%s", f->dir, sub, name);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "file %d\n", f->files++);
	fclose(fp);
	assert_int_equal(ingest_file(f->dam, path, o ? o : &none, &r), 0);
	return r;
}

/* The value of field key of asset id, or NULL (caller frees). */
static char *field_of(struct fx *f, const char *id, const char *key)
{
	json_t *a, *v;
	char *s = NULL;

	assert_int_equal(asset_get(f->dam, id, &a, NULL), 0);
	v = json_object_get(json_object_get(a, "fields"), key);
	if (json_is_string(v))
		s = strdup(json_string_value(v));
	json_decref(a);
	return s;
}

static bool has_tag(struct fx *f, const char *id, const char *tag)
{
	json_t *a, *t;
	size_t i;
	bool found = false;

	assert_int_equal(asset_get(f->dam, id, &a, NULL), 0);
	json_array_foreach(json_object_get(a, "tags"), i, t)
		found |= !strcmp(json_string_value(json_object_get(t, "tag")), tag);
	json_decref(a);
	return found;
}

static void assert_field(struct fx *f, const char *id, const char *key, const char *want)
{
	char *got = field_of(f, id, key);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void define(struct fx *f, const char *key, enum field_type t, const char *vocab, bool required)
{
	struct fielddef d = { .key = key, .type = t, .vocab = vocab, .required = required };

	assert_int_equal(fielddef_add(f->dam, &d, NULL), 0);
}

/* ---- types ---- */

static void ok(enum field_type t, const char *v)
{
	struct dam_err e;

	if (fielddef_check_type(t, "k", v, &e) != 0)
		fail_msg("%s \"%s\" refused: %s", field_type_name(t), v, e.msg);
}

static void bad(enum field_type t, const char *v)
{
	if (fielddef_check_type(t, "k", v, NULL) != DAM_EINVAL)
		fail_msg("%s \"%s\" accepted", field_type_name(t), v);
}

static void test_types(void **state)
{
	struct dam_err e;
	enum field_type t;
	char big[5000];

	(void)state;
	ok(FIELD_TEXT, "Hello, 世界");
	bad(FIELD_TEXT, "two\nlines");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	bad(FIELD_TEXT, big);
	ok(FIELD_LONGTEXT, big);
	ok(FIELD_LONGTEXT, "para one\n\npara two\twith tab");
	bad(FIELD_LONGTEXT, "bell\a");
	bad(FIELD_LONGTEXT, "\xff\xfe");
	ok(FIELD_NUMBER, "12");
	ok(FIELD_NUMBER, "-3.5");
	ok(FIELD_NUMBER, "1e3");
	bad(FIELD_NUMBER, "abc");
	bad(FIELD_NUMBER, "12abc");
	bad(FIELD_NUMBER, " 12");
	bad(FIELD_NUMBER, "0x10");
	bad(FIELD_NUMBER, "nan");
	bad(FIELD_NUMBER, "1e999");
	ok(FIELD_DATE, "2024-02-29");
	ok(FIELD_DATE, "1950-01-01");
	ok(FIELD_DATE, "2024-05-01T10:30");
	ok(FIELD_DATE, "2024-05-01T10:30:15.250Z");
	ok(FIELD_DATE, "2024-05-01T10:30:15+08:00");
	bad(FIELD_DATE, "2023-02-29");
	bad(FIELD_DATE, "2024-13-01");
	bad(FIELD_DATE, "2024-04-31");
	bad(FIELD_DATE, "7d");
	bad(FIELD_DATE, "01/02/2024");
	bad(FIELD_DATE, "2024-05-01T25:00");
	ok(FIELD_BOOLEAN, "true");
	ok(FIELD_BOOLEAN, "false");
	bad(FIELD_BOOLEAN, "yes");
	bad(FIELD_BOOLEAN, "TRUE");
	ok(FIELD_URL, "https://example.com/a?b=c");
	ok(FIELD_URL, "http://localhost:8080");
	bad(FIELD_URL, "ftp://example.com");
	bad(FIELD_URL, "https://");
	bad(FIELD_URL, "https://exa mple.com");
	bad(FIELD_URL, "example.com");
	ok(FIELD_PERSON, "Ada Lovelace");
	bad(FIELD_PERSON, "Ada\nLovelace");
	ok(FIELD_CHOICE, "blue");
	ok(FIELD_MULTICHOICE, "blue, red");
	/* Messages name the field and the value. */
	assert_int_equal(fielddef_check_type(FIELD_NUMBER, "width", "abc", &e), DAM_EINVAL);
	assert_string_equal(e.field, "width");
	assert_non_null(strstr(e.msg, "width: \"abc\" is not a number"));
	/* Type names, including the spellings. */
	assert_int_equal(field_type_parse("long text", &t, NULL), 0);
	assert_int_equal(t, FIELD_LONGTEXT);
	assert_int_equal(field_type_parse("multiple choice", &t, NULL), 0);
	assert_int_equal(t, FIELD_MULTICHOICE);
	assert_int_equal(field_type_parse("blob", &t, &e), DAM_EINVAL);
	assert_non_null(strstr(e.msg, "multichoice"));
}

static void test_validate_defined_fields(void **state)
{
	struct fx *f = *state;
	struct fielddef d = { .key = "title", .type = FIELD_TEXT, .multilang = true };
	struct dam_err e;

	define(f, "width", FIELD_NUMBER, NULL, false);
	define(f, "shot", FIELD_DATE, NULL, false);
	assert_int_equal(fielddef_add(f->dam, &d, NULL), 0);
	assert_int_equal(fielddef_add(f->dam, &d, &e), DAM_EEXIST);
	assert_int_equal(fielddef_validate(f->dam, "width", "12", NULL), 0);
	assert_int_equal(fielddef_validate(f->dam, "width", "wide", &e), DAM_EINVAL);
	assert_int_equal(fielddef_validate(f->dam, "width", "", NULL), 0); /* removal */
	assert_int_equal(fielddef_validate(f->dam, "shot", "2024-01-01", NULL), 0);
	assert_int_equal(fielddef_validate(f->dam, "whatever", "free text", NULL), 0); /* free field */
	/* Languages: title@zh only once zh is a library language. */
	assert_int_equal(fielddef_validate(f->dam, "title@zh", "标题", &e), DAM_EINVAL);
	assert_non_null(strstr(e.msg, "not one of the library's languages"));
	assert_int_equal(fielddef_languages_set(f->dam, "en, zh,nl,fr", NULL), 0);
	assert_int_equal(fielddef_validate(f->dam, "title@zh", "标题", NULL), 0);
	assert_int_equal(fielddef_validate(f->dam, "width@zh", "1", &e), DAM_EINVAL);
	assert_non_null(strstr(e.msg, "not multi-language"));
	assert_int_equal(fielddef_languages_set(f->dam, "en,en", NULL), DAM_EINVAL);
	assert_int_equal(fielddef_languages_set(f->dam, "EN", NULL), DAM_EINVAL);
	/* The default is checked against the type. */
	d.key = "height";
	d.type = FIELD_NUMBER;
	d.multilang = false;
	d.default_value = "tall";
	assert_int_equal(fielddef_add(f->dam, &d, NULL), DAM_EINVAL);
	/* Choice fields need an existing vocabulary. */
	d.key = "color";
	d.type = FIELD_CHOICE;
	d.default_value = NULL;
	assert_int_equal(fielddef_add(f->dam, &d, NULL), DAM_EINVAL);
	d.vocab = "nope";
	assert_int_equal(fielddef_add(f->dam, &d, NULL), DAM_ENOTFOUND);
}

/* ---- vocabularies ---- */

static void colors(struct fx *f)
{
	assert_int_equal(vocab_add(f->dam, "colors", NULL), 0);
	assert_int_equal(vocab_term_set(f->dam, "colors", "blue", NULL, NULL, 0, NULL, NULL, 0, NULL), 0);
	assert_int_equal(vocab_term_set(f->dam, "colors", "red", NULL, NULL, 0, NULL, NULL, 0, NULL), 0);
	assert_int_equal(vocab_term_set(f->dam, "colors", "green", NULL, NULL, 0, NULL, NULL, 0, NULL), 0);
}

static void test_vocab_refusal_lists_allowed(void **state)
{
	struct fx *f = *state;
	struct ingest_result r;
	struct dam_err e;
	const char *k = "color", *v = "bleu", *good = "red";

	colors(f);
	define(f, "color", FIELD_CHOICE, "colors", false);
	define(f, "colors", FIELD_MULTICHOICE, "colors", false);
	assert_int_equal(fielddef_validate(f->dam, "color", "bleu", &e), DAM_EINVAL);
	assert_string_equal(e.msg, "color: \"bleu\" is not in vocabulary colors; allowed: blue, red, green");
	assert_int_equal(fielddef_validate(f->dam, "color", "Blue", NULL), 0); /* case-insensitive */
	assert_int_equal(fielddef_validate(f->dam, "colors", "blue, green", NULL), 0);
	assert_int_equal(fielddef_validate(f->dam, "colors", "blue, pink", &e), DAM_EINVAL);
	assert_non_null(strstr(e.msg, "\"pink\" is not in vocabulary colors"));
	/* asset_patch refuses the write and changes nothing. */
	r = ingest_named(f, "in", "a.txt", NULL);
	assert_int_equal(r.status, INGEST_ADDED);
	assert_int_equal(asset_set_fields(f->dam, r.asset_id, &k, &v, 1, &e), DAM_EINVAL);
	assert_non_null(strstr(e.msg, "allowed: blue, red, green"));
	assert_field(f, r.asset_id, "color", NULL);
	assert_int_equal(asset_set_fields(f->dam, r.asset_id, &k, &good, 1, NULL), 0);
	assert_field(f, r.asset_id, "color", "red");
}

static bool arr_has(const json_t *a, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (!strcmp(json_string_value(v), s))
			return true;
	return false;
}

static void test_hierarchy_and_synonyms(void **state)
{
	struct fx *f = *state;
	const char *syn[] = { "trainers", "运动鞋" }, *langs[] = { "en", "zh" }, *texts[] = { "Sneakers", "运动鞋" };
	char canon[VOCAB_TERM_MAX + 1];
	json_t *x;

	assert_int_equal(vocab_add(f->dam, "products", NULL), 0);
	assert_int_equal(vocab_add(f->dam, "products", NULL), DAM_EEXIST);
	assert_int_equal(vocab_term_set(f->dam, "products", "Footwear", NULL, NULL, 0, NULL, NULL, 0, NULL), 0);
	assert_int_equal(vocab_term_set(f->dam, "products", "sneakers", "footwear", syn, 2, langs, texts, 2, NULL), 0);
	assert_int_equal(vocab_term_set(f->dam, "products", "running shoes", "sneakers", NULL, 0, NULL, NULL, 0, NULL), 0);
	assert_int_equal(vocab_term_set(f->dam, "products", "hats", NULL, NULL, 0, NULL, NULL, 0, NULL), 0);
	/* Synonyms resolve to the canonical term. */
	assert_int_equal(vocab_resolve(f->dam, "products", "trainers", canon, NULL), 0);
	assert_string_equal(canon, "sneakers");
	assert_int_equal(vocab_resolve(f->dam, NULL, "运动鞋", canon, NULL), 0);
	assert_string_equal(canon, "sneakers");
	assert_int_equal(vocab_resolve(f->dam, "products", "boots", canon, NULL), DAM_ENOTFOUND);
	/* A parent expands to its descendants and their synonyms. */
	assert_int_equal(vocab_expand(f->dam, "products", "footwear", &x, NULL), 0);
	assert_string_equal(json_string_value(json_array_get(x, 0)), "Footwear");
	assert_true(arr_has(x, "sneakers") && arr_has(x, "trainers") && arr_has(x, "运动鞋") && arr_has(x, "running shoes"));
	assert_false(arr_has(x, "hats"));
	json_decref(x);
	assert_int_equal(vocab_expand(f->dam, NULL, "trainers", &x, NULL), 0);
	assert_true(arr_has(x, "sneakers") && arr_has(x, "running shoes"));
	assert_false(arr_has(x, "Footwear"));
	json_decref(x);
	/* Cycles, a synonym taken twice, a synonym becoming a term are refused. */
	assert_int_equal(vocab_term_set(f->dam, "products", "footwear", "running shoes", NULL, 0, NULL, NULL, 0, NULL),
			 DAM_EINVAL);
	assert_int_equal(vocab_term_set(f->dam, "products", "hats", NULL, syn, 1, NULL, NULL, 0, NULL), DAM_ECONFLICT);
	assert_int_equal(vocab_term_set(f->dam, "products", "trainers", NULL, NULL, 0, NULL, NULL, 0, NULL), DAM_ECONFLICT);
	assert_int_equal(vocab_term_set(f->dam, "products", "a,b", NULL, NULL, 0, NULL, NULL, 0, NULL), DAM_EINVAL);
	assert_int_equal(vocab_term_set(f->dam, "products", "x", "nowhere", NULL, 0, NULL, NULL, 0, NULL), DAM_ENOTFOUND);
	/* Labels per language are kept. */
	assert_int_equal(vocab_get(f->dam, "products", &x, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
				    json_array_get(json_object_get(x, "terms"), 1), "labels"), "zh")), "运动鞋");
	json_decref(x);
}

/* ---- file-name patterns ---- */

static void test_namepattern(void **state)
{
	struct fx *f = *state;
	struct namepattern_match m;
	struct ingest_result r;

	assert_int_equal(namepattern_match("{sku}_{view}_{n}.{ext}", "ABC123_front_1.jpg", &m), 1);
	assert_int_equal(m.n, 3);
	assert_string_equal(m.keys[0], "sku");
	assert_string_equal(m.values[0], "ABC123");
	assert_string_equal(m.keys[1], "view");
	assert_string_equal(m.values[1], "front");
	assert_string_equal(m.keys[2], "n");
	assert_string_equal(m.values[2], "1");
	assert_int_equal(namepattern_match("{sku}_{view}_{n}.{ext}", "holiday.jpg", &m), 0);
	assert_int_equal(namepattern_match("{sku}_{view}_{n}.{ext}", "A_b_c_d.jpg", &m), 0);
	assert_int_equal(namepattern_match("{sku}_{view}_{n}.{ext}", "A_b_.jpg", &m), 0);
	/* '-' is inside a placeholder's class: backtracking finds the split. */
	assert_int_equal(namepattern_match("IMG-{date}-{seq}.jpg", "IMG-20240101-0042.jpg", &m), 1);
	assert_string_equal(m.values[0], "20240101");
	assert_string_equal(m.values[1], "0042");
	assert_int_equal(namepattern_check("{a}{b}.jpg", NULL), DAM_EINVAL);
	assert_int_equal(namepattern_check("plain.jpg", NULL), DAM_EINVAL);
	assert_int_equal(namepattern_check("{Bad}.jpg", NULL), DAM_EINVAL);
	assert_int_equal(namepattern_check("{open.jpg", NULL), DAM_EINVAL);
	/* In the library: first matching pattern wins, at ingest. */
	assert_int_equal(namepattern_add(f->dam, "{sku}_{view}_{n}.{ext}", NULL), 0);
	assert_int_equal(namepattern_add(f->dam, "{sku}_{view}.{ext}", NULL), 0);
	assert_int_equal(namepattern_add(f->dam, "{sku}_{view}.{ext}", NULL), DAM_EEXIST);
	r = ingest_named(f, "in", "ABC123_front_1.txt", NULL);
	assert_int_equal(r.status, INGEST_ADDED);
	assert_field(f, r.asset_id, "sku", "ABC123");
	assert_field(f, r.asset_id, "view", "front");
	assert_field(f, r.asset_id, "n", "1");
	assert_field(f, r.asset_id, "ext", NULL);
	r = ingest_named(f, "in", "XYZ_back.txt", NULL);
	assert_field(f, r.asset_id, "sku", "XYZ");
	assert_field(f, r.asset_id, "n", NULL);
	r = ingest_named(f, "in", "holiday.txt", NULL);
	assert_int_equal(r.status, INGEST_ADDED);
	assert_field(f, r.asset_id, "sku", NULL);
}

/* ---- templates ---- */

static void test_template_at_ingest(void **state)
{
	struct fx *f = *state;
	const char *k1[] = { "brand", "rights" }, *v1[] = { "Acme", "internal" }, *t1[] = { "catalog" };
	const char *k2[] = { "rights" }, *v2[] = { "press" }, *t2[] = { "press" };
	const char *mk[] = { "brand" }, *mv[] = { "Mine" };
	struct template_def shoes = { .name = "shoes", .match = "*/shoes/*", .keys = k1, .values = v1, .nfields = 2,
				      .tags = t1, .ntags = 1 };
	struct template_def press = { .name = "press", .keys = k2, .values = v2, .nfields = 1, .tags = t2, .ntags = 1 };
	struct template_def raw = { .name = "raw", .match = "*.raw.txt", .tags = t2, .ntags = 1 };
	struct ingest_opts o = { 0 };
	struct ingest_result r;
	json_t *list;

	assert_int_equal(template_add(f->dam, &shoes, NULL), 0);
	assert_int_equal(template_add(f->dam, &press, NULL), 0);
	assert_int_equal(template_add(f->dam, &raw, NULL), 0);
	assert_int_equal(template_list(f->dam, &list, NULL), 0);
	assert_int_equal(json_array_size(list), 3);
	json_decref(list);
	/* By folder. */
	r = ingest_named(f, "shoes", "s1.txt", NULL);
	assert_field(f, r.asset_id, "brand", "Acme");
	assert_field(f, r.asset_id, "rights", "internal");
	assert_true(has_tag(f, r.asset_id, "catalog"));
	/* By file-name glob. */
	r = ingest_named(f, "other", "x.raw.txt", NULL);
	assert_true(has_tag(f, r.asset_id, "press"));
	assert_field(f, r.asset_id, "brand", NULL);
	/* Not matching. */
	r = ingest_named(f, "other", "y.txt", NULL);
	assert_field(f, r.asset_id, "brand", NULL);
	assert_false(has_tag(f, r.asset_id, "catalog"));
	/* Explicit choice beats a matching template; --meta beats both. */
	o.template_name = "press";
	o.meta_keys = mk;
	o.meta_values = mv;
	o.nmeta = 1;
	r = ingest_named(f, "shoes", "s2.txt", &o);
	assert_int_equal(r.status, INGEST_ADDED);
	assert_field(f, r.asset_id, "rights", "press");
	assert_field(f, r.asset_id, "brand", "Mine");
	assert_true(has_tag(f, r.asset_id, "press") && has_tag(f, r.asset_id, "catalog"));
	/* An unknown template fails that file. */
	o.template_name = "nope";
	r = ingest_named(f, "other", "z.txt", &o);
	assert_int_equal(r.status, INGEST_FAILED);
	assert_int_equal(r.err.code, DAM_ENOTFOUND);
}

static void test_ingest_validates_meta(void **state)
{
	struct fx *f = *state;
	const char *mk[] = { "width" }, *bad_v[] = { "wide" }, *good_v[] = { "640" };
	struct ingest_opts o = { .meta_keys = mk, .meta_values = bad_v, .nmeta = 1 };
	struct fielddef d = { .key = "rating", .type = FIELD_NUMBER, .default_value = "3" };
	struct ingest_result r;

	define(f, "width", FIELD_NUMBER, NULL, false);
	assert_int_equal(fielddef_add(f->dam, &d, NULL), 0);
	r = ingest_named(f, "in", "a.txt", &o);
	assert_int_equal(r.status, INGEST_FAILED);
	assert_int_equal(r.err.code, DAM_EINVAL);
	assert_non_null(strstr(r.err.msg, "width: \"wide\" is not a number"));
	o.meta_values = good_v;
	r = ingest_named(f, "in", "b.txt", &o);
	assert_int_equal(r.status, INGEST_ADDED);
	assert_field(f, r.asset_id, "width", "640");
	assert_field(f, r.asset_id, "rating", "3"); /* default */
}

static void test_bulk_and_incomplete(void **state)
{
	struct fx *f = *state;
	const char *tk[] = { "rights" }, *tv[] = { "cc-by" }, *tt[] = { "licensed" };
	struct template_def lic = { .name = "license", .keys = tk, .values = tv, .nfields = 1, .tags = tt, .ntags = 1 };
	struct fielddef title = { .key = "title", .type = FIELD_TEXT, .multilang = true, .required = true };
	char ids[3][DAM_ID_LEN + 1];
	const char *idp[3];
	json_t *rep, *a;
	int64_t before, after;

	define(f, "rights", FIELD_TEXT, NULL, true);
	assert_int_equal(fielddef_add(f->dam, &title, NULL), 0);
	assert_int_equal(fielddef_languages_set(f->dam, "en,zh", NULL), 0);
	for (int i = 0; i < 3; i++) {
		char name[32];
		struct ingest_result r;
		snprintf(name, sizeof name, "f%d.txt", i);
		r = ingest_named(f, "in", name, NULL);
		memcpy(ids[i], r.asset_id, sizeof ids[i]);
		idp[i] = ids[i];
	}
	/* All three miss both required fields. */
	assert_int_equal(fielddef_incomplete(f->dam, &rep, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(rep, "count")), 3);
	a = json_array_get(json_object_get(rep, "assets"), 0);
	assert_string_equal(json_string_value(json_object_get(a, "name")), "f0.txt");
	assert_string_equal(json_string_value(json_array_get(json_object_get(a, "missing"), 0)), "rights");
	assert_string_equal(json_string_value(json_array_get(json_object_get(a, "missing"), 1)), "title");
	json_decref(rep);
	/* Fix: a template on two assets, a field (in one language) on all. */
	assert_int_equal(template_add(f->dam, &lic, NULL), 0);
	assert_int_equal(db_query_int(f->dam->db, &before, NULL, "SELECT count(*) FROM audit", ""), 0);
	assert_int_equal(template_apply_bulk(f->dam, "license", idp, 2, NULL), 2);
	assert_int_equal(db_query_int(f->dam->db, &after, NULL, "SELECT count(*) FROM audit", ""), 0);
	assert_int_equal(after - before, 2); /* one audit row per asset */
	assert_field(f, ids[0], "rights", "cc-by");
	assert_true(has_tag(f, ids[1], "licensed"));
	assert_field(f, ids[2], "rights", NULL);
	assert_int_equal(template_set_field_bulk(f->dam, "title@zh", "标题", idp, 3, NULL), 3);
	assert_int_equal(template_set_field_bulk(f->dam, "title@xx", "t", idp, 3, NULL), DAM_EINVAL);
	assert_int_equal(fielddef_incomplete(f->dam, &rep, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(rep, "count")), 1);
	a = json_array_get(json_object_get(rep, "assets"), 0);
	assert_string_equal(json_string_value(json_object_get(a, "id")), ids[2]);
	assert_int_equal(json_array_size(json_object_get(a, "missing")), 1);
	json_decref(rep);
	/* An unknown id stops the bulk edit before anything changes. */
	idp[1] = "ffffffff-ffff";
	assert_int_equal(template_apply_bulk(f->dam, "license", idp + 1, 2, NULL), DAM_ENOTFOUND);
	assert_field(f, ids[2], "rights", NULL);
	assert_int_equal(template_apply_bulk(f->dam, "nope", idp, 1, NULL), DAM_ENOTFOUND);
	/* Removing a definition keeps values; the report forgets it. */
	assert_int_equal(fielddef_remove(f->dam, "rights", NULL), 0);
	assert_int_equal(fielddef_remove(f->dam, "rights", NULL), DAM_ENOTFOUND);
	assert_int_equal(fielddef_incomplete(f->dam, &rep, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(rep, "count")), 0);
	json_decref(rep);
	assert_field(f, ids[0], "rights", "cc-by");
	assert_true(audit_verify(f->dam, NULL, NULL) > 0);
}

static void test_audit_rows(void **state)
{
	struct fx *f = *state;
	int64_t n;

	colors(f);
	define(f, "color", FIELD_CHOICE, "colors", false);
	assert_int_equal(namepattern_add(f->dam, "{sku}.{ext}", NULL), 0);
	assert_int_equal(namepattern_remove(f->dam, "{sku}.{ext}", NULL), 0);
	assert_int_equal(fielddef_languages_set(f->dam, "en,fr", NULL), 0);
	assert_int_equal(db_query_int(f->dam->db, &n, NULL,
				      "SELECT count(*) FROM audit WHERE action IN ('vocab.add','vocab.term','field.add',"
				      "'pattern.add','pattern.remove','library.languages')", ""), 0);
	assert_int_equal(n, 1 + 3 + 1 + 2 + 1);
	assert_int_equal(audit_verify(f->dam, NULL, NULL), (int)n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test_setup_teardown(test_validate_defined_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vocab_refusal_lists_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hierarchy_and_synonyms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namepattern, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_at_ingest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_validates_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk_and_incomplete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_rows, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

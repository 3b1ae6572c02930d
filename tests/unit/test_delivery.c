/*
 * test_delivery.c - delivery_load_with() and the answers a handle keeps of
 * it (core/delivery_cache.h). Two handles on one library stand for two
 * server threads (or nodes): B changes the library, A delivers. Inside a
 * request A's answers are kept; a commit by B during A's request shows
 * from A's next request on (library.h), which is how these tests tell a
 * kept answer (no query) from a fresh one without counting statements.
 * On a SQLite file by default; on PostgreSQL when DAM_TEST_PG_URL is set
 * (tests/pg/run.sh), in a database made fresh for each test.
 */
#include "testutil.h"

#include "core/asset.h"
#include "core/delivery.h"
#include "core/delivery_cache.h"
#include "core/ingest.h"
#include "core/job.h"
#include "core/library.h"
#include "core/process.h"
#include "core/rendition.h"

#define PG_DB "dam_delivery_test"

static const char *pg_url;

struct fx {
	char *dir;
	char lib[4200];
	struct dam *a, *b;           /* A delivers, B changes */
	char id[DAM_ID_LEN + 1];     /* a processed text asset, version 1 */
	char version_id[DAM_ID_LEN + 1];
	char hash[65];
};

/* pg_url with the database PG_DB instead of "dam" (caller frees). */
static char *pg_db_url(void)
{
	const char *at = strstr(pg_url, "/dam?");
	char *u;

	if (!at)
		fail_msg("DAM_TEST_PG_URL has no /dam? part: %s", pg_url);
	assert_true(asprintf(&u, "%.*s/" PG_DB "%s", (int)(at - pg_url), pg_url, at + 4) > 0);
	return u;
}

static void pg_admin(const char *sql)
{
	struct dam_err err;
	struct db *db;

	assert_int_equal(db_open(pg_url, &db, NULL), 0);
	if (db_exec(db, sql, &err) < 0)
		fail_msg("%s: %s", sql, err.msg);
	db_close(db);
}

static void process_all(struct dam *dam)
{
	struct dam_err err;
	struct job j;

	while (job_claim(dam, "test:1", &j, NULL) == 1)
		if (process_run(dam, j.id, j.claim, &err) < 0)
			fail_msg("process %s: %s", j.id, err.msg);
}

/* Ingests a text file with the given contents, as a new asset or (of
 * non-NULL) a new version of it. */
static void ingest_text(struct fx *f, const char *text, const char *of, struct ingest_result *r)
{
	struct ingest_opts o = { .new_version_of = of };
	char path[4300];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s.txt", f->dir, of ? "v2" : "v1");
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(ingest_file(f->b, path, &o, r), 0);
	if (r->status == INGEST_FAILED)
		fail_msg("ingest: %s", r->err.msg);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct library_init_opts o = { 0 };
	struct ingest_result r;
	char *url = NULL;

	f->dir = tu_tempdir();
	snprintf(f->lib, sizeof f->lib, "%s/lib", f->dir);
	if (pg_url) {
		pg_admin("DROP DATABASE IF EXISTS " PG_DB " WITH (FORCE)");
		pg_admin("CREATE DATABASE " PG_DB);
		o.db_url = url = pg_db_url();
	}
	assert_int_equal(library_init_with(f->lib, &o, NULL), 0);
	free(url);
	assert_int_equal(library_open(f->lib, &f->a, NULL), 0);
	assert_int_equal(library_open(f->lib, &f->b, NULL), 0);
	ingest_text(f, "first words\n", NULL, &r);
	assert_int_equal(r.status, INGEST_ADDED);
	memcpy(f->id, r.asset_id, sizeof f->id);
	memcpy(f->version_id, r.version_id, sizeof f->version_id);
	memcpy(f->hash, r.hash, sizeof f->hash);
	process_all(f->b);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	library_close(f->a);
	library_close(f->b);
	if (pg_url)
		pg_admin("DROP DATABASE " PG_DB " WITH (FORCE)");
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* One load on A as a request of its own. */
static int load_req(struct fx *f, const char *id, int version, const char *rendition, struct delivery_info *out,
		    struct delivery_rendition *r, struct dam_err *err)
{
	int rc;

	library_request_begin(f->a);
	rc = delivery_load_with(f->a, id, version, rendition, out, r, err);
	library_request_end(f->a);
	return rc;
}

/* The answer is kept: within one request a deletion by B is not seen, the
 * next request sees it; outside requests nothing is kept. */
static void test_kept_within_request_gone_after(void **state)
{
	struct fx *f = *state;
	struct delivery_info i;
	struct dam_err err;

	assert_int_equal(load_req(f, f->id, 0, NULL, &i, NULL, &err), 0);
	library_request_begin(f->a);
	assert_int_equal(delivery_load_with(f->a, f->id, 0, NULL, &i, NULL, &err), 0);
	assert_int_equal(asset_delete(f->b, f->id, NULL), 0);
	/* a fresh query would find no asset now: the answer came from memory */
	assert_int_equal(delivery_load_with(f->a, f->id, 0, NULL, &i, NULL, &err), 0);
	assert_string_equal(i.version_id, f->version_id);
	library_request_end(f->a);
	dam_err_clear(&err);
	assert_int_equal(load_req(f, f->id, 0, NULL, &i, NULL, &err), DAM_ENOTFOUND);
	assert_non_null(strstr(err.msg, f->id));
	/* outside a request nothing is kept: the restore is seen at once */
	assert_int_equal(asset_restore(f->b, f->id, NULL), 0);
	assert_int_equal(delivery_load_with(f->a, f->id, 0, NULL, &i, NULL, &err), 0);
}

/* A kept answer equals a fresh one to the byte, successes and errors
 * alike, with and without a rendition asked for. */
static void test_kept_equals_fresh(void **state)
{
	struct fx *f = *state;
	static const char *const keys[] = { "copyright", "creator" };
	static const char *const values[] = { "© 2026 Üñí Brand", "Ana Lópes" };
	struct delivery_info fresh, kept;
	struct delivery_rendition fr, kr;
	struct dam_err fe, ke;
	struct {
		const char *id;
		int version;
		const char *rendition;
	} asks[] = {
		{ f->id, 0, NULL },           { f->id, 1, NULL },         { f->id, 0, "preview" },
		{ f->id, 0, "preset:none" },  { f->id, 7, NULL },         { "no-such-asset", 0, NULL },
		{ f->id, 1, "thumbnail" },
	};

	assert_int_equal(asset_set_fields(f->b, f->id, keys, values, 2, NULL), 0);
	for (size_t n = 0; n < sizeof asks / sizeof asks[0]; n++) {
		int rc;
		/* fresh: outside a request; then twice in requests (made, kept) */
		memset(&fe, 0, sizeof fe);
		memset(&ke, 0, sizeof ke);
		rc = delivery_load_with(f->a, asks[n].id, asks[n].version, asks[n].rendition, &fresh, &fr, &fe);
		assert_int_equal(load_req(f, asks[n].id, asks[n].version, asks[n].rendition, &kept, &kr, &ke), rc);
		assert_int_equal(load_req(f, asks[n].id, asks[n].version, asks[n].rendition, &kept, &kr, &ke), rc);
		assert_memory_equal(&fresh, &kept, sizeof fresh);
		assert_memory_equal(&fr, &kr, sizeof fr);
		if (rc < 0) { /* what follows the messages' NULs means nothing */
			assert_int_equal(fe.code, ke.code);
			assert_string_equal(fe.msg, ke.msg);
			assert_string_equal(fe.field, ke.field);
		}
	}
	assert_int_equal(load_req(f, f->id, 0, NULL, &kept, NULL, NULL), 0);
	assert_string_equal(kept.copyright, values[0]);
	assert_string_equal(kept.creator, values[1]);
}

/* Every kind of change B makes is seen by A's next request. */
static void test_changes_by_another_handle(void **state)
{
	struct fx *f = *state;
	static const char *const keys[] = { "copyright" };
	static const char *const v1[] = { "one" }, *const v2[] = { "" };
	struct rendition_row row = { .name = "preset:x", .mime = "text/plain", .size = 12, .spec = "{\"p\":1}" };
	struct delivery_info i;
	struct delivery_rendition r;
	struct ingest_result nv;

	/* a field appears, changes, goes */
	assert_int_equal(load_req(f, f->id, 0, NULL, &i, NULL, NULL), 0);
	assert_string_equal(i.copyright, "");
	assert_int_equal(asset_set_fields(f->b, f->id, keys, v1, 1, NULL), 0);
	assert_int_equal(load_req(f, f->id, 0, NULL, &i, NULL, NULL), 0);
	assert_string_equal(i.copyright, "one");
	assert_int_equal(asset_set_fields(f->b, f->id, keys, v2, 1, NULL), 0);
	assert_int_equal(load_req(f, f->id, 0, NULL, &i, NULL, NULL), 0);
	assert_string_equal(i.copyright, "");

	/* a stored rendition appears */
	assert_int_equal(load_req(f, f->id, 0, "preset:x", &i, &r, NULL), 0);
	assert_false(r.found);
	memcpy(row.key, f->hash, sizeof row.key);
	assert_int_equal(db_begin(f->b->db, NULL), 0);
	assert_true(rendition_save(f->b, f->version_id, &row, NULL) >= 0);
	assert_int_equal(db_commit(f->b->db, NULL), 0);
	assert_int_equal(load_req(f, f->id, 0, "preset:x", &i, &r, NULL), 0);
	assert_true(r.found);
	assert_string_equal(r.key, f->hash);
	assert_string_equal(r.spec, "{\"p\":1}");

	/* a new version: pending, the previous one is still delivered; ready,
	 * it is */
	ingest_text(f, "second words\n", f->id, &nv);
	assert_int_equal(nv.status, INGEST_VERSION);
	assert_int_equal(load_req(f, f->id, 0, NULL, &i, NULL, NULL), 0);
	assert_int_equal(i.version, 1);
	assert_int_equal(load_req(f, f->id, 2, NULL, &i, NULL, NULL), DAM_ECONFLICT);
	process_all(f->b);
	assert_int_equal(load_req(f, f->id, 0, NULL, &i, NULL, NULL), 0);
	assert_int_equal(i.version, 2);
	assert_string_equal(i.version_id, nv.version_id);
	assert_int_equal(load_req(f, f->id, 2, NULL, &i, NULL, NULL), 0);

	/* the focal point */
	assert_false(i.has_focal);
	assert_int_equal(delivery_set_focal(f->b, f->id, 0.25, 0.75, NULL), 0);
	assert_int_equal(load_req(f, f->id, 0, NULL, &i, NULL, NULL), 0);
	assert_true(i.has_focal);
}

/* A's own commits are seen at once, within the same request. */
static void test_own_change_seen_in_request(void **state)
{
	struct fx *f = *state;
	static const char *const keys[] = { "creator" };
	static const char *const v[] = { "me" };
	struct delivery_info i;

	library_request_begin(f->a);
	assert_int_equal(delivery_load_with(f->a, f->id, 0, NULL, &i, NULL, NULL), 0);
	assert_string_equal(i.creator, "");
	assert_int_equal(asset_set_fields(f->a, f->id, keys, v, 1, NULL), 0);
	assert_int_equal(delivery_load_with(f->a, f->id, 0, NULL, &i, NULL, NULL), 0);
	assert_string_equal(i.creator, "me");
	library_request_end(f->a);
}

/* Bounded: after DELIVERY_CACHE_ENTRIES other answers the first is gone
 * (a fresh query sees B's deletion within the request), while the most
 * recently used one is still kept. */
static void test_bounded(void **state)
{
	struct fx *f = *state;
	struct delivery_info i;
	char other[64];

	library_request_begin(f->a);
	assert_int_equal(delivery_load_with(f->a, f->id, 1, NULL, &i, NULL, NULL), 0);
	for (int n = 0; n < DELIVERY_CACHE_ENTRIES; n++) {
		snprintf(other, sizeof other, "missing-%d", n);
		assert_int_equal(delivery_load_with(f->a, other, 0, NULL, &i, NULL, NULL), DAM_ENOTFOUND);
	}
	assert_int_equal(delivery_load_with(f->a, f->id, 0, NULL, &i, NULL, NULL), 0);
	assert_int_equal(asset_delete(f->b, f->id, NULL), 0);
	assert_int_equal(delivery_load_with(f->a, f->id, 0, NULL, &i, NULL, NULL), 0);  /* kept */
	assert_int_equal(delivery_load_with(f->a, f->id, 1, NULL, &i, NULL, NULL), DAM_ENOTFOUND); /* evicted */
	library_request_end(f->a);
}

/* Asks that cannot name a real asset are answered, never kept (their key
 * would not be bounded): a deletion within the request is seen. */
static void test_long_ask_not_kept(void **state)
{
	struct fx *f = *state;
	char longname[200];
	struct delivery_info i;
	struct delivery_rendition r;

	memset(longname, 'p', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	library_request_begin(f->a);
	assert_int_equal(delivery_load_with(f->a, f->id, 0, longname, &i, &r, NULL), 0);
	assert_false(r.found);
	assert_int_equal(asset_delete(f->b, f->id, NULL), 0);
	assert_int_equal(delivery_load_with(f->a, f->id, 0, longname, &i, &r, NULL), DAM_ENOTFOUND);
	library_request_end(f->a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kept_within_request_gone_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_equals_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_by_another_handle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_change_seen_in_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_ask_not_kept, setup, teardown),
	};

	pg_url = tu_pg_url();
	return cmocka_run_group_tests_name(pg_url ? "delivery (postgresql)" : "delivery (sqlite)", tests, NULL, NULL);
}

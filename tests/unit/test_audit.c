#include "testutil.h"

#include "core/audit.h"
#include "core/library.h"
#include "util/strbuf.h"

struct fx {
	char *dir;
	struct dam *dam;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	f->dir = tu_tempdir();
	assert_int_equal(library_init(f->dir, NULL), 0);
	assert_int_equal(library_open(f->dir, &f->dam, NULL), 0);
	library_set_actor(f->dam, "test:unit");
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

static void append_rows(struct fx *f, int n)
{
	for (int i = 0; i < n; i++) {
		char id[16];
		json_t *after = json_pack("{s:i}", "n", i);
		snprintf(id, sizeof id, "obj%d", i);
		assert_int_equal(db_begin(f->dam->db, NULL), 0);
		assert_int_equal(audit_append(f->dam, "test.change", "thing", id, NULL, after, NULL), 0);
		assert_int_equal(db_commit(f->dam->db, NULL), 0);
		json_decref(after);
	}
}

static void test_empty_chain_ok(void **state)
{
	struct fx *f = *state;

	assert_int_equal(audit_verify(f->dam, NULL, NULL), 0);
}

static void test_intact_chain(void **state)
{
	struct fx *f = *state;

	append_rows(f, 5);
	assert_int_equal(audit_verify(f->dam, NULL, NULL), 5);
}

static void test_rollback_leaves_no_row(void **state)
{
	struct fx *f = *state;

	append_rows(f, 2);
	assert_int_equal(db_begin(f->dam->db, NULL), 0);
	assert_int_equal(audit_append(f->dam, "test.lost", "thing", "x", NULL, NULL, NULL), 0);
	db_rollback(f->dam->db);
	assert_int_equal(audit_verify(f->dam, NULL, NULL), 2);
}

static void test_edit_detected(void **state)
{
	struct fx *f = *state;
	struct audit_problem p;

	append_rows(f, 5);
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE audit SET actor='someone else' WHERE seq=3", ""), 1);
	assert_int_equal(audit_verify(f->dam, &p, NULL), DAM_EDAMAGED);
	assert_int_equal(p.seq, 3);
	assert_non_null(strstr(p.what, "edited"));
}

static void test_removed_middle_detected(void **state)
{
	struct fx *f = *state;
	struct audit_problem p;

	append_rows(f, 5);
	assert_int_equal(db_run(f->dam->db, NULL, "DELETE FROM audit WHERE seq=2", ""), 1);
	assert_int_equal(audit_verify(f->dam, &p, NULL), DAM_EDAMAGED);
	assert_int_equal(p.seq, 2);
	assert_non_null(strstr(p.what, "removed"));
}

static void test_removed_last_detected(void **state)
{
	struct fx *f = *state;
	struct audit_problem p;

	append_rows(f, 4);
	assert_int_equal(db_run(f->dam->db, NULL, "DELETE FROM audit WHERE seq=4", ""), 1);
	assert_int_equal(audit_verify(f->dam, &p, NULL), DAM_EDAMAGED);
	assert_int_equal(p.seq, 3);
	assert_non_null(strstr(p.what, "head"));
}

static void test_inserted_row_detected(void **state)
{
	struct fx *f = *state;
	struct audit_problem p;

	append_rows(f, 3);
	/* Renumber to make room and forge a row in the middle. */
	assert_true(db_run(f->dam->db, NULL, "UPDATE audit SET seq = seq + 10 WHERE seq >= 2", "") > 0);
	assert_true(db_run(f->dam->db, NULL, "UPDATE audit SET seq = seq - 9 WHERE seq >= 12", "") > 0);
	assert_int_equal(db_run(f->dam->db, NULL,
				"INSERT INTO audit SELECT 2, at, actor, 'forged', object_type, object_id, before, after,"
				" hash, hash FROM audit WHERE seq=1", ""), 1);
	assert_int_equal(audit_verify(f->dam, &p, NULL), DAM_EDAMAGED);
	assert_true(p.seq == 2 || p.seq == 3);
}

static int count_rows(void *ctx, const json_t *row)
{
	(*(int *)ctx)++;
	assert_string_equal(json_string_value(json_object_get(row, "actor")), "test:unit");
	return 0;
}

static void test_list(void **state)
{
	struct fx *f = *state;
	int n = 0;

	append_rows(f, 3);
	assert_int_equal(audit_list(f->dam, "obj1", 0, count_rows, &n, NULL), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(audit_list(f->dam, NULL, 2, count_rows, &n, NULL), 0);
	assert_int_equal(n, 2);
}

/* ---- audit_query: filters, keyset pages, redaction ---- */

struct collect {
	json_t *rows;
};

static int collect_row(void *ctx, const json_t *row)
{
	struct collect *c = ctx;

	json_array_append_new(c->rows, json_deep_copy(row));
	return 0;
}

static int query_seqs(struct fx *f, const struct audit_filter *flt, int64_t *next, char *out, size_t cap)
{
	struct collect c = { json_array() };
	size_t i, len = 0;
	json_t *r;
	int n = audit_query(f->dam, flt, collect_row, &c, next, NULL);

	out[0] = 0;
	json_array_foreach(c.rows, i, r)
		len += (size_t)snprintf(out + len, cap - len, "%s%lld", i ? "," : "",
					(long long)json_integer_value(json_object_get(r, "seq")));
	json_decref(c.rows);
	return n;
}

/* Rows 1..6 by two actors with three actions; row i happened at i*1000 ms. */
static void append_mixed(struct fx *f)
{
	static const char *const action[] = { "asset.create", "asset.update", "user.add", "asset.update",
					      "asset.delete", "token.create" };
	static const char *const actor[] = { "user:alice", "user:bob", "user:alice", "user:alice", "user:bob",
					     "user:alice" };
	static const char *const object[] = { "A1", "A1", "U1", "A2", "V1", "T1" };

	assert_int_equal(db_run(f->dam->db, NULL, "INSERT INTO blobs VALUES ('h', 1, 1, 0)", ""), 1);
	assert_int_equal(db_run(f->dam->db, NULL,
				"INSERT INTO assets(id, name, kind, created_at, updated_at) VALUES ('A3', 'a', 'image', 0, 0)",
				""), 1);
	assert_int_equal(db_run(f->dam->db, NULL,
				"INSERT INTO versions(id, asset_id, number, blob_hash, size, filename, mime, kind, created_at,"
				" created_by) VALUES ('V1', 'A3', 1, 'h', 1, 'a', 'image/png', 'image', 0, 'x')", ""), 1);
	for (int i = 0; i < 6; i++) {
		library_set_actor(f->dam, actor[i]);
		assert_int_equal(db_begin(f->dam->db, NULL), 0);
		assert_int_equal(audit_append(f->dam, action[i], "thing", object[i], NULL, NULL, NULL), 0);
		assert_int_equal(db_commit(f->dam->db, NULL), 0);
	}
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE audit SET at = seq * 1000", ""), 6);
}

/* audit_tx's change: stores ctx's value under key "tx", then fails or
 * records as told. */
struct tx_case {
	const char *value;
	int fail;           /* returned by the change when negative */
	bool no_row;        /* the change decides nothing happened */
	bool bad_row;       /* the audit row itself cannot be written */
};

static int tx_change(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	struct tx_case *c = ctx;
	int rc;

	if ((rc = db_run(dam->db, err, "INSERT INTO library(key, value) VALUES ('tx', ?)"
				       " ON CONFLICT (key) DO UPDATE SET value = excluded.value", "s", c->value)) < 0)
		return rc;
	rec->after = json_pack("{s:s}", "value", c->value);
	if (c->no_row)
		rec->action = NULL;
	if (c->bad_row)
		rec->object_type = NULL; /* NOT NULL column */
	return c->fail < 0 ? dam_err_set(err, c->fail, NULL, "change failed") : 7;
}

static void expect_tx_value(struct fx *f, const char *want)
{
	struct db_stmt *st;

	assert_int_equal(db_query(f->dam->db, &st, NULL, "SELECT value FROM library WHERE key = 'tx'", ""), 0);
	if (want) {
		assert_int_equal(db_step(st, NULL), DB_ROW);
		assert_string_equal(db_col_text(st, 0), want);
	} else {
		assert_int_equal(db_step(st, NULL), DB_DONE);
	}
	db_finalize(st);
}

/* The change and its audit row commit together or not at all. */
static void test_audit_tx(void **state)
{
	struct fx *f = *state;
	struct tx_case ok = { .value = "one" }, failing = { .value = "two", .fail = DAM_EINVAL },
		       quiet = { .value = "three", .no_row = true }, bad = { .value = "four", .bad_row = true };
	struct collect c = { json_array() };
	struct audit_filter all = { 0 };
	json_t *row;
	struct dam_err err;

	append_rows(f, 1);
	assert_int_equal(audit_tx(f->dam, "test.tx", "thing", "t1", tx_change, &failing, &err), DAM_EINVAL);
	expect_tx_value(f, NULL);
	assert_int_equal(audit_verify(f->dam, NULL, NULL), 1);

	assert_int_equal(audit_tx(f->dam, "test.tx", "thing", "t1", tx_change, &ok, &err), 7);
	expect_tx_value(f, "one");
	assert_int_equal(audit_verify(f->dam, NULL, NULL), 2);
	assert_int_equal(audit_query(f->dam, &all, collect_row, &c, NULL, &err), 2);
	row = json_array_get(c.rows, 0); /* newest first */
	assert_string_equal(json_string_value(json_object_get(row, "action")), "test.tx");
	assert_string_equal(json_string_value(json_object_get(row, "object_id")), "t1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(row, "after"), "value")), "one");
	json_decref(c.rows);

	/* a failing audit row takes the change with it */
	assert_true(audit_tx(f->dam, "test.tx", "thing", "t1", tx_change, &bad, &err) < 0);
	expect_tx_value(f, "one");
	assert_int_equal(audit_verify(f->dam, NULL, NULL), 2);

	assert_int_equal(audit_tx(f->dam, "test.tx", "thing", "t1", tx_change, &quiet, &err), 7);
	expect_tx_value(f, "three");
	assert_int_equal(audit_verify(f->dam, NULL, NULL), 2);
	/* no transaction is left open */
	assert_int_equal(db_begin(f->dam->db, &err), 0);
	db_rollback(f->dam->db);
}

static void test_query_filters(void **state)
{
	struct fx *f = *state;
	char got[128];

	append_mixed(f);
	struct audit_filter all = { 0 };
	assert_int_equal(query_seqs(f, &all, NULL, got, sizeof got), 6);
	assert_string_equal(got, "6,5,4,3,2,1");
	struct audit_filter by_actor = { .actor = "user:bob" };
	assert_int_equal(query_seqs(f, &by_actor, NULL, got, sizeof got), 2);
	assert_string_equal(got, "5,2");
	struct audit_filter by_action = { .action = "asset." };
	query_seqs(f, &by_action, NULL, got, sizeof got);
	assert_string_equal(got, "5,4,2,1");
	struct audit_filter exact_action = { .action = "asset.update", .actor = "user:alice" };
	query_seqs(f, &exact_action, NULL, got, sizeof got);
	assert_string_equal(got, "4");
	struct audit_filter by_object = { .object_id = "A1" };
	query_seqs(f, &by_object, NULL, got, sizeof got);
	assert_string_equal(got, "2,1");
	/* an asset's history includes the rows about its versions */
	struct audit_filter by_asset = { .asset_id = "A3" };
	query_seqs(f, &by_asset, NULL, got, sizeof got);
	assert_string_equal(got, "5");
	/* since is inclusive, until exclusive */
	struct audit_filter range = { .since_ms = 2000, .until_ms = 5000 };
	query_seqs(f, &range, NULL, got, sizeof got);
	assert_string_equal(got, "4,3,2");
	struct audit_filter none = { .actor = "user:carol" };
	assert_int_equal(query_seqs(f, &none, NULL, got, sizeof got), 0);
}

static void test_query_pages(void **state)
{
	struct fx *f = *state;
	struct audit_filter flt = { .limit = 2 };
	char got[128];
	struct strbuf all = STRBUF_INIT;
	int64_t next = -1;

	append_mixed(f);
	/* keyset pages of 2 cover every row once, then say there is no more */
	for (int page = 0; page < 3; page++) {
		assert_int_equal(query_seqs(f, &flt, &next, got, sizeof got), 2);
		strbuf_addf(&all, "%s;", got);
		assert_int_equal(next, page < 2 ? 5 - 2 * page : 0);
		flt.before_seq = next;
	}
	assert_string_equal(all.buf, "6,5;4,3;2,1;");
	strbuf_release(&all);
	/* a row appended meanwhile does not shift the next page */
	flt.before_seq = 5;
	library_set_actor(f->dam, "test:unit");
	append_rows(f, 1);
	assert_int_equal(query_seqs(f, &flt, &next, got, sizeof got), 2);
	assert_string_equal(got, "4,3");
	/* pages with a filter: the cursor is the last row shown */
	struct audit_filter alice = { .actor = "user:alice", .limit = 2 };
	query_seqs(f, &alice, &next, got, sizeof got);
	assert_string_equal(got, "6,4");
	assert_int_equal(next, 4);
	alice.before_seq = next;
	query_seqs(f, &alice, &next, got, sizeof got);
	assert_string_equal(got, "3,1");
	assert_int_equal(next, 0);
}

static int keep_first(void *ctx, const json_t *row)
{
	char **out = ctx;

	if (!*out)
		*out = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
	return 0;
}

static void test_query_redacts_secrets(void **state)
{
	struct fx *f = *state;
	struct audit_filter flt = { 0 };
	char *text = NULL;
	json_t *after = json_pack("{s:s,s:s,s:{s:s,s:s},s:[{s:s}],s:s}", "username", "alice", "password", "hunter2",
				  "token", "api_secret", "dam_SECRETVALUE", "label", "ci", "keys", "secret", "k3y",
				  "csrf_token", "c5rf");

	assert_int_equal(db_begin(f->dam->db, NULL), 0);
	assert_int_equal(audit_append(f->dam, "user.add", "user", "U1", NULL, after, NULL), 0);
	assert_int_equal(db_commit(f->dam->db, NULL), 0);
	json_decref(after);
	assert_int_equal(audit_query(f->dam, &flt, keep_first, &text, NULL, NULL), 1);
	assert_non_null(text);
	assert_null(strstr(text, "hunter2"));
	assert_null(strstr(text, "SECRETVALUE"));
	assert_null(strstr(text, "k3y"));
	assert_null(strstr(text, "c5rf"));
	assert_non_null(strstr(text, "\"password\":\"[redacted]\""));
	assert_non_null(strstr(text, "\"label\":\"ci\""));
	assert_non_null(strstr(text, "\"username\":\"alice\""));
	free(text);
	/* the stored row is untouched: the chain still verifies */
	assert_int_equal(audit_verify(f->dam, NULL, NULL), 1);
}

static void test_query_bad_filter(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	struct audit_filter a = { .since_ms = 5000, .until_ms = 5000 }, b = { .action = "" },
			    c = { .object_id = "x", .asset_id = "y" }, d = { .limit = -1 };
	int n = 0;

	assert_int_equal(audit_query(f->dam, &a, count_rows, &n, NULL, &err), DAM_EINVAL);
	assert_string_equal(err.field, "since");
	assert_int_equal(audit_query(f->dam, &b, count_rows, &n, NULL, &err), DAM_EINVAL);
	assert_string_equal(err.field, "action");
	assert_int_equal(audit_query(f->dam, &c, count_rows, &n, NULL, &err), DAM_EINVAL);
	assert_int_equal(audit_query(f->dam, &d, count_rows, &n, NULL, &err), DAM_EINVAL);
	assert_int_equal(n, 0);
}

static void test_export_csv(void **state)
{
	struct fx *f = *state;
	struct audit_filter flt = { 0 };
	json_t *after = json_pack("{s:s,s:s}", "name", "say \"hi\", then\nleave", "password", "hunter2");
	char buf[4096];
	uint64_t size = 0;
	int64_t rows = 0;
	ssize_t n;
	int fd = -1;

	library_set_actor(f->dam, "=cmd|' /C calc'!A0");
	assert_int_equal(db_begin(f->dam->db, NULL), 0);
	assert_int_equal(audit_append(f->dam, "asset.update", "asset", "a,b", NULL, after, NULL), 0);
	assert_int_equal(db_commit(f->dam->db, NULL), 0);
	json_decref(after);
	assert_int_equal(audit_export_csv(f->dam, &flt, &fd, &size, &rows, NULL), 0);
	assert_true(fd >= 0);
	assert_int_equal(rows, 1);
	n = pread(fd, buf, sizeof buf - 1, 0);
	close(fd);
	assert_int_equal((uint64_t)n, size);
	buf[n] = 0;
	/* header, then one CRLF-terminated record; the embedded newline is
	 * inside a quoted field */
	assert_memory_equal(buf, AUDIT_CSV_HEADER "\r\n1,", strlen(AUDIT_CSV_HEADER) + 4);
	assert_non_null(strstr(buf, ",'=cmd|' /C calc'!A0,asset.update,asset,\"a,b\",,"));
	assert_non_null(strstr(buf, "\"{\"\"name\"\":\"\"say \\\"\"hi\\\"\", then\\nleave\"\",\"\"password\"\":\"\"[redacted]\"\"}\""));
	assert_null(strstr(buf, "hunter2"));
	assert_int_equal(strcmp(buf + n - 2, "\r\n"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_chain_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intact_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_no_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_middle_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_last_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inserted_row_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_redacts_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_bad_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_csv, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* migrate.c - copying a library to another database and store (migrate.h). */
#include "core/migrate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/search_index.h"
#include "util/grow.h"
#include "util/strbuf.h"

/*
 * The library's tables, parents before children (foreign keys), copied
 * row for row. Left out on purpose, and why (tests/unit/test_migrate.c
 * fails when a table is in neither list):
 */
static const char *const copied[] = {
	"library", "blobs", "users", "tokens", "sessions", "login_failures",
	"vocabs", "vocab_terms", "vocab_synonyms", "field_defs", "templates", "name_patterns",
	"assets", "versions", "renditions", "tags", "tag_removals", "fields",
	"jobs", "audit", "events", "saved_searches", "similarity", "version_text",
	"delivery_keys", "presets", "purge_outbox", "settings",
};
const char *const migrate_tables_skipped[] = {
	"uploads",        /* tus uploads in progress: partial objects are not blobs */
	"search_docs",    /* derived by search_sync() from assets and versions */
	"facet_values",   /* ditto */
	"search_numbers", /* ditto */
	"search_log",     /* each process's facet cache catch-up log: starts empty */
	"search_dirty",   /* every asset is marked dirty on the target instead */
	NULL,
};
#define NCOPIED (sizeof copied / sizeof copied[0])

const char *migrate_table(size_t i) { return i < NCOPIED ? copied[i] : NULL; }

static void report(migrate_progress_fn fn, void *arg, const char *phase, uint64_t done, uint64_t total)
{
	if (fn)
		fn(arg, phase, done, total);
}

/* ---- blobs ---- */

struct blob_copy {
	struct dam *from, *to;
	struct migrate_report *r;
	migrate_progress_fn progress;
	void *arg;
	uint64_t seen;
	struct dam_err *err;
};

/* Streams one blob through a writer of the target: the writer hashes what
 * arrives, and the key it commits under must be the source's key. */
static int copy_blob(struct blob_copy *c, const char *key, uint64_t size)
{
	struct blob_reader *rd = NULL;
	struct blob_writer *w = NULL;
	char got[BLOB_KEY_LEN + 1];
	static __thread char buf[1 << 16];
	ssize_t n;
	int rc;

	if ((rc = blob_reader_open(c->from->store, key, &rd, c->err)) < 0 ||
	    (rc = blob_writer_new(c->to->store, &w, c->err)) < 0)
		goto out;
	while ((n = blob_reader_read(rd, buf, sizeof buf, c->err)) > 0)
		if ((rc = blob_writer_write(w, buf, (size_t)n, c->err)) < 0)
			goto out;
	if (n < 0) {
		rc = (int)n;
		goto out;
	}
	rc = blob_writer_commit(w, got, NULL, c->err);
	w = NULL;
	if (rc < 0)
		goto out;
	if (strcmp(got, key)) {
		/* Stored under its true key, which nothing references: dam gc
		 * removes it. The source is damaged; dam fsck there says more. */
		rc = dam_err_set(c->err, DAM_EDAMAGED, key,
				 "blob %s in the source is damaged: its bytes hash to %s (run dam fsck on the source)",
				 key, got);
		goto out;
	}
	c->r->blobs++;
	c->r->bytes += size;
out:
	blob_writer_abort(w);
	blob_reader_free(rd);
	return rc;
}

static int each_blob(void *ctx, const char *key, uint64_t size)
{
	struct blob_copy *c = ctx;
	uint64_t have;
	int rc;

	report(c->progress, c->arg, "blobs", ++c->seen, 0);
	rc = blob_stat(c->to->store, key, &have, c->err);
	if (rc == 0 && have == size) {
		c->r->blobs_present++;
		return 0;
	}
	if (rc < 0 && rc != DAM_ENOTFOUND)
		return rc;
	dam_err_clear(c->err);
	return copy_blob(c, key, size);
}

/* ---- rows ---- */

/* Rows go over in multi-row INSERTs: on a database server each statement
 * is a round trip, and one per row made a million-asset library take most
 * of an hour. A batch stays under both engines' parameter limits (SQLite
 * 32766, PostgreSQL 65535). */
#define BATCH_ROWS 500
#define BATCH_PARAMS 30000

/* INSERT INTO table (the columns of st's result) VALUES (?, ...), ...
 * with rows rows of parameters. */
static int insert_sql(const char *table, struct db_stmt *st, int64_t rows, struct strbuf *sql)
{
	int n = db_col_count(st), rc;

	strbuf_reset(sql);
	rc = strbuf_addf(sql, "INSERT INTO %s (", table);
	for (int i = 0; i < n && rc == 0; i++)
		rc = strbuf_addf(sql, "%s%s", i ? ", " : "", db_col_name(st, i));
	if (rc == 0)
		rc = strbuf_adds(sql, ") VALUES ");
	for (int64_t r = 0; r < rows && rc == 0; r++) {
		rc = strbuf_adds(sql, r ? ", (" : "(");
		for (int i = 0; i < n && rc == 0; i++)
			rc = strbuf_adds(sql, i ? ", ?" : "?");
		if (rc == 0)
			rc = strbuf_addch(sql, ')');
	}
	return rc < 0 ? DAM_ENOMEM : 0;
}

/* The batch statement for the next rows of a table with left rows still
 * to copy (the count is exact: the source is held in one transaction). */
static int batch_stmt(struct dam *to, const char *table, struct db_stmt *src, int64_t left, struct strbuf *sql,
		      struct db_stmt **dst, int64_t *rows, struct dam_err *err)
{
	int64_t per = BATCH_PARAMS / db_col_count(src);
	int rc;

	if (left <= 0)
		return dam_err_set(err, DAM_ECONFLICT, table, "%s changed while it was copied", table);
	*rows = left < per ? left : per;
	if (*rows > BATCH_ROWS)
		*rows = BATCH_ROWS;
	if ((rc = insert_sql(table, src, *rows, sql)) < 0)
		return dam_err_set(err, rc, NULL, "out of memory");
	return db_prepare(to->db, sql->buf, dst, err);
}

static int copy_table(struct dam *from, struct dam *to, const char *table, uint64_t *rows, struct dam_err *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct db_stmt *src = NULL, *dst = NULL;
	int64_t left = 0, batch = 0, k = 0;
	int rc, n;

	if (strbuf_addf(&sql, "SELECT count(*) FROM %s", table) < 0) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if ((rc = db_query_int(from->db, &left, err, sql.buf, "")) < 0)
		goto out;
	strbuf_reset(&sql);
	if (strbuf_addf(&sql, "SELECT * FROM %s", table) < 0) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if ((rc = db_query(from->db, &src, err, sql.buf, "")) < 0)
		goto out;
	while ((rc = db_step(src, err)) == DB_ROW) {
		if (!dst && (rc = batch_stmt(to, table, src, left, &sql, &dst, &batch, err)) < 0)
			goto out;
		n = db_col_count(src);
		for (int i = 0; i < n; i++)
			if ((rc = db_bind_col(dst, (int)(k * n) + i + 1, src, i, err)) < 0)
				goto out;
		if (++k < batch)
			continue;
		if ((rc = db_step(dst, err)) < 0) {
			char why[sizeof err->msg];

			snprintf(why, sizeof why, "%s", err ? err->msg : "");
			rc = dam_err_set(err, rc, table, "cannot copy rows of %s: %s", table, why);
			goto out;
		}
		*rows += (uint64_t)batch;
		left -= batch;
		k = 0;
		db_reset(dst);
		if (left < batch) { /* the last rows take a shorter statement */
			db_finalize(dst);
			dst = NULL;
		}
	}
	if (rc >= 0 && k)
		rc = dam_err_set(err, DAM_ECONFLICT, table, "%s changed while it was copied", table);
out:
	db_finalize(dst);
	db_finalize(src);
	strbuf_release(&sql);
	return rc < 0 ? rc : 0;
}

/* Empties the target's copies (an earlier attempt's, or what its own
 * init made: its id, its first signing key), children first. */
static int clear_target(struct dam *to, struct dam_err *err)
{
	char sql[96];
	int rc;

	for (size_t i = NCOPIED; i-- > 0;) {
		snprintf(sql, sizeof sql, "DELETE FROM %s", copied[i]);
		if ((rc = db_run(to->db, err, sql, "")) < 0)
			return rc;
	}
	/* Deleting assets queued CDN purges of a library nobody saw yet. */
	return db_run(to->db, err, "DELETE FROM purge_outbox", "");
}

static int copy_rows(struct dam *from, struct dam *to, migrate_progress_fn progress, void *arg,
		     struct migrate_report *r, struct dam_err *err)
{
	int rc;

	if ((rc = db_begin(to->db, err)) < 0)
		return rc;
	if ((rc = clear_target(to, err)) < 0)
		goto out;
	for (size_t i = 0; i < NCOPIED; i++) {
		report(progress, arg, "rows", i, NCOPIED);
		if ((rc = copy_table(from, to, copied[i], &r->rows, err)) < 0)
			goto out;
		r->tables++;
	}
	/* The insert triggers marked every asset already; say it outright. */
	if ((rc = db_keys_follow_rows(to->db, err)) < 0 ||
	    (rc = db_run(to->db, err, "INSERT INTO search_dirty (asset_id) SELECT id FROM assets", "")) < 0)
		goto out;
	rc = db_commit(to->db, err);
out:
	if (rc < 0)
		db_rollback(to->db);
	return rc;
}

/* The library's id ("" when it has none yet). */
static int library_id(struct dam *dam, char out[64], struct dam_err *err)
{
	struct db_stmt *st = NULL;
	int rc;

	out[0] = '\0';
	if ((rc = db_query(dam->db, &st, err, "SELECT value FROM library WHERE key = 'id'", "")) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW)
		snprintf(out, 64, "%s", db_col_text(st, 0));
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* The target must hold no other library's assets: it is new (its own
 * fresh id, nothing in it) or an earlier attempt at this same copy. */
static int check_target(struct dam *from, struct dam *to, struct dam_err *err)
{
	char src[64], dst[64];
	int64_t n = 0;
	int rc;

	if ((rc = library_id(from, src, err)) < 0 || (rc = library_id(to, dst, err)) < 0 ||
	    (rc = db_query_int(to->db, &n, err, "SELECT count(*) FROM assets", "")) < 0)
		return rc;
	if (n > 0 && strcmp(src, dst))
		return dam_err_set(err, DAM_EEXIST, NULL,
				   "%s holds another library (id %s, %lld assets): migrate into a new one", to->root,
				   dst, (long long)n);
	return 0;
}

int library_migrate(struct dam *from, struct dam *to, migrate_progress_fn progress, void *arg,
		    struct migrate_report *r, struct dam_err *err)
{
	struct blob_copy bc = { from, to, r, progress, arg, 0, err };
	int rc, n;

	memset(r, 0, sizeof *r);
	if ((rc = check_target(from, to, err)) < 0)
		return rc;
	/* Holds the source still: its writers wait until we are done, so the
	 * rows copied name no blob that arrived after the blob pass. */
	if ((rc = db_begin(from->db, err)) < 0)
		return rc;
	if ((rc = blob_each(from->store, each_blob, &bc, err)) < 0 ||
	    (rc = copy_rows(from, to, progress, arg, r, err)) < 0)
		goto out;
	while ((n = search_sync(to, 1000, err)) > 0) {
		r->reindexed += n;
		report(progress, arg, "reindex", (uint64_t)r->reindexed, 0);
	}
	rc = n;
out:
	db_rollback(from->db);
	return rc < 0 ? rc : 0;
}

/* ---- verification ---- */

/* A row's digest: SHA-256 over "name=value" for each column in name
 * order, with the value's canonical form - integers in decimal, floats
 * with 17 digits, blobs as their bytes, NULL distinct from every text. */
static void row_digest(struct db_stmt *st, const int *order, int n, unsigned char out[32])
{
	crypto_hash_sha256_state h;
	char num[40];
	const void *p;
	size_t len;

	crypto_hash_sha256_init(&h);
	for (int k = 0; k < n; k++) {
		int c = order[k];
		const char *name = db_col_name(st, c);
		unsigned char tag;

		crypto_hash_sha256_update(&h, (const unsigned char *)name, strlen(name) + 1);
		switch (db_col_type(st, c)) {
		case DB_NULL:
			tag = 'N';
			crypto_hash_sha256_update(&h, &tag, 1);
			continue;
		case DB_INT:
			snprintf(num, sizeof num, "%lld", (long long)db_col_int(st, c));
			p = num, len = strlen(num);
			break;
		case DB_FLOAT:
			snprintf(num, sizeof num, "%.17g", db_col_double(st, c));
			p = num, len = strlen(num);
			break;
		case DB_BLOB:
			p = db_col_blob(st, c, &len);
			break;
		default:
			p = db_col_text(st, c), len = strlen(p);
			break;
		}
		tag = 'V';
		crypto_hash_sha256_update(&h, &tag, 1);
		crypto_hash_sha256_update(&h, (const unsigned char *)&len, sizeof len);
		if (len)
			crypto_hash_sha256_update(&h, p, len);
	}
	crypto_hash_sha256_final(&h, out);
}

struct digest {
	unsigned char h[32];
};

static int cmp_digest(const void *a, const void *b) { return memcmp(a, b, sizeof(struct digest)); }
static int cmp_name(const void *a, const void *b, void *st)
{
	return strcmp(db_col_name(st, *(const int *)a), db_col_name(st, *(const int *)b));
}

/* The table's digest: the sorted digests of its rows, hashed (the engines
 * may return rows in any order). */
static int table_digest(struct dam *dam, const char *table, unsigned char out[32], uint64_t *rows,
			struct dam_err *err)
{
	char sql[96];
	struct db_stmt *st = NULL;
	struct digest *d = NULL;
	size_t nd = 0, cap = 0;
	int order[64], n = 0, rc;

	snprintf(sql, sizeof sql, "SELECT * FROM %s", table);
	if ((rc = db_query(dam->db, &st, err, sql, "")) < 0)
		goto out;
	while ((rc = db_step(st, err)) == DB_ROW) {
		if (!nd) {
			n = db_col_count(st);
			if (n > 64) {
				rc = dam_err_set(err, DAM_EINVAL, table, "table %s has more than 64 columns", table);
				goto out;
			}
			for (int i = 0; i < n; i++)
				order[i] = i;
			qsort_r(order, (size_t)n, sizeof *order, cmp_name, st);
		}
		if (GROW(&d, &cap, nd + 1, 1024) < 0) {
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
			goto out;
		}
		row_digest(st, order, n, d[nd].h);
		nd++;
	}
	if (rc < 0)
		goto out;
	if (nd) /* qsort's array must not be NULL, even empty (UBSan) */
		qsort(d, nd, sizeof *d, cmp_digest);
	crypto_hash_sha256(out, d ? d->h : (const unsigned char *)"", nd * sizeof *d);
	*rows = nd;
	rc = 0;
out:
	db_finalize(st);
	free(d);
	return rc;
}

struct blob_check {
	struct dam *to;
	migrate_progress_fn progress;
	void *arg;
	uint64_t seen;
	struct dam_err *err;
};

static int check_blob(void *ctx, const char *key, uint64_t size)
{
	struct blob_check *c = ctx;
	uint64_t have;
	int rc;

	report(c->progress, c->arg, "verify blobs", ++c->seen, 0);
	if ((rc = blob_stat(c->to->store, key, &have, c->err)) < 0) {
		if (rc == DAM_ENOTFOUND)
			return dam_err_set(c->err, DAM_EDAMAGED, key, "blob %s is missing from the target", key);
		return rc;
	}
	if (have != size)
		return dam_err_set(c->err, DAM_EDAMAGED, key, "blob %s has %llu bytes in the target, %llu in the source",
				   key, (unsigned long long)have, (unsigned long long)size);
	return blob_verify(c->to->store, key, c->err);
}

int library_migrate_verify(struct dam *from, struct dam *to, migrate_progress_fn progress, void *arg,
			   struct dam_err *err)
{
	struct blob_check bc = { to, progress, arg, 0, err };
	unsigned char a[32], b[32];
	uint64_t na, nb;
	int rc;

	for (size_t i = 0; i < NCOPIED; i++) {
		report(progress, arg, "verify rows", i, NCOPIED);
		if ((rc = table_digest(from, copied[i], a, &na, err)) < 0 ||
		    (rc = table_digest(to, copied[i], b, &nb, err)) < 0)
			return rc;
		if (na != nb)
			return dam_err_set(err, DAM_EDAMAGED, copied[i], "table %s has %llu rows in the target, %llu in the source",
					   copied[i], (unsigned long long)nb, (unsigned long long)na);
		if (memcmp(a, b, sizeof a))
			return dam_err_set(err, DAM_EDAMAGED, copied[i],
					   "table %s differs between source and target (same row count, other values)", copied[i]);
	}
	return blob_each(from->store, check_blob, &bc, err);
}

#include "core/audit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

struct row {
	int64_t seq, at;
	const char *actor, *action, *otype, *oid, *before, *after, *prev;
};

/* Length-prefixed fields, so no two different rows hash alike by moving
 * bytes between columns. */
static void hash_field(crypto_hash_sha256_state *h, const char *s)
{
	char len[24];
	size_t n = s ? strlen(s) : 0;

	snprintf(len, sizeof len, "%zu:", n);
	crypto_hash_sha256_update(h, (const unsigned char *)len, strlen(len));
	if (n)
		crypto_hash_sha256_update(h, (const unsigned char *)s, n);
}

static void row_hash(const struct row *r, char out[65])
{
	crypto_hash_sha256_state h;
	unsigned char d[32];
	char num[48];

	crypto_hash_sha256_init(&h);
	hash_field(&h, r->prev);
	snprintf(num, sizeof num, "%" PRId64 "/%" PRId64, r->seq, r->at);
	hash_field(&h, num);
	hash_field(&h, r->actor);
	hash_field(&h, r->action);
	hash_field(&h, r->otype);
	hash_field(&h, r->oid);
	hash_field(&h, r->before);
	hash_field(&h, r->after);
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(out, 65, d, sizeof d);
}

static int read_head(struct dam *dam, int64_t *seq, char prev[65], struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	*seq = 0;
	snprintf(prev, 65, "%s", GENESIS);
	if ((rc = db_query(dam->db, &st, err, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", "")) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		*seq = db_col_int(st, 0);
		snprintf(prev, 65, "%s", db_col_text(st, 1));
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

static char *dump(const json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

int audit_append(struct dam *dam, const char *action, const char *object_type,
		 const char *object_id, const json_t *before, const json_t *after,
		 struct dam_err *err)
{
	char prev[65], hash[65], headv[96];
	char *b = dump(before), *a = dump(after);
	struct row r;
	int rc;

	if ((rc = read_head(dam, &r.seq, prev, err)) < 0)
		goto out;
	r.seq++;
	r.at = (int64_t)time_now_ms();
	r.actor = dam->actor;
	r.action = action;
	r.otype = object_type;
	r.oid = object_id;
	r.before = b;
	r.after = a;
	r.prev = prev;
	row_hash(&r, hash);
	rc = db_run(dam->db, err,
		    "INSERT INTO audit(seq, at, actor, action, object_type, object_id, before, after, prev_hash, hash)"
		    " VALUES (?,?,?,?,?,?,?,?,?,?)",
		    "iissssssss", r.seq, r.at, r.actor, action, object_type, object_id, b, a, prev, hash);
	if (rc < 0)
		goto out;
	snprintf(headv, sizeof headv, "%" PRId64 " %s", r.seq, hash);
	rc = db_run(dam->db, err, "INSERT INTO library(key, value) VALUES ('audit_head', ?)"
				  " ON CONFLICT(key) DO UPDATE SET value = excluded.value", "s", headv);
out:
	free(b);
	free(a);
	return rc < 0 ? rc : 0;
}

int audit_tx(struct dam *dam, const char *action, const char *object_type, const char *object_id,
	     audit_change_fn change, void *ctx, struct dam_err *err)
{
	struct audit_rec rec = { .action = action, .object_type = object_type, .object_id = object_id };
	int rc, value;

	if ((rc = db_begin(dam->db, err)) < 0)
		return rc;
	if ((rc = value = change(dam, ctx, &rec, err)) >= 0 && rec.action)
		rc = audit_append(dam, rec.action, rec.object_type, rec.object_id, rec.before, rec.after, err);
	json_decref(rec.before);
	json_decref(rec.after);
	if (rc < 0) {
		db_rollback(dam->db);
		return rc;
	}
	if ((rc = db_commit(dam->db, err)) < 0) /* db_commit rolled back */
		return rc;
	return value;
}

static int damaged(struct audit_problem *p, struct dam_err *err, int64_t seq, const char *what)
{
	if (p) {
		p->seq = seq;
		snprintf(p->what, sizeof p->what, "%s", what);
	}
	return dam_err_set(err, DAM_EDAMAGED, NULL, "%s", what);
}

static int check_head(struct dam *dam, int64_t last, const char *last_hash,
		      struct audit_problem *p, struct dam_err *err)
{
	struct db_stmt *st;
	char want[96];
	int rc;

	if ((rc = db_query(dam->db, &st, err, "SELECT value FROM library WHERE key='audit_head'", "")) < 0)
		return rc;
	rc = db_step(st, err);
	snprintf(want, sizeof want, "%s", rc == DB_ROW ? db_col_text(st, 0) : "");
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (!*want && last == 0)
		return 0;
	{
		char have[96];
		snprintf(have, sizeof have, "%" PRId64 " %s", last, last_hash);
		if (strcmp(have, want)) {
			char m[256];
			snprintf(m, sizeof m, "audit row %" PRId64 " is the last one, but the chain head says \"%.80s\": rows after it were removed or the head was altered",
				 last, want);
			return damaged(p, err, last, m);
		}
	}
	return 0;
}

int audit_verify(struct dam *dam, struct audit_problem *p, struct dam_err *err)
{
	struct db_stmt *st;
	char prev[65] = GENESIS, hash[65];
	int64_t expect = 1, n = 0;
	int rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT seq, at, actor, action, object_type, object_id, before, after, prev_hash, hash"
			   " FROM audit ORDER BY seq", "")) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		struct row r = {
			db_col_int(st, 0), db_col_int(st, 1), db_col_text(st, 2), db_col_text(st, 3),
			db_col_text(st, 4), db_col_text(st, 5),
			db_col_is_null(st, 6) ? NULL : db_col_text(st, 6),
			db_col_is_null(st, 7) ? NULL : db_col_text(st, 7), db_col_text(st, 8),
		};
		char m[256];
		if (r.seq != expect) {
			snprintf(m, sizeof m, "audit row %" PRId64 " follows a gap: row %" PRId64 " was removed", r.seq, expect);
			rc = damaged(p, err, expect, m);
			break;
		}
		if (strcmp(r.prev, prev)) {
			snprintf(m, sizeof m, "audit row %" PRId64 " does not link to the row before it: a row was inserted, removed or edited", r.seq);
			rc = damaged(p, err, r.seq, m);
			break;
		}
		row_hash(&r, hash);
		if (strcmp(hash, db_col_text(st, 9))) {
			snprintf(m, sizeof m, "audit row %" PRId64 " was edited: its contents no longer match its hash", r.seq);
			rc = damaged(p, err, r.seq, m);
			break;
		}
		memcpy(prev, hash, sizeof prev);
		expect++;
		n++;
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	if ((rc = check_head(dam, n, n ? prev : "", p, err)) < 0)
		return rc;
	return (int)n;
}

/* Keys whose values never leave the trail, whatever a writer recorded. */
static bool secret_key(const char *k)
{
	static const char *const names[] = { "password", "password_hash", "secret", "token_secret", "csrf",
					     "csrf_token", NULL };
	size_t n = strlen(k);

	for (int i = 0; names[i]; i++)
		if (!strcmp(k, names[i]))
			return true;
	return n > 7 && !strcmp(k + n - 7, "_secret");
}

static void redact(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (secret_key(k))
				json_object_set_new(j, k, json_string("[redacted]"));
			else
				redact(v);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			redact(v);
	}
}

static json_t *row_json(struct db_stmt *st)
{
	char at[32];
	json_t *row;

	time_iso8601((uint64_t)db_col_int(st, 1), at);
	row = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "seq", (json_int_t)db_col_int(st, 0), "at", at, "actor",
			db_col_text(st, 2), "action", db_col_text(st, 3), "object_type", db_col_text(st, 4),
			"object_id", db_col_text(st, 5), "hash", db_col_text(st, 8));
	for (int c = 6; c <= 7 && row; c++) {
		json_t *v;
		if (db_col_is_null(st, c))
			continue;
		v = json_loads(db_col_text(st, c), 0, NULL);
		redact(v);
		json_object_set_new(row, c == 6 ? "before" : "after", v ? v : json_null());
	}
	return row;
}

static int check_filter(const struct audit_filter *f, struct dam_err *err)
{
	if (f->limit < 0)
		return dam_err_set(err, DAM_EINVAL, "limit", "limit must not be negative");
	if (f->actor && !*f->actor)
		return dam_err_set(err, DAM_EINVAL, "actor", "actor is empty");
	if (f->action && !*f->action)
		return dam_err_set(err, DAM_EINVAL, "action", "action is empty");
	if (f->object_id && f->asset_id)
		return dam_err_set(err, DAM_EINVAL, "object", "filter by an object or by an asset, not both");
	if (f->since_ms < 0 || f->until_ms < 0 || f->before_seq < 0)
		return dam_err_set(err, DAM_EINVAL, NULL, "negative time or cursor");
	if (f->since_ms && f->until_ms && f->since_ms >= f->until_ms)
		return dam_err_set(err, DAM_EINVAL, "since", "since must be before until");
	return 0;
}

#define AUDIT_COLS "SELECT seq, at, actor, action, object_type, object_id, before, after, hash FROM audit"
#define AUDIT_REST                                                                                      \
	" seq < ? AND (CAST(? AS TEXT) IS NULL OR actor = ?) AND (CAST(? AS TEXT) IS NULL OR substr(action, 1, length(?)) = ?)"    \
	" AND at >= ? AND at < ? ORDER BY seq DESC LIMIT ?"

int audit_query(struct dam *dam, const struct audit_filter *f, audit_row_fn fn, void *ctx, int64_t *next_seq,
		struct dam_err *err)
{
	const char *obj = f->object_id ? f->object_id : f->asset_id;
	int64_t before = f->before_seq ? f->before_seq : INT64_MAX;
	int64_t until = f->until_ms ? f->until_ms : INT64_MAX;
	/* One row more than asked tells whether another page follows. */
	int64_t lim = f->limit ? (int64_t)f->limit + 1 : INT64_MAX;
	struct db_stmt *st = NULL;
	int64_t last = 0;
	int rc, n = 0;

	if (next_seq)
		*next_seq = 0;
	if ((rc = check_filter(f, err)) < 0)
		return rc;
	/* Two texts: by object the audit_object index finds the few rows (an
	 * asset's versions' rows too, e.g. job.failed); otherwise the walk goes
	 * down the primary key from the cursor and stops after a page. */
	if (obj)
		rc = db_query(dam->db, &st, err,
			      AUDIT_COLS " WHERE (object_id = ? OR object_id IN"
					 " (SELECT id FROM versions WHERE asset_id = ?)) AND" AUDIT_REST,
			      "ssisssssiii", obj, f->asset_id, before, f->actor, f->actor, f->action, f->action,
			      f->action, f->since_ms, until, lim);
	else
		rc = db_query(dam->db, &st, err, AUDIT_COLS " WHERE" AUDIT_REST, "isssssiii", before, f->actor,
			      f->actor, f->action, f->action, f->action, f->since_ms, until, lim);
	if (rc < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		json_t *row;
		if (f->limit && n == f->limit) {
			if (next_seq)
				*next_seq = last;
			break;
		}
		if (!(row = row_json(st))) {
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
			break;
		}
		last = db_col_int(st, 0);
		rc = fn(ctx, row);
		json_decref(row);
		if (rc < 0)
			break;
		n++;
	}
	db_finalize(st);
	return rc < 0 ? rc : n;
}

int audit_list(struct dam *dam, const char *object_id, int limit, audit_row_fn fn, void *ctx,
	       struct dam_err *err)
{
	struct audit_filter f = { .object_id = object_id, .limit = limit };
	int rc = audit_query(dam, &f, fn, ctx, NULL, err);

	return rc < 0 ? rc : 0;
}

/* ---- CSV export ---- */

struct csv_out {
	struct strbuf sb;
	int fd;
	uint64_t size;
	struct dam_err *err;
};

static int csv_field(struct strbuf *sb, const char *s, bool first)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	int rc = first ? 0 : strbuf_addch(sb, ',');

	if (rc == 0 && quote)
		rc = strbuf_addch(sb, '"');
	if (rc == 0 && s[0] && strchr("=+-@\t\r", s[0]))
		rc = strbuf_addch(sb, '\'');
	for (const char *p = s; rc == 0 && *p; p++)
		rc = *p == '"' ? strbuf_add(sb, "\"\"", 2) : strbuf_addch(sb, *p);
	if (rc == 0 && quote)
		rc = strbuf_addch(sb, '"');
	return rc;
}

static int csv_flush(struct csv_out *c)
{
	int e = fs_write_full(c->fd, c->sb.buf, c->sb.len);

	if (e < 0)
		return dam_err_errno(c->err, DAM_EIO, -e, "cannot write the audit export");
	c->size += c->sb.len;
	strbuf_reset(&c->sb);
	return 0;
}

static int csv_row(void *ctx, const json_t *row)
{
	static const char *const cols[] = { "seq", "at", "actor", "action", "object_type", "object_id", "before",
					    "after", "hash" };
	struct csv_out *c = ctx;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof cols / sizeof cols[0]; i++) {
		json_t *v = json_object_get(row, cols[i]);
		char *dumped = NULL, num[32];
		const char *text = "";
		if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
			text = num;
		} else if (json_is_string(v)) {
			text = json_string_value(v);
		} else if (v) {
			text = dumped = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
			if (!dumped)
				rc = DAM_ENOMEM;
		}
		if (rc == 0)
			rc = csv_field(&c->sb, text, i == 0);
		free(dumped);
	}
	if (rc == 0)
		rc = strbuf_add(&c->sb, "\r\n", 2);
	if (rc < 0)
		return dam_err_set(c->err, rc, NULL, "out of memory");
	return c->sb.len >= 64 * 1024 ? csv_flush(c) : 0;
}

int audit_export_csv(struct dam *dam, const struct audit_filter *f, int *fd, uint64_t *size, int64_t *rows,
		     struct dam_err *err)
{
	struct csv_out c = { STRBUF_INIT, -1, 0, err };
	int rc, n = 0;

	*fd = -1;
	if ((rc = c.fd = library_temp_fd(dam, "audit export", err)) < 0)
		goto out;
	if ((rc = strbuf_adds(&c.sb, AUDIT_CSV_HEADER "\r\n")) < 0) {
		dam_err_set(err, rc, NULL, "out of memory");
		goto out;
	}
	if ((rc = n = audit_query(dam, f, csv_row, &c, NULL, err)) < 0 || (rc = csv_flush(&c)) < 0)
		goto out;
	*fd = c.fd;
	*size = c.size;
	if (rows)
		*rows = n;
	c.fd = -1;
out:
	if (c.fd >= 0)
		close(c.fd);
	strbuf_release(&c.sb);
	return rc < 0 ? rc : 0;
}

/*
 * audit.h - the append-only, hash-chained audit trail.
 *
 * Every state change appends one row inside the caller's transaction, so
 * the change and its record commit or vanish together. Each row stores the
 * hash of the previous row and its own hash over all its columns; the head
 * (last seq and hash) is also kept in the library table, so removing the
 * newest rows is detected as well as editing, inserting or removing any
 * other row.
 */
#ifndef DAM_CORE_AUDIT_H
#define DAM_CORE_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "core/library.h"

/* Appends a row. Must be called inside an open write transaction.
 * before/after are borrowed (may be NULL). */
int audit_append(struct dam *dam, const char *action, const char *object_type,
		 const char *object_id, const json_t *before, const json_t *after,
		 struct dam_err *err);

/* The row audit_tx() appends after a change. The change may fill or alter
 * any member. */
struct audit_rec {
	const char *action;      /* NULL: append no row (the change changed nothing) */
	const char *object_type; /* borrowed until audit_tx() returns */
	const char *object_id;   /* borrowed until audit_tx() returns */
	json_t *before, *after;  /* owned by the record (audit_tx() frees them):
				  * give it a new reference */
};

/* Does the change of one audited transaction; returns >= 0 (passed on by
 * audit_tx) or a negative DAM_E* code. */
typedef int (*audit_change_fn)(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err);

/* One audited change, the way every state change is made: opens a write
 * transaction, runs change, appends the record's audit row (rec starts as
 * action, object_type, object_id with no before/after) and commits. Any
 * error - from change, the audit row or the commit - rolls back both the
 * change and the row. Returns change's value, or a negative DAM_E* code.
 * Must not be called inside an open transaction. */
int audit_tx(struct dam *dam, const char *action, const char *object_type, const char *object_id,
	     audit_change_fn change, void *ctx, struct dam_err *err);

struct audit_problem {
	int64_t seq;          /* the row at fault (or the last good one) */
	char what[256];
};

/* Walks the whole chain. Returns the number of rows checked, or
 * DAM_EDAMAGED with *problem filled for the first fault found. */
int audit_verify(struct dam *dam, struct audit_problem *problem, struct dam_err *err);

/* Calls fn for rows newest first, at most limit rows (0 = all), optionally
 * only for one object. Row JSON is borrowed for the call. */
typedef int (*audit_row_fn)(void *ctx, const json_t *row);
int audit_list(struct dam *dam, const char *object_id, int limit, audit_row_fn fn, void *ctx,
	       struct dam_err *err);

/* What audit_query() returns. Every set member narrows the result; strings
 * are borrowed for the call. */
struct audit_filter {
	const char *actor;     /* exact actor ("user:alice", "cli:root", "system") */
	const char *action;    /* prefix of the action: "asset." or "asset.update" */
	const char *object_id; /* rows about this object (exact id) */
	const char *asset_id;  /* rows about this asset or one of its versions */
	int64_t since_ms;      /* at >= since_ms (0: no bound) */
	int64_t until_ms;      /* at < until_ms (0: no bound) */
	int64_t before_seq;    /* keyset cursor: only rows with seq < before_seq (0: from the newest) */
	int limit;             /* rows in this page; 0 = all */
};

/* Calls fn for each row matching f, newest first (seq descending), with the
 * row as {seq, at, actor, action, object_type, object_id, hash, before?,
 * after?} (borrowed for the call). Values under keys that name secrets
 * (password, password_hash, secret, token_secret, csrf, csrf_token, and any
 * key ending in "_secret") are replaced by "[redacted]" at any depth, so no
 * reader of the trail sees one even if a writer recorded it by mistake.
 * *next_seq (optional) is set to the cursor of the next page (pass it as
 * before_seq) when more rows match, else 0. Returns the number of rows
 * given to fn, or a DAM_E* code (DAM_EINVAL for a bad filter: a negative
 * limit, since not before until, an empty action or actor, both object_id
 * and asset_id). A negative
 * return from fn stops the walk and is returned. Runs in the caller's
 * connection; thread-safe as the connection is. */
int audit_query(struct dam *dam, const struct audit_filter *f, audit_row_fn fn, void *ctx, int64_t *next_seq,
		struct dam_err *err);

/* The columns of audit_export_csv(), in order. */
#define AUDIT_CSV_HEADER "seq,at,actor,action,object_type,object_id,before,after,hash"

/* Writes the rows matching f (newest first; every match when f->limit is
 * 0) as CSV (RFC 4180: a header line, CRLF line ends, fields holding a
 * comma, quote, CR or LF quoted with quotes doubled) into an unlinked
 * temporary file of the library, so an export of any size costs no
 * memory. before/after are compact JSON, redacted as audit_query. A text
 * field starting with '=', '+', '-', '@', TAB or CR gets a leading "'" so a
 * spreadsheet opening the file never runs it as a formula (actors, object
 * ids and JSON come from users). On success *fd (caller closes; read from
 * offset 0) and *size describe the file and *rows is the row count. */
int audit_export_csv(struct dam *dam, const struct audit_filter *f, int *fd, uint64_t *size, int64_t *rows,
		     struct dam_err *err);

#endif

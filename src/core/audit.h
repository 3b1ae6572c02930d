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

#endif

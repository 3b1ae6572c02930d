/*
 * migrate.h - moving a whole library to another database and store
 * (`dam migrate`): SQLite + folder to PostgreSQL + S3 and back, so nobody
 * is locked in.
 *
 * The target is an open library (its own dam.conf names its database and
 * store) that is empty or holds an earlier, interrupted copy of this same
 * library. The copy runs while the source is held still by its write
 * transaction (writers on the source wait; readers go on): first every
 * blob, each re-hashed on arrival (a blob whose bytes do not match its key
 * stops the run), skipping blobs the target already has, so an interrupted
 * run resumes where it stopped; then every row of the library's tables in
 * one transaction of the target, replacing what an earlier attempt left.
 * The full-text index and the search tables derived from rows are not
 * copied: every asset is marked for reindexing and reindexed at the end,
 * on the target's own engine. Uploads in progress (tus) are not moved:
 * their clients start them again.
 *
 * Ownership: nothing returned needs freeing.
 */
#ifndef DAM_CORE_MIGRATE_H
#define DAM_CORE_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/library.h"

struct migrate_report {
	uint64_t blobs;         /* copied now */
	uint64_t blobs_present; /* already in the target (an earlier attempt, or shared) */
	uint64_t bytes;         /* bytes copied now */
	uint64_t rows;          /* rows copied */
	int tables;             /* tables copied */
	int reindexed;          /* assets reindexed on the target */
};

/* Progress of a phase ("blobs", "rows", "verify"): done of total (total 0:
 * unknown). */
typedef void (*migrate_progress_fn)(void *arg, const char *phase, uint64_t done, uint64_t total);

/* Copies from into to (see above). progress may be NULL. */
int library_migrate(struct dam *from, struct dam *to, migrate_progress_fn progress, void *arg,
		    struct migrate_report *report, struct dam_err *err);

/* Compares every copied table of the two libraries row by row (an
 * order-free digest of each row's values by column name) and every blob
 * the source references with the target's bytes (size, and the target's
 * own hash check). DAM_EDAMAGED naming the first table or blob that
 * differs. */
int library_migrate_verify(struct dam *from, struct dam *to, migrate_progress_fn progress, void *arg,
			   struct dam_err *err);

/* The copied tables in copy order (NULL past the last) and the tables left
 * out on purpose (NULL-terminated), for the test that every table of the
 * schema is in one of the two. */
const char *migrate_table(size_t i);
extern const char *const migrate_tables_skipped[];

#endif

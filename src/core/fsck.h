/*
 * fsck.h - checking and cleaning the library.
 *
 * fsck re-hashes every blob, checks reference counts against the versions
 * and renditions that use each blob, finds rows whose blob is missing and
 * verifies the audit chain. Unreferenced blobs and leftover temp objects
 * (what a killed process leaves) are reported but are not damage: `dam gc`
 * reclaims them. It also finds any path in the library folder that its
 * group or others may access (the library must be its owner's alone, see
 * library.h); FSCK_REPAIR tightens those to the owner's bits.
 */
#ifndef DAM_CORE_FSCK_H
#define DAM_CORE_FSCK_H

#include <jansson.h>
#include <stdint.h>

#include "core/library.h"

struct fsck_report {
	int64_t blobs_checked;
	int64_t bytes_checked;
	int64_t damaged;         /* bytes do not match their key */
	int64_t missing;         /* referenced but absent from the store */
	int64_t bad_refcounts;
	int64_t unreferenced;    /* stored but referenced by nothing (reclaimable) */
	int64_t temp_objects;    /* leftover temp objects (reclaimable) */
	int64_t audit_rows;
	int audit_ok;
	int64_t loose_perms;     /* paths open to group or others (the first 100 are in problems) */
	int64_t perms_repaired;  /* of those, tightened (FSCK_REPAIR) */
	json_t *problems;        /* array of {"kind","object","detail"}; caller decrefs */
};

/* Fills *rep (problems owned by the caller). Returns 0 when the library is
 * sound, DAM_EDAMAGED when something is damaged or a path is open to group
 * or others (and not repaired), other < 0 on failure. flags: FSCK_REPAIR
 * chmods loose paths to their owner bits (each is still listed, "repaired"). */
#define FSCK_REPAIR 1u
typedef void (*fsck_progress_fn)(void *ctx, int64_t done, int64_t total);
int library_fsck(struct dam *dam, unsigned flags, struct fsck_report *rep, fsck_progress_fn progress,
		 void *ctx, struct dam_err *err);

struct gc_report {
	int64_t blobs_removed;
	int64_t bytes_freed;
	int64_t temp_removed;
};

/* Removes blobs no version or rendition references, and leftover temp
 * objects. Holds the library's exclusive lock, so ingest and workers wait. */
int library_gc(struct dam *dam, bool dry_run, struct gc_report *rep, struct dam_err *err);

/* Shared lock held while a blob is written and until its row commits, so
 * gc (exclusive) never removes a blob that is about to be referenced. On
 * PostgreSQL the database's lock (db_gc_lock), which every node of the
 * library shares; on SQLite flock on the folder's gc.lock. Blocks until
 * granted; take it outside a transaction. Fills *out (release it with
 * library_unlock on the same handle); returns 0 or < 0 (out then holds
 * nothing). */
struct library_lock {
	int fd;         /* gc.lock, or -1 */
	bool db;        /* the database's lock is held */
	bool exclusive;
};
int library_lock(struct dam *dam, bool exclusive, struct library_lock *out, struct dam_err *err);
/* Releases what library_lock() took (nothing held: no-op). */
void library_unlock(struct dam *dam, struct library_lock *lock);
/* A lock holding nothing, for a cleanup path that may run before
 * library_lock. */
#define LIBRARY_LOCK_NONE ((struct library_lock){ .fd = -1 })

#endif

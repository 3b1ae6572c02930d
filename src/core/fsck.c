#include "core/fsck.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/audit.h"
#include "util/fsutil.h"

int library_lock(struct dam *dam, bool exclusive, struct library_lock *out, struct dam_err *err)
{
	char *p;
	int fd, rc;

	*out = LIBRARY_LOCK_NONE;
	out->exclusive = exclusive;
	if ((rc = db_gc_lock(dam->db, exclusive, err)) != 0) {
		out->db = rc == 1;
		return rc < 0 ? rc : 0;
	}
	/* SQLite: the library is on this machine, so a file lock is enough. */
	p = library_path(dam, "gc.lock");
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (fd < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot open the library lock");
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno != EINTR) {
			close(fd);
			return dam_err_errno(err, DAM_EIO, errno, "cannot lock the library");
		}
	}
	out->fd = fd;
	return 0;
}

void library_unlock(struct dam *dam, struct library_lock *lock)
{
	if (lock->db)
		db_gc_unlock(dam->db, lock->exclusive);
	if (lock->fd >= 0)
		close(lock->fd);
	*lock = LIBRARY_LOCK_NONE;
}

static void problem(struct fsck_report *rep, const char *kind, const char *object, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void problem(struct fsck_report *rep, const char *kind, const char *object, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	json_array_append_new(rep->problems,
			      json_pack("{s:s,s:s,s:s}", "kind", kind, "object", object, "detail", detail));
}

/* Every blob row: bytes present and matching, refcount equal to its uses. */
static int check_rows(struct dam *dam, struct fsck_report *rep, fsck_progress_fn progress, void *ctx,
		      struct dam_err *err)
{
	struct db_stmt *st;
	int64_t total = 0;
	int rc;

	db_query_int(dam->db, &total, NULL, "SELECT count(*) FROM blobs", "");
	rc = db_query(dam->db, &st, err,
		      "SELECT b.hash, b.size, b.refcount,"
		      " (SELECT count(*) FROM versions v WHERE v.blob_hash=b.hash) +"
		      " (SELECT count(*) FROM renditions r WHERE r.blob_hash=b.hash)"
		      " FROM blobs b ORDER BY b.hash", "");
	if (rc < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		const char *key = db_col_text(st, 0);
		int64_t refs = db_col_int(st, 2), uses = db_col_int(st, 3);
		struct dam_err e;
		int v = blob_verify(dam->store, key, &e);

		rep->blobs_checked++;
		rep->bytes_checked += db_col_int(st, 1);
		if (v == DAM_ENOTFOUND && uses > 0) {
			rep->missing++;
			problem(rep, "missing", key, "blob used %lld time(s) is missing from the store", (long long)uses);
		} else if (v == DAM_EDAMAGED) {
			rep->damaged++;
			problem(rep, "damaged", key, "%s", e.msg);
		} else if (v < 0 && v != DAM_ENOTFOUND) {
			rep->damaged++;
			problem(rep, "unreadable", key, "%s", e.msg);
		}
		if (refs != uses) {
			rep->bad_refcounts++;
			problem(rep, "refcount", key, "refcount is %lld but %lld version(s)/rendition(s) use it",
				(long long)refs, (long long)uses);
		} else if (uses == 0) {
			rep->unreferenced++;
		}
		if (progress)
			progress(ctx, rep->blobs_checked, total);
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* Versions or renditions naming a blob that has no row. */
static int check_dangling(struct dam *dam, struct fsck_report *rep, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	rc = db_query(dam->db, &st, err,
		      "SELECT 'version', id, blob_hash FROM versions WHERE blob_hash NOT IN (SELECT hash FROM blobs)"
		      " UNION ALL SELECT 'rendition', id, blob_hash FROM renditions"
		      " WHERE blob_hash NOT IN (SELECT hash FROM blobs)", "");
	if (rc < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		rep->missing++;
		problem(rep, "missing", db_col_text(st, 1), "%s refers to blob %s which is not recorded",
			db_col_text(st, 0), db_col_text(st, 2));
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

struct orphan_ctx {
	struct dam *dam;
	int64_t count, bytes;
	bool remove;
};

static int on_stored(void *arg, const char *key, uint64_t size)
{
	struct orphan_ctx *c = arg;
	int64_t n = 0;

	if (db_query_int(c->dam->db, &n, NULL, "SELECT count(*) FROM blobs WHERE hash=?", "s", key) < 0 || n)
		return 0;
	c->count++;
	c->bytes += (int64_t)size;
	if (c->remove)
		blob_delete(c->dam->store, key, NULL);
	return 0;
}

#define PERMS_LISTED 100

struct perms_ctx {
	struct dam *dam;
	struct fsck_report *rep;
};

static int on_loose(void *arg, const char *path, unsigned mode, unsigned want, bool fixed)
{
	struct perms_ctx *c = arg;
	size_t n = strlen(c->dam->root);
	const char *rel = !strncmp(path, c->dam->root, n) && path[n] == '/' ? path + n + 1 : path;

	c->rep->loose_perms++;
	c->rep->perms_repaired += fixed;
	/* A library made before dam kept it private has every path loose:
	 * the count says how many, the list shows the first ones. */
	if (c->rep->loose_perms <= PERMS_LISTED)
		problem(c->rep, "permissions", rel, "mode %04o is open to group or others, should be %04o%s", mode, want,
		fixed ? " (repaired)" : "");
	return 0;
}

/* The library holds the delivery keys and password hashes: nothing in it
 * may be readable by anyone but its owner (see library.h). */
static int check_perms(struct dam *dam, unsigned flags, struct fsck_report *rep, struct dam_err *err)
{
	struct perms_ctx c = { dam, rep };

	return fs_private_walk(dam->root, flags & FSCK_REPAIR, on_loose, &c, err);
}

int library_fsck(struct dam *dam, unsigned flags, struct fsck_report *rep, fsck_progress_fn progress,
		 void *ctx, struct dam_err *err)
{
	struct orphan_ctx oc = { dam, 0, 0, false };
	struct audit_problem ap;
	int rc, n;

	memset(rep, 0, sizeof *rep);
	rep->problems = json_array();
	if ((rc = check_perms(dam, flags, rep, err)) < 0)
		return rc;
	if ((rc = check_rows(dam, rep, progress, ctx, err)) < 0 || (rc = check_dangling(dam, rep, err)) < 0)
		return rc;
	if ((rc = blob_each(dam->store, on_stored, &oc, err)) < 0)
		return rc;
	rep->unreferenced += oc.count;
	if ((n = blob_count_temp(dam->store, err)) < 0)
		return n;
	rep->temp_objects = n;
	n = audit_verify(dam, &ap, err);
	rep->audit_ok = n >= 0;
	if (n >= 0)
		rep->audit_rows = n;
	else if (n == DAM_EDAMAGED)
		problem(rep, "audit", "audit", "%s", ap.what);
	else
		return n;
	if (rep->damaged || rep->missing || rep->bad_refcounts || !rep->audit_ok)
		return dam_err_set(err, DAM_EDAMAGED, NULL, "the library is damaged");
	if (rep->loose_perms > rep->perms_repaired)
		return dam_err_set(err, DAM_EDAMAGED, NULL,
				   "%lld paths in the library are open to group or others (dam fsck --repair tightens them)",
				   (long long)(rep->loose_perms - rep->perms_repaired));
	return 0;
}

int library_gc(struct dam *dam, bool dry_run, struct gc_report *rep, struct dam_err *err)
{
	struct orphan_ctx oc = { dam, 0, 0, !dry_run };
	struct library_lock lock;
	struct db_stmt *st;
	int rc;

	memset(rep, 0, sizeof *rep);
	if ((rc = library_lock(dam, true, &lock, err)) < 0)
		return rc;
	/* Rows at zero references: delete the row first; a crash before the
	 * file goes leaves an orphan file, which the next gc removes. */
	rc = db_query(dam->db, &st, err, "SELECT hash, size FROM blobs WHERE refcount=0"
					 " AND hash NOT IN (SELECT blob_hash FROM versions)"
					 " AND hash NOT IN (SELECT blob_hash FROM renditions)", "");
	if (rc < 0)
		goto out;
	while ((rc = db_step(st, err)) == DB_ROW) {
		rep->blobs_removed++;
		rep->bytes_freed += db_col_int(st, 1);
	}
	db_finalize(st);
	if (rc < 0)
		goto out;
	if (!dry_run && (rc = db_run(dam->db, err, "DELETE FROM blobs WHERE refcount=0"
						   " AND hash NOT IN (SELECT blob_hash FROM versions)"
						   " AND hash NOT IN (SELECT blob_hash FROM renditions)", "")) < 0)
		goto out;
	if ((rc = blob_each(dam->store, on_stored, &oc, err)) < 0)
		goto out;
	/* After the rows went, the walk meets their files too; in a dry run
	 * the rows remain, so the walk only meets files that never had one. */
	if (dry_run) {
		rep->blobs_removed += oc.count;
		rep->bytes_freed += oc.bytes;
	} else {
		rep->blobs_removed = oc.count;
		rep->bytes_freed = oc.bytes;
	}
	/* Holding the exclusive lock, no writer is mid-way: every temp object
	 * is left over from a killed process. */
	rc = dry_run ? blob_count_temp(dam->store, err) : blob_clean_temp(dam->store, 0, err);
	if (rc >= 0)
		rep->temp_removed = rc, rc = 0;
out:
	library_unlock(dam, &lock);
	return rc;
}

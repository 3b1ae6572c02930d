/* zip.c - bulk downloads as zip files (libarchive). */
#include "core/zip.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/asset.h"
#include "util/fsutil.h"

#define COPY_BUF (256 * 1024)

/* A file name without folders or control characters, never "" or dots only. */
static void safe_name(const char *in, char out[200])
{
	size_t n = 0;

	for (const char *p = in; *p && n < 199; p++)
		out[n++] = (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f) ? '_' : *p;
	out[n] = '\0';
	if (strspn(out, ".") == n)
		snprintf(out, 200, "file");
}

/* Makes items[i].name unique against items[0..i) ignoring case, as
 * "name (2).ext". */
static void unique_name(struct zip_item *items, int i)
{
	char base[sizeof items[i].name];
	const char *dot;
	int stem;

	memcpy(base, items[i].name, sizeof base);
	dot = strrchr(base, '.');
	stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
	for (int k = 2;; k++) {
		bool clash = false;
		for (int j = 0; j < i && !clash; j++)
			clash = !strcasecmp(items[j].name, items[i].name);
		if (!clash)
			return;
		snprintf(items[i].name, sizeof items[i].name, "%.*s (%d)%s", stem, base, k, base + stem);
	}
}

static int plan_one(struct dam *dam, const char *ref, struct zip_item *it, struct dam_err *err)
{
	char id[DAM_ID_LEN + 1], base[200];
	struct db_stmt *st;
	int rc;

	if ((rc = asset_resolve(dam, ref, id, err)) < 0)
		return rc == DAM_ENOTFOUND ? dam_err_set(err, DAM_ENOTFOUND, "ids", "no asset %.40s", ref) : rc;
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT a.id, ifnull(a.created_by,''), a.name, v.blob_hash, v.size, v.created_at, a.deleted_at IS NOT NULL"
			   " FROM assets a JOIN versions v ON v.id = a.current_version_id WHERE a.id=?", "s", id)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW && !db_col_int(st, 6)) {
		snprintf(it->asset_id, sizeof it->asset_id, "%s", db_col_text(st, 0));
		snprintf(it->created_by, sizeof it->created_by, "%s", db_col_text(st, 1));
		safe_name(db_col_text(st, 2), base);
		snprintf(it->name, sizeof it->name, "%s", base);
		snprintf(it->key, sizeof it->key, "%s", db_col_text(st, 3));
		it->size = (uint64_t)db_col_int(st, 4);
		it->mtime_ms = db_col_int(st, 5);
		rc = 0;
	} else if (rc >= 0) {
		rc = dam_err_set(err, DAM_ENOTFOUND, "ids", "no asset %.40s (it may have been deleted)", ref);
	}
	db_finalize(st);
	return rc;
}

int zip_plan(struct dam *dam, const char *const *ids, int n, struct zip_item **out, int *nout,
	     struct dam_err *err)
{
	struct zip_item *items;
	uint64_t total = 0;
	int k = 0, rc = 0;

	*out = NULL;
	*nout = 0;
	if (n <= 0 || n > ZIP_MAX_ASSETS)
		return dam_err_set(err, DAM_EINVAL, "ids", "give 1 to %d asset ids", ZIP_MAX_ASSETS);
	if (!(items = calloc((size_t)n, sizeof *items)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	for (int i = 0; i < n && rc == 0; i++) {
		bool seen = false;
		if ((rc = plan_one(dam, ids[i], &items[k], err)) < 0)
			break;
		for (int j = 0; j < k && !seen; j++)
			seen = !strcmp(items[j].asset_id, items[k].asset_id);
		if (seen)
			continue;
		total += items[k].size;
		unique_name(items, k);
		k++;
	}
	if (rc == 0 && total > ZIP_MAX_BYTES)
		rc = dam_err_set(err, DAM_ELIMIT, "ids", "the originals add up to %llu MiB; a zip holds at most %llu MiB",
				 (unsigned long long)(total >> 20), (unsigned long long)(ZIP_MAX_BYTES >> 20));
	if (rc < 0) {
		free(items);
		return rc;
	}
	*out = items;
	*nout = k;
	return 0;
}

static int add_entry(struct dam *dam, struct archive *a, const struct zip_item *it, char *buf, struct dam_err *err)
{
	struct archive_entry *e = archive_entry_new();
	uint64_t size, done = 0;
	int fd = -1, rc;

	if (!e)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if ((rc = blob_open(dam->store, it->key, &fd, &size, err)) < 0)
		goto out;
	archive_entry_set_pathname_utf8(e, it->name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, (time_t)(it->mtime_ms / 1000), 0);
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		rc = dam_err_set(err, DAM_EIO, NULL, "zip: %s", archive_error_string(a));
		goto out;
	}
	while (done < size) {
		ssize_t n = fs_pread_full(fd, buf, COPY_BUF, (off_t)done);
		if (n <= 0) {
			rc = dam_err_set(err, DAM_EIO, NULL, "cannot read the original of asset %s", it->asset_id);
			goto out;
		}
		if (archive_write_data(a, buf, (size_t)n) != n) {
			rc = dam_err_set(err, DAM_EIO, NULL, "zip: %s", archive_error_string(a));
			goto out;
		}
		done += (uint64_t)n;
	}
out:
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return rc;
}

int zip_write(struct dam *dam, const struct zip_item *items, int n, int *out_fd, uint64_t *out_size,
	      struct dam_err *err)
{
	struct archive *a = NULL;
	char *buf = NULL;
	struct stat sb;
	int fd, rc = 0;

	*out_fd = -1;
	if ((fd = library_temp_fd(dam, "zip", err)) < 0)
		return fd;
	if (!(buf = malloc(COPY_BUF)) || !(a = archive_write_new())) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (archive_write_set_format_zip(a) != ARCHIVE_OK || archive_write_zip_set_compression_store(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK || archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		rc = dam_err_set(err, DAM_EIO, NULL, "zip: %s", archive_error_string(a));
		goto out;
	}
	for (int i = 0; i < n && rc == 0; i++)
		rc = add_entry(dam, a, &items[i], buf, err);
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
		rc = dam_err_set(err, DAM_EIO, NULL, "zip: %s", archive_error_string(a));
	if (rc == 0 && fstat(fd, &sb) < 0)
		rc = dam_err_errno(err, DAM_EIO, errno, "zip");
out:
	if (a)
		archive_write_free(a);
	free(buf);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*out_fd = fd;
	*out_size = (uint64_t)sb.st_size;
	return 0;
}

/* zip.c - bulk downloads as zip files: stored entries with UTF-8 names
 * (flag bit 11 and the Info-ZIP Unicode Path field), Zip64 where needed.
 * Layout from PKWARE's APPNOTE.TXT 6.3 (sections 4.3, 4.4, 4.5.3, 4.6.9). */
#include "core/zip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/asset.h"
#include "core/library.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

#define COPY_BUF (256 * 1024)
#define U32_MAX 0xffffffffu
#define FLAG_UTF8 0x0800u /* general purpose bit 11: name and comment are UTF-8 */
#define MADE_BY_UNIX (3u << 8)
#define NAME_MAX_LEN 255

/* A file name without folders or control characters, never "" or dots only. */
static void safe_name(const char *in, char out[200])
{
	size_t n = 0;

	for (const char *p = in; *p && n < 199; p++)
		out[n++] = (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f) ? '_' : *p;
	/* cut at a character boundary, never inside a UTF-8 sequence */
	while (n > 0 && in[n] && ((unsigned char)in[n] & 0xc0) == 0x80)
		n--;
	out[n] = '\0';
	if (strspn(out, ".") == n)
		snprintf(out, 200, "file");
}

/* Makes name unique against names[0..n) ignoring case, as "name (2).ext". */
static void unique_name(char name[256], char (*names)[256], int n)
{
	char base[256];
	const char *dot;
	int stem;

	memcpy(base, name, sizeof base);
	dot = strrchr(base, '.');
	stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
	for (int k = 2;; k++) {
		bool clash = false;
		for (int j = 0; j < n && !clash; j++)
			clash = !strcasecmp(names[j], name);
		if (!clash)
			return;
		snprintf(name, 256, "%.*s (%d)%s", stem, base, k, base + stem);
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
			   "SELECT a.id, coalesce(a.created_by,''), a.name, v.blob_hash, v.size, v.created_at, a.deleted_at IS NOT NULL"
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

int zip_plan(struct dam *dam, const char *const *ids, int n, bool check_size, struct zip_item **out, int *nout,
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
		k++;
	}
	if (rc == 0 && check_size && total > ZIP_MAX_BYTES)
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

/* ------------------------------------------------------------ the format */

static unsigned char *put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	return p + 2;
}

static unsigned char *put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 4;
}

static unsigned char *put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 8;
}

static unsigned char *put_bytes(unsigned char *p, const void *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* Info-ZIP Unicode Path (0x7075): version 1, CRC-32 of the name field the
 * headers hold (the same UTF-8 bytes), the UTF-8 name. */
static unsigned char *put_unicode_path(unsigned char *p, const char *name, size_t nlen)
{
	p = put16(p, 0x7075);
	p = put16(p, (unsigned)(5 + nlen));
	*p++ = 1;
	p = put32(p, (uint32_t)crc32(0L, (const Bytef *)name, (uInt)nlen));
	return put_bytes(p, name, nlen);
}

/* MS-DOS date and time (UTC: zip has no time zone; 1980 at the earliest). */
static void dos_time(int64_t ms, unsigned *date, unsigned *tim)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (tm.tm_year < 80) {
		*date = (1u << 5) | 1u;
		*tim = 0;
		return;
	}
	*date = ((unsigned)(tm.tm_year - 80) << 9) | ((unsigned)(tm.tm_mon + 1) << 5) | (unsigned)tm.tm_mday;
	*tim = ((unsigned)tm.tm_hour << 11) | ((unsigned)tm.tm_min << 5) | ((unsigned)tm.tm_sec / 2);
}

struct zw {
	int fd;
	uint64_t off;       /* bytes written so far */
	struct strbuf cd;   /* the central directory, written at the end */
	int entries;
	char *buf;          /* COPY_BUF */
};

static int zw_write(struct zw *w, const void *p, size_t n, struct dam_err *err)
{
	if (fs_write_full(w->fd, p, n) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot write the zip");
	w->off += n;
	return 0;
}

/* Copies size bytes of src (or of mem when src < 0) into the archive,
 * returning their CRC-32 in *crc. */
static int copy_data(struct zw *w, int src, const char *mem, uint64_t size, uLong *crc, struct dam_err *err)
{
	uint64_t done = 0;
	int rc;

	*crc = crc32(0L, Z_NULL, 0);
	while (done < size) {
		size_t want = size - done < COPY_BUF ? (size_t)(size - done) : COPY_BUF;
		ssize_t n = want;
		const char *p = mem ? mem + done : w->buf;
		if (!mem && (n = fs_pread_full(src, w->buf, want, (off_t)done)) <= 0)
			return dam_err_set(err, DAM_EIO, NULL, "an entry's bytes could not be read (or it shrank while being read)");
		*crc = crc32(*crc, (const Bytef *)p, (uInt)n);
		if ((rc = zw_write(w, p, (size_t)n, err)) < 0)
			return rc;
		done += (uint64_t)n;
	}
	return 0;
}

/* One entry: local header (CRC patched after the data), data, and its
 * central directory record kept for the end. */
static int write_entry(struct zw *w, const char *name, int64_t mtime_ms, int src, const char *mem, uint64_t size,
		       struct dam_err *err)
{
	unsigned char h[30 + NAME_MAX_LEN + 9 + NAME_MAX_LEN + 20], c[46 + NAME_MAX_LEN + 9 + NAME_MAX_LEN + 28], *p, *x;
	size_t nlen = strlen(name);
	uint64_t start = w->off;
	bool big = size >= U32_MAX, far = start >= U32_MAX;
	unsigned date, tim, need = big || far ? 45 : 20;
	uLong crc;
	unsigned char crcle[4];
	int rc;

	if (nlen > NAME_MAX_LEN)
		return dam_err_set(err, DAM_EINVAL, NULL, "an entry name is longer than %d bytes", NAME_MAX_LEN);
	dos_time(mtime_ms, &date, &tim);
	p = put32(h, 0x04034b50);
	p = put16(p, big ? 45 : 20);
	p = put16(p, FLAG_UTF8);
	p = put16(p, 0); /* stored */
	p = put16(p, tim);
	p = put16(p, date);
	p = put32(p, 0); /* CRC-32, patched below */
	p = put32(p, big ? U32_MAX : (uint32_t)size);
	p = put32(p, big ? U32_MAX : (uint32_t)size);
	p = put16(p, (unsigned)nlen);
	x = p; /* extra length, filled below */
	p = put_bytes(p + 2, name, nlen);
	p = put_unicode_path(p, name, nlen);
	if (big) {
		p = put16(p, 0x0001);
		p = put16(p, 16);
		p = put64(p, size);
		p = put64(p, size);
	}
	put16(x, (unsigned)(p - x - 2 - nlen));
	if ((rc = zw_write(w, h, (size_t)(p - h), err)) < 0 || (rc = copy_data(w, src, mem, size, &crc, err)) < 0)
		return rc;
	put32(crcle, (uint32_t)crc);
	if (fs_pwrite_full(w->fd, crcle, 4, (off_t)(start + 14)) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot write the zip");

	p = put32(c, 0x02014b50);
	p = put16(p, MADE_BY_UNIX | 45);
	p = put16(p, need);
	p = put16(p, FLAG_UTF8);
	p = put16(p, 0);
	p = put16(p, tim);
	p = put16(p, date);
	p = put32(p, (uint32_t)crc);
	p = put32(p, big ? U32_MAX : (uint32_t)size);
	p = put32(p, big ? U32_MAX : (uint32_t)size);
	p = put16(p, (unsigned)nlen);
	x = p;
	p = put16(p + 2, 0);                 /* comment length */
	p = put16(p, 0);                     /* disk number start */
	p = put16(p, 0);                     /* internal attributes */
	p = put32(p, (uint32_t)0100644 << 16); /* a regular file, rw-r--r-- */
	p = put32(p, far ? U32_MAX : (uint32_t)start);
	p = put_bytes(p, name, nlen);
	p = put_unicode_path(p, name, nlen);
	if (big || far) {
		p = put16(p, 0x0001);
		p = put16(p, (big ? 16 : 0) + (far ? 8 : 0));
		if (big) {
			p = put64(p, size);
			p = put64(p, size);
		}
		if (far)
			p = put64(p, start);
	}
	put16(x, (unsigned)(p - c - 46 - nlen));
	if (strbuf_add(&w->cd, c, (size_t)(p - c)) < 0)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	w->entries++;
	return 0;
}

/* The central directory and its end records (Zip64 ones when needed). */
static int write_end(struct zw *w, struct dam_err *err)
{
	unsigned char e[56 + 20 + 22], *p = e;
	uint64_t cd_off = w->off, cd_size = w->cd.len, n = (uint64_t)w->entries;
	bool z64 = n >= 0xffff || cd_off >= U32_MAX || cd_size >= U32_MAX;
	int rc;

	if ((rc = zw_write(w, w->cd.buf, w->cd.len, err)) < 0)
		return rc;
	if (z64) {
		uint64_t z64_off = w->off;
		p = put32(p, 0x06064b50);
		p = put64(p, 44);
		p = put16(p, MADE_BY_UNIX | 45);
		p = put16(p, 45);
		p = put32(p, 0);
		p = put32(p, 0);
		p = put64(p, n);
		p = put64(p, n);
		p = put64(p, cd_size);
		p = put64(p, cd_off);
		p = put32(p, 0x07064b50);
		p = put32(p, 0);
		p = put64(p, z64_off);
		p = put32(p, 1);
	}
	p = put32(p, 0x06054b50);
	p = put16(p, 0);
	p = put16(p, 0);
	p = put16(p, n >= 0xffff ? 0xffff : (unsigned)n);
	p = put16(p, n >= 0xffff ? 0xffff : (unsigned)n);
	p = put32(p, cd_size >= U32_MAX ? U32_MAX : (uint32_t)cd_size);
	p = put32(p, cd_off >= U32_MAX ? U32_MAX : (uint32_t)cd_off);
	p = put16(p, 0);
	return zw_write(w, e, (size_t)(p - e), err);
}

/* ------------------------------------------------------------ the archive */

static int original_source(void *ctx, const struct zip_item *it, int *fd, uint64_t *size, char name[256],
			   struct dam_err *err)
{
	struct dam *dam = ctx;

	(void)name;
	/* write_entry preads a local file: the store's own (fs) or a spool */
	return blob_local_file(dam->store, it->key, fd, size, err);
}

/* One asset: its bytes from the source, under a unique name. 0, ZIP_SKIP
 * (reason appended to skipped), or an error. */
static int add_item(struct zw *w, const struct zip_item *it, zip_source_fn source, void *ctx, char (*names)[256],
		    uint64_t *total, struct strbuf *skipped, struct dam_err *err)
{
	struct dam_err e;
	char name[256];
	uint64_t size = 0;
	int fd = -1, rc;

	dam_err_clear(&e);
	snprintf(name, sizeof name, "%s", it->name);
	if ((rc = source(ctx, it, &fd, &size, name, &e)) == ZIP_SKIP) {
		strbuf_addf(skipped, "%s (asset %s): %s\n", it->name, it->asset_id, e.msg);
		return ZIP_SKIP;
	}
	if (rc < 0) {
		*err = e;
		return rc;
	}
	if ((*total += size) > ZIP_MAX_BYTES) {
		rc = dam_err_set(err, DAM_ELIMIT, "ids", "the files add up to more than %llu MiB, the most a zip holds",
				 (unsigned long long)(ZIP_MAX_BYTES >> 20));
		goto out;
	}
	unique_name(name, names, w->entries);
	memcpy(names[w->entries], name, sizeof name);
	rc = write_entry(w, name, it->mtime_ms, fd, NULL, size, err);
out:
	close(fd);
	return rc;
}

int zip_write(struct dam *dam, struct zip_item *items, int n, zip_source_fn source, void *ctx, int *out_fd,
	      uint64_t *out_size, int *out_skipped, struct dam_err *err)
{
	struct zw w = { .fd = -1, .cd = STRBUF_INIT };
	struct strbuf skipped = STRBUF_INIT;
	char (*names)[256] = NULL, first[DAM_ERR_MSG_MAX] = "";
	uint64_t total = 0;
	int rc = 0, nskipped = 0;

	*out_fd = -1;
	if (!source) {
		source = original_source;
		ctx = dam;
	}
	if ((w.fd = library_temp_fd(dam, "zip", err)) < 0)
		return w.fd;
	if (!(w.buf = malloc(COPY_BUF)) || !(names = calloc((size_t)n + 1, sizeof *names))) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	for (int i = 0; i < n && rc >= 0; i++) {
		size_t before = skipped.len;
		items[i].skipped = false;
		if ((rc = add_item(&w, &items[i], source, ctx, names, &total, &skipped, err)) == ZIP_SKIP) {
			items[i].skipped = true;
			if (!nskipped++)
				snprintf(first, sizeof first, "%.*s", (int)(skipped.len - before - 1), skipped.buf + before);
			rc = 0;
		}
	}
	if (rc == 0 && nskipped && !w.entries)
		rc = dam_err_set(err, DAM_EINVAL, NULL, "nothing to put in the zip: %s%s", first,
				 nskipped > 1 ? " (and the others likewise)" : "");
	if (rc == 0 && nskipped) {
		char name[256] = ZIP_SKIPPED_NAME;
		struct strbuf text = STRBUF_INIT;
		strbuf_addf(&text, "%d of %d assets are not in this zip:\n%s", nskipped, n, skipped.buf);
		unique_name(name, names, w.entries);
		rc = text.buf[0] ? write_entry(&w, name, (int64_t)time(NULL) * 1000, -1, text.buf, text.len, err)
				 : dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		strbuf_release(&text);
	}
	if (rc == 0)
		rc = write_end(&w, err);
out:
	free(names);
	free(w.buf);
	strbuf_release(&w.cd);
	strbuf_release(&skipped);
	if (rc < 0) {
		close(w.fd);
		return rc;
	}
	*out_fd = w.fd;
	*out_size = w.off;
	if (out_skipped)
		*out_skipped = nskipped;
	return 0;
}

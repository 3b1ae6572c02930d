/*
 * blob_fs.c - blobs as files: <root>/objects/ab/cd/<hex>, temp objects in
 * <root>/objects/tmp on the same filesystem so publishing is one rename.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/blob_backend.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

struct fs_state {
	char *objects; /* <root>/objects */
	char *tmp;     /* <root>/objects/tmp */
	/* DAM_STORE_NO_LOCAL_FD=1: readers hide their fd, as an object store's
	 * would, so tests can run every caller's fallback on this backend. */
	bool hide_fd;
};

static int fs_open(const char *root, const struct dam_config *cfg, void **state,
		   struct dam_err *err)
{
	struct fs_state *s = calloc(1, sizeof *s);
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	int rc;

	if (!s)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	strbuf_addf(&a, "%s/objects", root);
	strbuf_addf(&b, "%s/objects/tmp", root);
	if ((rc = fs_mkdir_p(b.buf, err)) < 0) {
		strbuf_release(&a);
		strbuf_release(&b);
		free(s);
		return rc;
	}
	s->objects = strbuf_detach(&a, NULL);
	s->tmp = strbuf_detach(&b, NULL);
	s->hide_fd = getenv("DAM_STORE_NO_LOCAL_FD") && !strcmp(getenv("DAM_STORE_NO_LOCAL_FD"), "1");
	*state = s;
	return 0;
}

static void fs_close(void *state)
{
	struct fs_state *s = state;

	free(s->objects);
	free(s->tmp);
	free(s);
}

static void key_path(struct fs_state *s, const char *key, struct strbuf *out, int depth)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/%.2s", s->objects, key);
	if (depth > 1)
		strbuf_addf(out, "/%.2s", key + 2);
	if (depth > 2)
		strbuf_addf(out, "/%s", key);
}

/* A new temp file "put-XXXXXX" in objects/tmp (swept by fs_clean_temp). */
static int temp_file(struct fs_state *s, int *fd, char **temp, struct dam_err *err)
{
	struct strbuf p = STRBUF_INIT;

	strbuf_addf(&p, "%s/put-XXXXXX", s->tmp);
	*fd = mkostemp(p.buf, O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;
		strbuf_release(&p);
		return dam_err_errno(err, DAM_EIO, e, "cannot create a temp object in the store");
	}
	*temp = strbuf_detach(&p, NULL);
	return 0;
}

/* Makes the two fan-out directories, syncing each parent that gained an
 * entry so the object's path survives a crash. */
static int make_dirs(struct fs_state *s, const char *key, struct dam_err *err)
{
	struct strbuf d = STRBUF_INIT;
	int rc = 0;

	for (int depth = 1; depth <= 2 && rc == 0; depth++) {
		key_path(s, key, &d, depth);
		if (mkdir(d.buf, 0700) == 0) {
			char *slash = strrchr(d.buf, '/');
			*slash = '\0';
			rc = fs_fsync_dir(d.buf, err);
		} else if (errno != EEXIST) {
			rc = dam_err_errno(err, DAM_EIO, errno, "cannot create %s", d.buf);
		}
	}
	strbuf_release(&d);
	return rc;
}

static int fs_publish(void *state, int fd, const char *temp, const char *key, bool *existed,
		      struct dam_err *err)
{
	struct fs_state *s = state;
	struct strbuf final = STRBUF_INIT, dir = STRBUF_INIT;
	struct stat st;
	int rc = 0;

	key_path(s, key, &final, 3);
	if (stat(final.buf, &st) == 0) {
		/* Same bytes already stored: the temp copy is not needed. */
		*existed = true;
		unlink(temp);
		goto out;
	}
	*existed = false;
	if (fsync(fd) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot sync a new object");
		goto out;
	}
	fchmod(fd, 0400); /* immutable, and private like the rest of the library */
	if ((rc = make_dirs(s, key, err)) < 0)
		goto out;
	if (rename(temp, final.buf) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot publish object %s", key);
		goto out;
	}
	key_path(s, key, &dir, 2);
	rc = fs_fsync_dir(dir.buf, err);
out:
	strbuf_release(&final);
	strbuf_release(&dir);
	return rc;
}

/* ---- writer: a temp file, renamed under the key at commit ---- */

struct fs_writer {
	struct fs_state *s;
	int fd;
	char *temp;
};

static void writer_free(struct fs_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->temp);
	free(w);
}

static int fs_writer_open(void *state, void **out, struct dam_err *err)
{
	struct fs_writer *w = calloc(1, sizeof *w);
	int rc;

	if (!w)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	w->s = state;
	if ((rc = temp_file(state, &w->fd, &w->temp, err)) < 0) {
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

static int fs_writer_write(void *wp, const void *data, size_t len, struct dam_err *err)
{
	struct fs_writer *w = wp;
	int e = fs_write_full(w->fd, data, len);

	return e < 0 ? dam_err_errno(err, DAM_EIO, -e, "cannot write to the store") : 0;
}

static int fs_writer_commit(void *wp, const char *key, bool *existed, struct dam_err *err)
{
	struct fs_writer *w = wp;
	int rc = fs_publish(w->s, w->fd, w->temp, key, existed, err);

	if (rc < 0)
		unlink(w->temp);
	writer_free(w);
	return rc;
}

static void fs_writer_abort(void *wp)
{
	struct fs_writer *w = wp;

	unlink(w->temp);
	writer_free(w);
}

/* ---- readers (of blobs and of partial objects): an fd, offered to the
 * caller as the fast path unless hidden ---- */

struct fs_reader {
	int fd;
	bool hide_fd;
};

/* Wraps fd (taken: closed on error too) as a reader. */
static int reader_wrap(struct fs_state *s, int fd, void **rd, uint64_t *size, struct dam_err *err)
{
	struct fs_reader *r = NULL;
	struct stat st;
	int rc = 0;

	if (fstat(fd, &st) < 0)
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot read from the store");
	else if (!(r = malloc(sizeof *r)))
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if (rc < 0) {
		close(fd);
		return rc;
	}
	r->fd = fd;
	r->hide_fd = s->hide_fd;
	*size = (uint64_t)st.st_size;
	*rd = r;
	return 0;
}

static int fs_reader_open(void *state, const char *key, void **rd, uint64_t *size,
			  struct dam_err *err)
{
	struct strbuf p = STRBUF_INIT;
	int fd, rc;

	key_path(state, key, &p, 3);
	fd = open(p.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		rc = errno == ENOENT ? dam_err_set(err, DAM_ENOTFOUND, NULL, "blob %s is missing from the store", key)
				     : dam_err_errno(err, DAM_EIO, errno, "cannot open blob %s", key);
	else
		rc = reader_wrap(state, fd, rd, size, err);
	strbuf_release(&p);
	return rc;
}

static ssize_t fs_reader_pread(void *rd, void *buf, size_t len, uint64_t off, struct dam_err *err)
{
	struct fs_reader *r = rd;
	ssize_t n = fs_pread_full(r->fd, buf, len, (off_t)off);

	return n < 0 ? dam_err_errno(err, DAM_EIO, (int)-n, "cannot read from the store") : n;
}

static bool fs_local_files(void *state)
{
	return !((struct fs_state *)state)->hide_fd;
}

static int fs_reader_local_fd(void *rd)
{
	struct fs_reader *r = rd;

	return r->hide_fd ? -1 : r->fd;
}

static void fs_reader_close(void *rd)
{
	struct fs_reader *r = rd;

	close(r->fd);
	free(r);
}

/* ---- scratch files: temp files the caller writes by path ---- */

static int fs_scratch_new(void *state, char **path, struct dam_err *err)
{
	int fd, rc;

	if ((rc = temp_file(state, &fd, path, err)) < 0)
		return rc;
	close(fd);
	return 0;
}

static void fs_scratch_discard(void *state, const char *path)
{
	(void)state;
	unlink(path);
}

static int fs_stat(void *state, const char *key, uint64_t *size, struct dam_err *err)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	int rc = 0;

	key_path(state, key, &p, 3);
	if (stat(p.buf, &st) < 0)
		rc = errno == ENOENT ? dam_err_set(err, DAM_ENOTFOUND, NULL, "blob %s is missing from the store", key)
				     : dam_err_errno(err, DAM_EIO, errno, "cannot stat blob %s", key);
	else if (size)
		*size = (uint64_t)st.st_size;
	strbuf_release(&p);
	return rc;
}

static int fs_del(void *state, const char *key, struct dam_err *err)
{
	struct strbuf p = STRBUF_INIT;
	int rc = 0;

	key_path(state, key, &p, 3);
	if (unlink(p.buf) < 0 && errno != ENOENT)
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot delete blob %s", key);
	strbuf_release(&p);
	return rc;
}

static bool is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Walks objects/xx/yy/<key>; anything not shaped like that is ignored. */
static int fs_each(void *state, blob_each_fn fn, void *ctx, struct dam_err *err)
{
	struct fs_state *s = state;
	struct strbuf p = STRBUF_INIT;
	DIR *d1 = opendir(s->objects), *d2 = NULL, *d3 = NULL;
	struct dirent *e1, *e2, *e3;
	struct stat st;
	int rc = 0;

	if (!d1)
		return dam_err_errno(err, DAM_EIO, errno, "cannot list %s", s->objects);
	while (rc == 0 && (e1 = readdir(d1))) {
		if (!is_hex(e1->d_name, 2))
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", s->objects, e1->d_name);
		if (!(d2 = opendir(p.buf)))
			continue;
		while (rc == 0 && (e2 = readdir(d2))) {
			if (!is_hex(e2->d_name, 2))
				continue;
			strbuf_reset(&p);
			strbuf_addf(&p, "%s/%s/%s", s->objects, e1->d_name, e2->d_name);
			if (!(d3 = opendir(p.buf)))
				continue;
			while (rc == 0 && (e3 = readdir(d3))) {
				if (!is_hex(e3->d_name, BLOB_KEY_LEN))
					continue;
				if (fstatat(dirfd(d3), e3->d_name, &st, 0) < 0)
					continue;
				rc = fn(ctx, e3->d_name, (uint64_t)st.st_size);
			}
			closedir(d3);
		}
		closedir(d2);
	}
	closedir(d1);
	strbuf_release(&p);
	return rc;
}

/* A folder the store writes into: there, a folder, and ours to search,
 * list and write (a store mounted read-only or gone fails here). */
static int usable_dir(const char *path, const char *what, struct dam_err *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "the store's %s folder is not reachable", what);
	if (!S_ISDIR(st.st_mode))
		return dam_err_set(err, DAM_EIO, NULL, "the store's %s folder is not a folder", what);
	if (access(path, R_OK | W_OK | X_OK) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "the store's %s folder is not usable", what);
	return 0;
}

static int fs_check(void *state, struct dam_err *err)
{
	struct fs_state *s = state;
	int rc = usable_dir(s->objects, "objects", err);

	return rc < 0 ? rc : usable_dir(s->tmp, "objects/tmp", err);
}

static int fs_clean_temp(void *state, int max_age_s, int count_only, struct dam_err *err)
{
	struct fs_state *s = state;
	DIR *d = opendir(s->tmp);
	struct dirent *e;
	struct stat st;
	time_t now = time(NULL);
	int n = 0;

	if (!d)
		return dam_err_errno(err, DAM_EIO, errno, "cannot list %s", s->tmp);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "put-", 4))
			continue;
		if (count_only) {
			n++;
			continue;
		}
		if (fstatat(dirfd(d), e->d_name, &st, 0) < 0 || (max_age_s > 0 && now - st.st_mtime < max_age_s))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void partial_path(struct fs_state *s, const char *name, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/part-%s", s->tmp, name);
}

static int partial_fd(struct fs_state *s, const char *name, int flags, int *fd, struct dam_err *err)
{
	struct strbuf p = STRBUF_INIT;
	int rc = 0;

	partial_path(s, name, &p);
	*fd = open(p.buf, flags | O_CLOEXEC, 0600);
	if (*fd < 0)
		rc = errno == ENOENT ? dam_err_set(err, DAM_ENOTFOUND, "upload", "no such upload")
		     : errno == EEXIST ? dam_err_set(err, DAM_EEXIST, "upload", "upload exists")
				      : dam_err_errno(err, DAM_EIO, errno, "cannot open the upload");
	strbuf_release(&p);
	return rc;
}

static int fs_partial_create(void *state, const char *name, struct dam_err *err)
{
	int fd, rc;

	if ((rc = partial_fd(state, name, O_WRONLY | O_CREAT | O_EXCL, &fd, err)) < 0)
		return rc;
	close(fd);
	return 0;
}

struct fs_partial {
	int fd;
};

static int fs_partial_open_append(void *state, const char *name, void **out, struct dam_err *err)
{
	struct fs_partial *p;
	int fd, rc;

	if ((rc = partial_fd(state, name, O_WRONLY, &fd, err)) < 0)
		return rc;
	/* Blocking is fine: this runs on a pool thread, and the holder only
	 * writes one bounded chunk. */
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			rc = dam_err_errno(err, DAM_EIO, errno, "cannot lock the upload");
			close(fd);
			return rc;
		}
	if (!(p = malloc(sizeof *p))) {
		close(fd);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	p->fd = fd;
	*out = p;
	return 0;
}

static void fs_partial_close(void *pp)
{
	struct fs_partial *p = pp;

	close(p->fd); /* also releases the flock */
	free(p);
}

/* Writes go in pieces so writeback can start early (see below). */
#define APPEND_PIECE (1u << 20)

static int fs_partial_append_at(void *pp, uint64_t offset, const void *data, size_t len,
				struct dam_err *err)
{
	struct fs_partial *p = pp;
	const unsigned char *d = data;
	struct stat st;
	int e = 0;

	if (fstat(p->fd, &st) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot read the upload");
	if ((uint64_t)st.st_size < offset)
		return dam_err_set(err, DAM_EDAMAGED, "upload",
				   "the upload's stored bytes (%lld) are fewer than its recorded offset %llu",
				   (long long)st.st_size, (unsigned long long)offset);
	/* Bytes past the recorded offset come from an append that was cut off
	 * (crash, kill, full disk) before its offset was recorded: the client
	 * was never told they arrived and will send them again. */
	if ((uint64_t)st.st_size > offset && ftruncate(p->fd, (off_t)offset) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot cut back the upload");
	for (size_t done = 0, n; done < len && e == 0; done += n) {
		n = len - done < APPEND_PIECE ? len - done : APPEND_PIECE;
		if ((e = fs_pwrite_full(p->fd, d + done, n, (off_t)(offset + done))) < 0)
			break;
		/* Start writeback of this piece now, so the disk works while the
		 * next pieces are copied, and the fdatasync below only waits for
		 * the tail. A hint: failure changes nothing. */
		sync_file_range(p->fd, (off_t)(offset + done), (off_t)n, SYNC_FILE_RANGE_WRITE);
	}
	if (e == 0 && fdatasync(p->fd) < 0)
		e = -errno;
	if (e < 0) {
		/* Cut back a partial append, so size and the recorded offset agree. */
		if (ftruncate(p->fd, (off_t)offset) < 0) { /* the next append cuts it */ }
		return dam_err_errno(err, DAM_EIO, -e, "cannot store the upload chunk");
	}
	return 0;
}

static int fs_partial_reader_open(void *state, const char *name, void **rd, uint64_t *size,
				  struct dam_err *err)
{
	int fd, rc;

	if ((rc = partial_fd(state, name, O_RDONLY, &fd, err)) < 0)
		return rc;
	return reader_wrap(state, fd, rd, size, err);
}

static int fs_partial_publish(void *state, const char *name, const char *key, bool *existed,
			      struct dam_err *err)
{
	struct strbuf p = STRBUF_INIT;
	int fd, rc;

	partial_path(state, name, &p);
	if ((fd = open(p.buf, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot open the upload");
	} else {
		rc = fs_publish(state, fd, p.buf, key, existed, err);
		close(fd);
	}
	strbuf_release(&p);
	return rc;
}

static int fs_partial_delete(void *state, const char *name, struct dam_err *err)
{
	struct strbuf p = STRBUF_INIT;
	int rc = 0;

	partial_path(state, name, &p);
	if (unlink(p.buf) < 0 && errno != ENOENT)
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot delete the upload");
	strbuf_release(&p);
	return rc;
}

const struct blob_backend blob_fs_backend = {
	.name = "fs",
	.local_files = fs_local_files,
	.open = fs_open,
	.close = fs_close,
	.writer_open = fs_writer_open,
	.writer_write = fs_writer_write,
	.writer_commit = fs_writer_commit,
	.writer_abort = fs_writer_abort,
	.reader_open = fs_reader_open,
	.reader_pread = fs_reader_pread,
	.reader_local_fd = fs_reader_local_fd,
	.reader_close = fs_reader_close,
	.stat = fs_stat,
	.del = fs_del,
	.each = fs_each,
	.scratch_new = fs_scratch_new,
	.scratch_discard = fs_scratch_discard,
	.partial_create = fs_partial_create,
	.partial_open_append = fs_partial_open_append,
	.partial_append_at = fs_partial_append_at,
	.partial_close = fs_partial_close,
	.partial_reader_open = fs_partial_reader_open,
	.partial_publish = fs_partial_publish,
	.partial_delete = fs_partial_delete,
	.check = fs_check,
	.clean_temp = fs_clean_temp,
};

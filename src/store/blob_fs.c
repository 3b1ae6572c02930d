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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/blob_backend.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

struct fs_state {
	char *objects; /* <root>/objects */
	char *tmp;     /* <root>/objects/tmp */
};

static int fs_open(const char *root, void **state, struct dam_err *err)
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

static int fs_temp_new(void *state, int *fd, char **temp, struct dam_err *err)
{
	struct fs_state *s = state;
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

static void fs_discard(void *state, const char *temp)
{
	(void)state;
	if (temp)
		unlink(temp);
}

static int fs_open_read(void *state, const char *key, int *fd, uint64_t *size,
			struct dam_err *err)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	int rc = 0;

	key_path(state, key, &p, 3);
	*fd = open(p.buf, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		rc = errno == ENOENT ? dam_err_set(err, DAM_ENOTFOUND, NULL, "blob %s is missing from the store", key)
				     : dam_err_errno(err, DAM_EIO, errno, "cannot open blob %s", key);
	} else if (size) {
		fstat(*fd, &st);
		*size = (uint64_t)st.st_size;
	}
	strbuf_release(&p);
	return rc;
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
		if (fstatat(dirfd(d), e->d_name, &st, 0) < 0 || now - st.st_mtime < max_age_s)
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

static int fs_partial_path_fd(void *state, const char *name, int flags, int *fd, struct dam_err *err)
{
	struct strbuf p = STRBUF_INIT;
	int rc = 0;

	partial_path(state, name, &p);
	*fd = open(p.buf, flags | O_CLOEXEC, 0600);
	if (*fd < 0)
		rc = errno == ENOENT ? dam_err_set(err, DAM_ENOTFOUND, "upload", "no such upload")
		     : errno == EEXIST ? dam_err_set(err, DAM_EEXIST, "upload", "upload exists")
				      : dam_err_errno(err, DAM_EIO, errno, "cannot open the upload");
	strbuf_release(&p);
	return rc;
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
	.partial_path_fd = fs_partial_path_fd,
	.partial_publish = fs_partial_publish,
	.partial_delete = fs_partial_delete,
	.name = "fs",
	.open = fs_open,
	.close = fs_close,
	.temp_new = fs_temp_new,
	.publish = fs_publish,
	.discard = fs_discard,
	.open_read = fs_open_read,
	.stat = fs_stat,
	.del = fs_del,
	.each = fs_each,
	.clean_temp = fs_clean_temp,
};

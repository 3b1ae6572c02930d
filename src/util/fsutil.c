#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/strbuf.h"

int fs_mkdir_p(const char *path, struct dam_err *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof buf)
		return dam_err_set(err, DAM_EINVAL, "path", "path too long or empty");
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char saved = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return dam_err_errno(err, DAM_EIO, errno, "cannot create directory %s", buf);
		buf[i] = saved;
	}
	return 0;
}

int fs_fsync_dir(const char *path, struct dam_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot open directory %s", path);
	if (fsync(fd) < 0)
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot sync directory %s", path);
	close(fd);
	return rc;
}

int fs_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t fs_pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int fs_write_atomic(const char *path, const void *data, size_t len, int exclusive,
		    struct dam_err *err)
{
	struct strbuf tmp = STRBUF_INIT;
	char *dir = NULL, *slash;
	int fd = -1, rc = 0, e;

	if (exclusive && access(path, F_OK) == 0)
		return dam_err_set(err, DAM_EEXIST, NULL, "%s already exists", path);
	strbuf_addf(&tmp, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot create %s", tmp.buf);
		goto out;
	}
	if ((e = fs_write_full(fd, data, len)) < 0 || fsync(fd) < 0) {
		rc = dam_err_errno(err, DAM_EIO, e < 0 ? -e : errno, "cannot write %s", tmp.buf);
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp.buf, path) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot rename to %s", path);
		goto out;
	}
	dir = strdup(path);
	slash = dir ? strrchr(dir, '/') : NULL;
	if (slash) {
		*slash = '\0';
		rc = fs_fsync_dir(*dir ? dir : "/", err);
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp.buf);
	free(dir);
	strbuf_release(&tmp);
	return rc;
}

int fs_read_all(const char *path, size_t max, char **out, size_t *len, struct dam_err *err)
{
	struct strbuf sb;
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	ssize_t n;

	*out = NULL;
	if (fd < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot open %s", path);
	strbuf_init(&sb, max);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = dam_err_errno(err, DAM_EIO, errno, "cannot read %s", path);
			break;
		}
		if (strbuf_add(&sb, buf, (size_t)n) < 0) {
			rc = dam_err_set(err, DAM_ELIMIT, NULL, "%s is larger than %zu bytes", path, max);
			break;
		}
	}
	close(fd);
	if (rc < 0) {
		strbuf_release(&sb);
		return rc;
	}
	*out = strbuf_detach(&sb, len);
	return *out ? 0 : DAM_ENOMEM;
}

char *fs_abspath(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char cwd[PATH_MAX];
	char *parts, *save = NULL, *tok;
	size_t stack[PATH_MAX / 2], depth = 0;

	if (path[0] != '/') {
		if (!getcwd(cwd, sizeof cwd))
			return NULL;
		strbuf_addf(&sb, "%s/%s", cwd, path);
	} else {
		strbuf_adds(&sb, path);
	}
	parts = strbuf_detach(&sb, NULL);
	if (!parts)
		return NULL;
	/* Collapse "." and ".." lexically; the result need not exist yet. */
	for (tok = strtok_r(parts, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			if (depth)
				sb.len = stack[--depth], sb.buf[sb.len] = '\0';
			continue;
		}
		if (depth < sizeof stack / sizeof stack[0])
			stack[depth++] = sb.len;
		strbuf_addf(&sb, "/%s", tok);
	}
	if (!sb.len)
		strbuf_addch(&sb, '/');
	free(parts);
	return strbuf_detach(&sb, NULL);
}

/* ---- private trees ---- */

struct walk {
	fs_loose_fn fn;
	void *ctx;
	bool repair;
	int depth;
};

/* One entry: report (and tighten) group/other bits; symlinks are neither
 * followed nor changed (their own mode means nothing). */
static int loose_one(struct walk *w, const char *path, const struct stat *st, struct dam_err *err)
{
	unsigned mode = (unsigned)st->st_mode & 07777, want = mode & ~077u;
	bool fixed = false;

	if (S_ISLNK(st->st_mode) || !(mode & 077))
		return 0;
	if (w->repair) {
		if (chmod(path, (mode_t)want) < 0)
			return dam_err_errno(err, DAM_EIO, errno, "cannot chmod %s to %04o", path, want);
		fixed = true;
	}
	return w->fn(w->ctx, path, mode, want, fixed);
}

static int walk_dir(struct walk *w, const char *dir, struct dam_err *err)
{
	struct strbuf p = STRBUF_INIT;
	struct dirent *e;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (++w->depth > 32)
		return dam_err_set(err, DAM_EINVAL, NULL, "%s is nested too deeply", dir);
	if (!(d = opendir(dir))) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot list %s", dir);
		goto out;
	}
	while (rc == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir, e->d_name);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) /* removed meanwhile (a temp file) */
				continue;
			rc = dam_err_errno(err, DAM_EIO, errno, "cannot stat %s", p.buf);
			break;
		}
		if ((rc = loose_one(w, p.buf, &st, err)) == 0 && S_ISDIR(st.st_mode))
			rc = walk_dir(w, p.buf, err);
	}
	closedir(d);
out:
	w->depth--;
	strbuf_release(&p);
	return rc;
}

int fs_private_walk(const char *root, bool repair, fs_loose_fn fn, void *ctx, struct dam_err *err)
{
	struct walk w = { fn, ctx, repair, 0 };
	struct stat st;
	int rc;

	if (lstat(root, &st) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot stat %s", root);
	if ((rc = loose_one(&w, root, &st, err)) < 0 || !S_ISDIR(st.st_mode))
		return rc;
	return walk_dir(&w, root, err);
}

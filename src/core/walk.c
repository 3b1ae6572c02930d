#include "core/walk.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/strbuf.h"

#define MAX_DEPTH 256

struct dir_id {
	dev_t dev;
	ino_t ino;
};

struct walk {
	walk_file_fn fn;
	walk_error_fn on_error;
	void *ctx;
	struct dir_id stack[MAX_DEPTH];
	int depth;
};

static void report(struct walk *w, const char *path, int code, int errnum, const char *what)
{
	struct dam_err e;

	if (errnum)
		dam_err_errno(&e, code, errnum, "%s", what);
	else
		dam_err_set(&e, code, NULL, "%s", what);
	if (w->on_error)
		w->on_error(w->ctx, path, &e);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_one(struct walk *w, const char *path);

static int walk_dir(struct walk *w, const char *path, const struct stat *st)
{
	struct strbuf child = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	for (int i = 0; i < w->depth; i++)
		if (w->stack[i].dev == st->st_dev && w->stack[i].ino == st->st_ino) {
			report(w, path, DAM_EINVAL, 0, "symbolic link loop: this folder contains itself");
			return 0;
		}
	if (w->depth >= MAX_DEPTH) {
		report(w, path, DAM_ELIMIT, 0, "folders nested too deeply");
		return 0;
	}
	if (!(d = opendir(path))) {
		report(w, path, DAM_EIO, errno, "cannot open folder");
		return 0;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
			if (!nn)
				break;
			names = nn;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_names);
	w->stack[w->depth++] = (struct dir_id){ st->st_dev, st->st_ino };
	for (size_t i = 0; i < n; i++) {
		if (rc == 0) {
			strbuf_reset(&child);
			strbuf_addf(&child, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
			rc = walk_one(w, child.buf);
		}
		free(names[i]);
	}
	w->depth--;
	free(names);
	strbuf_release(&child);
	return rc;
}

static int walk_one(struct walk *w, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ELOOP)
			report(w, path, DAM_EINVAL, 0, "symbolic link loop");
		else
			report(w, path, DAM_EIO, errno, "cannot read");
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return walk_dir(w, path, &st);
	if (!S_ISREG(st.st_mode)) {
		report(w, path, DAM_EINVAL, 0, "not a regular file (device, socket or pipe)");
		return 0;
	}
	return w->fn(w->ctx, path);
}

static int has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

int walk_paths(const char *const *paths, int n, walk_file_fn fn, walk_error_fn on_error, void *ctx)
{
	struct walk w = { fn, on_error, ctx, { { 0, 0 } }, 0 };
	struct stat st;
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		glob_t g;
		/* A literal name wins over a pattern: files may contain '*'. */
		if (!has_glob(paths[i]) || lstat(paths[i], &st) == 0) {
			rc = walk_one(&w, paths[i]);
			continue;
		}
		int g_rc = glob(paths[i], GLOB_NOSORT | GLOB_BRACE | GLOB_TILDE, NULL, &g);
		if (g_rc == GLOB_NOMATCH) {
			report(&w, paths[i], DAM_ENOTFOUND, 0, "no files match this pattern");
		} else if (g_rc != 0) {
			report(&w, paths[i], DAM_EIO, 0, "cannot expand this pattern");
		} else {
			qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, cmp_names);
			for (size_t k = 0; k < g.gl_pathc && rc == 0; k++)
				rc = walk_one(&w, g.gl_pathv[k]);
		}
		globfree(&g);
	}
	return rc;
}

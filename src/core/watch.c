#include "core/watch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/strbuf.h"
#include "util/timeutil.h"

#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct pending {
	char *path;
	off_t size;
	struct timespec mtime;
	double changed;
	bool closed;   /* seen closed after writing (or moved in, or found by a scan) */
};

/* A writer that never closes cleanly (a crashed copy, some network
 * shares) still gets its file ingested, but only after this long a pause. */
#define UNCLOSED_QUIET_S 30.0

struct watched {
	int wd;
	char *path;
};

struct watcher {
	int fd;
	const struct watch_opts *o;
	struct watched *dirs;
	size_t ndirs, capdirs;
	struct pending *pend;
	size_t npend, cappend;
};

static bool ignored_name(const char *name)
{
	static const char *const suffixes[] = { ".part", ".tmp", ".crdownload", "~", ".swp" };
	size_t n = strlen(name);

	if (name[0] == '.')
		return true;
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		size_t k = strlen(suffixes[i]);
		if (n >= k && !strcmp(name + n - k, suffixes[i]))
			return true;
	}
	return false;
}

static const char *dir_of(struct watcher *w, int wd)
{
	for (size_t i = 0; i < w->ndirs; i++)
		if (w->dirs[i].wd == wd)
			return w->dirs[i].path;
	return NULL;
}

static void add_pending(struct watcher *w, const char *path, bool closed)
{
	struct stat st;

	for (size_t i = 0; i < w->npend; i++)
		if (!strcmp(w->pend[i].path, path)) {
			w->pend[i].changed = time_mono();
			w->pend[i].closed = w->pend[i].closed || closed;
			return;
		}
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	if (w->npend == w->cappend) {
		size_t cap = w->cappend ? w->cappend * 2 : 64;
		struct pending *p = realloc(w->pend, cap * sizeof *p);
		if (!p)
			return;
		w->pend = p;
		w->cappend = cap;
	}
	w->pend[w->npend++] = (struct pending){ strdup(path), st.st_size, st.st_mtim, time_mono(), closed };
	if (!w->pend[w->npend - 1].path)
		w->npend--;
}

static void scan_dir(struct watcher *w, const char *path);

static void add_dir(struct watcher *w, const char *path)
{
	int wd = inotify_add_watch(w->fd, path, WATCH_MASK);

	if (wd < 0)
		return;
	if (!dir_of(w, wd)) {
		if (w->ndirs == w->capdirs) {
			size_t cap = w->capdirs ? w->capdirs * 2 : 16;
			struct watched *d = realloc(w->dirs, cap * sizeof *d);
			if (!d)
				return;
			w->dirs = d;
			w->capdirs = cap;
		}
		w->dirs[w->ndirs++] = (struct watched){ wd, strdup(path) };
	}
	/* Files may have landed before the watch existed. */
	scan_dir(w, path);
}

static void scan_dir(struct watcher *w, const char *path)
{
	struct strbuf child = STRBUF_INIT;
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(path);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (ignored_name(e->d_name))
			continue;
		strbuf_reset(&child);
		strbuf_addf(&child, "%s/%s", path, e->d_name);
		if (lstat(child.buf, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			add_dir(w, child.buf);
		else if (S_ISREG(st.st_mode))
			add_pending(w, child.buf, true);
	}
	closedir(d);
	strbuf_release(&child);
}

static void rescan(struct watcher *w)
{
	size_t n = w->ndirs;

	for (size_t i = 0; i < n; i++)
		scan_dir(w, w->dirs[i].path);
}

static void handle_events(struct watcher *w)
{
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct strbuf path = STRBUF_INIT;
	ssize_t len;

	while ((len = read(w->fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + len;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			const char *dir = dir_of(w, ev->wd);
			p += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				rescan(w);
				continue;
			}
			if (!dir || !ev->len || ignored_name(ev->name))
				continue;
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s", dir, ev->name);
			if (ev->mask & IN_ISDIR) {
				if (ev->mask & (IN_CREATE | IN_MOVED_TO))
					add_dir(w, path.buf);
			} else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
				add_pending(w, path.buf, true);
			} else if (ev->mask & IN_CREATE) {
				/* Still being written: noted so a writer that never
				 * closes cleanly is seen, but handed over only after
				 * UNCLOSED_QUIET_S. */
				add_pending(w, path.buf, false);
			}
		}
	}
	strbuf_release(&path);
}

/* Hands over files whose size and mtime stayed put for the settle time. */
static void settle(struct watcher *w)
{
	double now = time_mono(), quiet = (w->o->settle_ms ? w->o->settle_ms : 1000) / 1000.0;
	struct stat st;

	for (size_t i = 0; i < w->npend;) {
		struct pending *p = &w->pend[i];
		bool gone = stat(p->path, &st) < 0 || !S_ISREG(st.st_mode);
		if (!gone && (st.st_size != p->size || st.st_mtim.tv_sec != p->mtime.tv_sec ||
			      st.st_mtim.tv_nsec != p->mtime.tv_nsec)) {
			p->size = st.st_size;
			p->mtime = st.st_mtim;
			p->changed = now;
		}
		if (!gone && now - p->changed < (p->closed ? quiet : UNCLOSED_QUIET_S)) {
			i++;
			continue;
		}
		if (!gone)
			w->o->on_file(w->o->ctx, p->path);
		free(p->path);
		w->pend[i] = w->pend[--w->npend];
	}
}

int watch_run(const char *const *dirs, int n, const struct watch_opts *o, struct dam_err *err)
{
	struct watcher w;
	int rc = 0;

	memset(&w, 0, sizeof w);
	w.o = o;
	w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w.fd < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot start watching (inotify)");
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (stat(dirs[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			rc = dam_err_set(err, DAM_EINVAL, "path", "%s is not a folder to watch", dirs[i]);
			goto out;
		}
		add_dir(&w, dirs[i]);
	}
	while (!(o->stop && *o->stop)) {
		struct pollfd p = { w.fd, POLLIN, 0 };
		if (poll(&p, 1, 100) > 0)
			handle_events(&w);
		settle(&w);
	}
out:
	close(w.fd);
	for (size_t i = 0; i < w.ndirs; i++)
		free(w.dirs[i].path);
	for (size_t i = 0; i < w.npend; i++)
		free(w.pend[i].path);
	free(w.dirs);
	free(w.pend);
	return rc;
}

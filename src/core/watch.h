/*
 * watch.h - watching folders (inotify) and handing over each file once it is
 * complete: closed after writing (or moved in) and its size and mtime
 * unchanged for a settle time. A file never seen closed (a writer that died
 * or a share that does not report closes) is handed over after 30 s
 * without change. Sub-folders created later are watched too; if
 * the kernel's event queue overflows (a burst of thousands of files), the
 * folders are rescanned so nothing is missed. Hidden files and partial
 * downloads (.part, .tmp, .crdownload, ~) are ignored.
 */
#ifndef DAM_CORE_WATCH_H
#define DAM_CORE_WATCH_H

#include <signal.h>

#include "util/err.h"

/* Called with each complete file (path borrowed). */
typedef void (*watch_file_fn)(void *ctx, const char *path);

struct watch_opts {
	int settle_ms;                /* quiet time before a file counts as complete; 0 = 1000 */
	volatile sig_atomic_t *stop;  /* return when it becomes true */
	watch_file_fn on_file;
	void *ctx;
};

/* Scans the folders once (existing files are handed over too), then
 * watches until *stop. */
int watch_run(const char *const *dirs, int n, const struct watch_opts *opts, struct dam_err *err);

#endif

/*
 * walk.h - expanding ingest arguments into files: folders recursively (in
 * name order), glob patterns the shell did not expand, symlinks followed
 * with loop detection. Hidden entries (".name") inside folders are skipped;
 * a hidden file named explicitly is taken.
 */
#ifndef DAM_CORE_WALK_H
#define DAM_CORE_WALK_H

#include "util/err.h"

/* fn gets each file path (borrowed for the call); return < 0 to stop.
 * on_error gets a path that could not be walked and why; the walk goes on. */
typedef int (*walk_file_fn)(void *ctx, const char *path);
typedef void (*walk_error_fn)(void *ctx, const char *path, const struct dam_err *err);

/* Returns 0, or the first negative value fn returned. */
int walk_paths(const char *const *paths, int n, walk_file_fn fn, walk_error_fn on_error, void *ctx);

#endif

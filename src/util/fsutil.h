/* fsutil.h - small filesystem helpers with errors in dam's convention. */
#ifndef DAM_UTIL_FSUTIL_H
#define DAM_UTIL_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

/* mkdir -p with mode 0700 (owner only: everything dam makes is private). */
int fs_mkdir_p(const char *path, struct dam_err *err);
/* fsync the directory at path, so a rename or create in it is durable. */
int fs_fsync_dir(const char *path, struct dam_err *err);
/* Writes data to path atomically (temp file, fsync, rename, fsync dir),
 * mode 0600.
 * Fails with DAM_EEXIST when exclusive and path exists. */
int fs_write_atomic(const char *path, const void *data, size_t len, int exclusive,
		    struct dam_err *err);
/* Reads a whole small file (at most max bytes). *out is NUL-terminated,
 * caller frees. */
int fs_read_all(const char *path, size_t max, char **out, size_t *len, struct dam_err *err);
/* write() all of buf, retrying on EINTR and short writes. Returns 0 or -errno. */
int fs_write_full(int fd, const void *buf, size_t len);
/* pwrite() all of buf at off, likewise. Returns 0 or -errno. */
int fs_pwrite_full(int fd, const void *buf, size_t len, off_t off);
/* pread until len bytes or EOF; returns bytes read or -errno. */
ssize_t fs_pread_full(int fd, void *buf, size_t len, off_t off);
/* Absolute, cleaned version of path (need not exist). Caller frees. */
char *fs_abspath(const char *path);

/* Called for each path whose mode gives its group or others any access:
 * mode is what it has, want the same without those bits, fixed whether
 * fs_private_walk already chmodded it to want. Non-zero stops the walk and
 * is returned. path is borrowed for the call. */
typedef int (*fs_loose_fn)(void *ctx, const char *path, unsigned mode, unsigned want, bool fixed);
/* Walks root and everything under it (symlinks are not followed or
 * changed) and calls fn for every entry open to group or others; with
 * repair, chmods each to its owner bits first (0644 -> 0600, 0755 -> 0700,
 * 0444 -> 0400). Returns 0, fn's non-zero value, or DAM_EIO. */
int fs_private_walk(const char *root, bool repair, fs_loose_fn fn, void *ctx, struct dam_err *err);

#endif

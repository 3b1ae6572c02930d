/* fsutil.h - small filesystem helpers with errors in dam's convention. */
#ifndef DAM_UTIL_FSUTIL_H
#define DAM_UTIL_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

/* mkdir -p with mode 0755. */
int fs_mkdir_p(const char *path, struct dam_err *err);
/* fsync the directory at path, so a rename or create in it is durable. */
int fs_fsync_dir(const char *path, struct dam_err *err);
/* Writes data to path atomically (temp file, fsync, rename, fsync dir).
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

#endif

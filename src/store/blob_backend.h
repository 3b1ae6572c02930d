/*
 * blob_backend.h - the table a storage backend fills (private to src/store).
 *
 * blob.c hashes, validates keys and names, and owns the public handles;
 * a backend only moves bytes. Every handle a backend returns (writer,
 * reader, partial object) is an opaque pointer that the same backend's
 * functions take and free. Errors follow util/err.h.
 *
 * The writer is shaped so that an object store fits it either way: the
 * key (the SHA-256 of the bytes) is known only at writer_commit, so a
 * backend uploads to a temporary name (a multipart upload, completed and
 * copied under the key at commit) or buffers up to one part in memory and
 * puts a small object straight under its key at commit.
 */
#ifndef DAM_STORE_BLOB_BACKEND_H
#define DAM_STORE_BLOB_BACKEND_H

#include <sys/types.h>

#include "store/blob.h"
#include "util/config.h"

struct blob_backend {
	const char *name;
	/* Whether every blob is a local file its readers hand out
	 * (reader_local_fd >= 0): callers may sendfile them rather than keep
	 * copies. NULL: never. */
	bool (*local_files)(void *state);
	/* cfg: the library's settings ([store]), borrowed for the call. */
	int (*open)(const char *root, const struct dam_config *cfg, void **state,
		    struct dam_err *err);
	void (*close)(void *state);

	/* Streaming writer. commit publishes the bytes durably and atomically
	 * under key (*existed when key was already there: then nothing new is
	 * kept); commit and abort free w, also on error. */
	int (*writer_open)(void *state, void **w, struct dam_err *err);
	int (*writer_write)(void *w, const void *data, size_t len, struct dam_err *err);
	int (*writer_commit)(void *w, const char *key, bool *existed, struct dam_err *err);
	void (*writer_abort)(void *w);
	/* Optional: stores size bytes of a local file from fd's position,
	 * already hashed (key), straight under key, saving a store whose
	 * writer goes through a temporary name (S3: multipart upload, copy,
	 * delete) that detour. Must store nothing unless the bytes sent hash
	 * to key (the file may change meanwhile). Returns 0 (*existed as for
	 * writer_commit), 1 when it does not take this file (the caller
	 * rewinds fd and uses a writer), or < 0. NULL: always a writer. */
	int (*put_file)(void *state, int fd, uint64_t size, const char *key, bool *existed,
			struct dam_err *err);

	/* Readers, of blobs and of partial objects. pread returns the count
	 * (short only at the end) or < 0 and may run on several threads at
	 * once; local_fd is the borrowed fast path or -1; close frees rd. */
	int (*reader_open)(void *state, const char *key, void **rd, uint64_t *size,
			   struct dam_err *err);
	ssize_t (*reader_pread)(void *rd, void *buf, size_t len, uint64_t off, struct dam_err *err);
	int (*reader_local_fd)(void *rd);
	void (*reader_close)(void *rd);
	/* Optional: writes all of rd's bytes to fd in as few requests as the
	 * backend can (S3: one GET per object rather than read-ahead windows),
	 * for spooling a whole blob. Returns the count written or < 0. NULL:
	 * blob.c copies through reader_pread. */
	int64_t (*reader_stream)(void *rd, int fd, struct dam_err *err);

	int (*stat)(void *state, const char *key, uint64_t *size, struct dam_err *err);
	int (*del)(void *state, const char *key, struct dam_err *err);
	int (*each)(void *state, blob_each_fn fn, void *ctx, struct dam_err *err);

	/* Scratch files are local files on every backend (see blob.h);
	 * *path is malloc'd, discard removes the file but does not free path. */
	int (*scratch_new)(void *state, char **path, struct dam_err *err);
	void (*scratch_discard)(void *state, const char *path);

	/* Named partial objects (resumable uploads, see blob.h). open_append
	 * takes an exclusive lock (across processes) held until
	 * partial_close, which frees p; append_at is durable on return. */
	int (*partial_create)(void *state, const char *name, struct dam_err *err);
	int (*partial_open_append)(void *state, const char *name, void **p, struct dam_err *err);
	int (*partial_append_at)(void *p, uint64_t offset, const void *data, size_t len,
				 struct dam_err *err);
	void (*partial_close)(void *p);
	/* A reader (the reader_* functions above take it) over the bytes so far. */
	int (*partial_reader_open)(void *state, const char *name, void **rd, uint64_t *size,
				   struct dam_err *err);
	int (*partial_publish)(void *state, const char *name, const char *key, bool *existed,
			       struct dam_err *err);
	int (*partial_delete)(void *state, const char *name, struct dam_err *err);

	/* Whether the store answers, cheaply (blob.h, blob_store_check). */
	int (*check)(void *state, struct dam_err *err);

	/* Removes (count_only: counts) temp objects older than max_age_s. */
	int (*clean_temp)(void *state, int max_age_s, int count_only, struct dam_err *err);
};

extern const struct blob_backend blob_fs_backend;
extern const struct blob_backend blob_s3_backend;

#endif

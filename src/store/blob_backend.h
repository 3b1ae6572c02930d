/* blob_backend.h - the table a storage backend fills (private to src/store). */
#ifndef DAM_STORE_BLOB_BACKEND_H
#define DAM_STORE_BLOB_BACKEND_H

#include "store/blob.h"

struct blob_backend {
	const char *name;
	int (*open)(const char *root, void **state, struct dam_err *err);
	void (*close)(void *state);
	/* Temp object: an fd to write to and an opaque name for publish/discard. */
	int (*temp_new)(void *state, int *fd, char **temp, struct dam_err *err);
	/* Durably publishes temp under key; *existed if key was already there. */
	int (*publish)(void *state, int fd, const char *temp, const char *key, bool *existed,
		       struct dam_err *err);
	void (*discard)(void *state, const char *temp);
	int (*open_read)(void *state, const char *key, int *fd, uint64_t *size,
			 struct dam_err *err);
	int (*stat)(void *state, const char *key, uint64_t *size, struct dam_err *err);
	int (*del)(void *state, const char *key, struct dam_err *err);
	int (*each)(void *state, blob_each_fn fn, void *ctx, struct dam_err *err);
	/* Named partial objects (resumable uploads). */
	int (*partial_path_fd)(void *state, const char *name, int flags, int *fd, struct dam_err *err);
	int (*partial_publish)(void *state, const char *name, const char *key, bool *existed, struct dam_err *err);
	int (*partial_delete)(void *state, const char *name, struct dam_err *err);
	int (*clean_temp)(void *state, int max_age_s, int count_only, struct dam_err *err);
};

extern const struct blob_backend blob_fs_backend;

#endif

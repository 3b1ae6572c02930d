/* blob.c - hashing and streaming on top of a backend. */
#include "store/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/blob_backend.h"
#include "util/fsutil.h"

#define COPY_CHUNK (256 * 1024)

_Static_assert(sizeof(crypto_hash_sha256_state) <= 104, "hash state must fit BLOB_HASH_STATE_SIZE");

struct blob_store {
	const struct blob_backend *be;
	void *state;
};

struct blob_writer {
	struct blob_store *bs;
	crypto_hash_sha256_state sha;
	int fd;
	char *temp;
	uint64_t size;
};

int blob_store_open(const char *root, const char *backend, struct blob_store **out,
		    struct dam_err *err)
{
	struct blob_store *bs;
	int rc;

	*out = NULL;
	if (backend && strcmp(backend, "fs"))
		return dam_err_set(err, DAM_EINVAL, "backend", "unknown store backend \"%s\"", backend);
	if (sodium_init() < 0)
		return dam_err_set(err, DAM_EIO, NULL, "libsodium failed to start");
	if (!(bs = calloc(1, sizeof *bs)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	bs->be = &blob_fs_backend;
	if ((rc = bs->be->open(root, &bs->state, err)) < 0) {
		free(bs);
		return rc;
	}
	*out = bs;
	return 0;
}

void blob_store_free(struct blob_store *bs)
{
	if (!bs)
		return;
	bs->be->close(bs->state);
	free(bs);
}

bool blob_key_valid(const char *key)
{
	if (!key || strlen(key) != BLOB_KEY_LEN)
		return false;
	for (int i = 0; i < BLOB_KEY_LEN; i++)
		if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
			return false;
	return true;
}

static void hex(const unsigned char *d, char out[BLOB_KEY_LEN + 1])
{
	sodium_bin2hex(out, BLOB_KEY_LEN + 1, d, crypto_hash_sha256_BYTES);
}

int blob_writer_new(struct blob_store *bs, struct blob_writer **out, struct dam_err *err)
{
	struct blob_writer *w = calloc(1, sizeof *w);
	int rc;

	*out = NULL;
	if (!w)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	w->bs = bs;
	crypto_hash_sha256_init(&w->sha);
	if ((rc = bs->be->temp_new(bs->state, &w->fd, &w->temp, err)) < 0) {
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int blob_writer_write(struct blob_writer *w, const void *data, size_t len, struct dam_err *err)
{
	int e = fs_write_full(w->fd, data, len);

	if (e < 0)
		return dam_err_errno(err, DAM_EIO, -e, "cannot write to the store");
	crypto_hash_sha256_update(&w->sha, data, len);
	w->size += len;
	return 0;
}

uint64_t blob_writer_size(const struct blob_writer *w)
{
	return w->size;
}

static void writer_free(struct blob_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->temp);
	free(w);
}

int blob_writer_commit(struct blob_writer *w, char key_out[BLOB_KEY_LEN + 1], bool *existed,
		       struct dam_err *err)
{
	unsigned char d[crypto_hash_sha256_BYTES];
	bool ex = false;
	int rc;

	crypto_hash_sha256_final(&w->sha, d);
	hex(d, key_out);
	rc = w->bs->be->publish(w->bs->state, w->fd, w->temp, key_out, &ex, err);
	if (rc < 0)
		w->bs->be->discard(w->bs->state, w->temp);
	if (existed)
		*existed = ex;
	writer_free(w);
	return rc;
}

void blob_writer_abort(struct blob_writer *w)
{
	if (!w)
		return;
	w->bs->be->discard(w->bs->state, w->temp);
	writer_free(w);
}

int blob_put_fd(struct blob_store *bs, int fd, char key_out[BLOB_KEY_LEN + 1], uint64_t *size,
		bool *existed, struct dam_err *err)
{
	struct blob_writer *w = NULL;
	char *buf = malloc(COPY_CHUNK);
	int rc;

	if (!buf)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if ((rc = blob_writer_new(bs, &w, err)) < 0)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = dam_err_errno(err, DAM_EIO, errno, "cannot read");
			goto out;
		}
		if (n == 0)
			break;
		if ((rc = blob_writer_write(w, buf, (size_t)n, err)) < 0)
			goto out;
	}
	if (size)
		*size = w->size;
	rc = blob_writer_commit(w, key_out, existed, err);
	w = NULL;
out:
	blob_writer_abort(w);
	free(buf);
	return rc;
}

int blob_put_mem(struct blob_store *bs, const void *data, size_t len,
		 char key_out[BLOB_KEY_LEN + 1], bool *existed, struct dam_err *err)
{
	struct blob_writer *w;
	int rc;

	if ((rc = blob_writer_new(bs, &w, err)) < 0)
		return rc;
	if ((rc = blob_writer_write(w, data, len, err)) < 0) {
		blob_writer_abort(w);
		return rc;
	}
	return blob_writer_commit(w, key_out, existed, err);
}

int blob_hash_fd(int fd, char key_out[BLOB_KEY_LEN + 1], uint64_t *size, struct dam_err *err)
{
	crypto_hash_sha256_state sha;
	unsigned char d[crypto_hash_sha256_BYTES];
	char *buf = malloc(COPY_CHUNK);
	uint64_t total = 0;
	int rc = 0;

	if (!buf)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	crypto_hash_sha256_init(&sha);
	for (;;) {
		ssize_t n = read(fd, buf, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = dam_err_errno(err, DAM_EIO, errno, "cannot read");
			break;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&sha, (unsigned char *)buf, (size_t)n);
		total += (uint64_t)n;
	}
	free(buf);
	if (rc < 0)
		return rc;
	crypto_hash_sha256_final(&sha, d);
	hex(d, key_out);
	if (size)
		*size = total;
	return 0;
}

int blob_open(struct blob_store *bs, const char *key, int *fd, uint64_t *size,
	      struct dam_err *err)
{
	if (!blob_key_valid(key))
		return dam_err_set(err, DAM_EINVAL, "key", "not a blob key: \"%.80s\"", key);
	return bs->be->open_read(bs->state, key, fd, size, err);
}

int blob_stat(struct blob_store *bs, const char *key, uint64_t *size, struct dam_err *err)
{
	if (!blob_key_valid(key))
		return dam_err_set(err, DAM_EINVAL, "key", "not a blob key: \"%.80s\"", key);
	return bs->be->stat(bs->state, key, size, err);
}

int blob_delete(struct blob_store *bs, const char *key, struct dam_err *err)
{
	if (!blob_key_valid(key))
		return dam_err_set(err, DAM_EINVAL, "key", "not a blob key: \"%.80s\"", key);
	return bs->be->del(bs->state, key, err);
}

int blob_verify(struct blob_store *bs, const char *key, struct dam_err *err)
{
	char actual[BLOB_KEY_LEN + 1];
	int fd, rc;

	if ((rc = blob_open(bs, key, &fd, NULL, err)) < 0)
		return rc;
	rc = blob_hash_fd(fd, actual, NULL, err);
	close(fd);
	if (rc < 0)
		return rc;
	if (strcmp(actual, key))
		return dam_err_set(err, DAM_EDAMAGED, NULL, "blob %s is damaged: its bytes hash to %s",
				   key, actual);
	return 0;
}

int blob_each(struct blob_store *bs, blob_each_fn fn, void *ctx, struct dam_err *err)
{
	return bs->be->each(bs->state, fn, ctx, err);
}

int blob_clean_temp(struct blob_store *bs, int max_age_s, struct dam_err *err)
{
	return bs->be->clean_temp(bs->state, max_age_s, 0, err);
}

int blob_count_temp(struct blob_store *bs, struct dam_err *err)
{
	return bs->be->clean_temp(bs->state, 0, 1, err);
}

static bool partial_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

#define CHECK_PARTIAL(name, err)                                                                  \
	do {                                                                                      \
		if (!partial_name_valid(name))                                                    \
			return dam_err_set(err, DAM_EINVAL, "upload", "bad partial object name"); \
	} while (0)

int blob_partial_create(struct blob_store *bs, const char *name, struct dam_err *err)
{
	int fd, rc;

	CHECK_PARTIAL(name, err);
	if ((rc = bs->be->partial_path_fd(bs->state, name, O_WRONLY | O_CREAT | O_EXCL, &fd, err)) < 0)
		return rc;
	close(fd);
	return 0;
}

int blob_partial_append(struct blob_store *bs, const char *name, uint64_t offset, const void *data,
			size_t len, uint64_t *size, struct dam_err *err)
{
	struct stat st;
	int fd, rc = 0, e;

	CHECK_PARTIAL(name, err);
	if ((rc = bs->be->partial_path_fd(bs->state, name, O_WRONLY, &fd, err)) < 0)
		return rc;
	if (fstat(fd, &st) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot read the upload");
	} else if ((uint64_t)st.st_size != offset) {
		rc = dam_err_set(err, DAM_ECONFLICT, "Upload-Offset", "the upload is at offset %lld, not %llu",
				 (long long)st.st_size, (unsigned long long)offset);
		if (size)
			*size = (uint64_t)st.st_size;
	} else if (lseek(fd, 0, SEEK_END) < 0 || (e = fs_write_full(fd, data, len)) < 0 || fdatasync(fd) < 0) {
		/* Cut back a partial append, so offset and hash state agree. */
		if (ftruncate(fd, (off_t)offset) < 0) { /* nothing more can be done */ }
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot store the upload chunk");
	} else if (size) {
		*size = offset + len;
	}
	close(fd);
	return rc;
}

int blob_partial_open(struct blob_store *bs, const char *name, int *fd, uint64_t *size,
		      struct dam_err *err)
{
	struct stat st;
	int rc;

	CHECK_PARTIAL(name, err);
	if ((rc = bs->be->partial_path_fd(bs->state, name, O_RDONLY, fd, err)) < 0)
		return rc;
	if (size) {
		fstat(*fd, &st);
		*size = (uint64_t)st.st_size;
	}
	return 0;
}

int blob_partial_commit(struct blob_store *bs, const char *name, const char *key, bool *existed,
			struct dam_err *err)
{
	bool ex = false;
	int rc;

	CHECK_PARTIAL(name, err);
	if (!blob_key_valid(key))
		return dam_err_set(err, DAM_EINVAL, "key", "not a blob key");
	rc = bs->be->partial_publish(bs->state, name, key, &ex, err);
	if (existed)
		*existed = ex;
	return rc;
}

int blob_partial_delete(struct blob_store *bs, const char *name, struct dam_err *err)
{
	CHECK_PARTIAL(name, err);
	return bs->be->partial_delete(bs->state, name, err);
}

void blob_hash_state_init(unsigned char state[BLOB_HASH_STATE_SIZE])
{
	memset(state, 0, BLOB_HASH_STATE_SIZE);
	crypto_hash_sha256_init((crypto_hash_sha256_state *)(void *)state);
}

void blob_hash_state_update(unsigned char state[BLOB_HASH_STATE_SIZE], const void *data, size_t len)
{
	crypto_hash_sha256_update((crypto_hash_sha256_state *)(void *)state, data, len);
}

void blob_hash_state_final(const unsigned char state[BLOB_HASH_STATE_SIZE], char key_out[BLOB_KEY_LEN + 1])
{
	crypto_hash_sha256_state copy;
	unsigned char d[crypto_hash_sha256_BYTES];

	memcpy(&copy, state, sizeof copy);
	crypto_hash_sha256_final(&copy, d);
	hex(d, key_out);
}

/* blob.c - hashing and streaming on top of a backend. */

/* OpenSSL 3 deprecates the low-level SHA256_Init/Update/Final in favour of
 * EVP, but EVP cannot save a digest's running state and resume it later in
 * another process, which resumable uploads need (the state is stored with
 * the upload's offset, see blob_hash_state_*). SHA256_CTX is a public struct
 * and SHA256_Update runs the same SHA-NI/AVX2 assembly as EVP (1.8 GB/s here
 * against libsodium's portable 333 MB/s), so this file, and only this file,
 * uses the low-level API. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "store/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/blob_backend.h"
#include "util/fsutil.h"

#define COPY_CHUNK (256 * 1024)

_Static_assert(sizeof(crypto_hash_sha256_state) == BLOB_HASH_STATE_V1_SIZE,
	       "version 1 saved hash states are libsodium's crypto_hash_sha256_state");

struct blob_store {
	const struct blob_backend *be;
	void *state;
};

/* The hash is computed here, as the bytes pass; the backend only stores. */
struct blob_writer {
	struct blob_store *bs;
	SHA256_CTX sha;
	void *w; /* the backend's writer */
	uint64_t size;
};

struct blob_reader {
	const struct blob_backend *be;
	struct blob_store *bs; /* for spooling; NULL for blob_reader_from_fd() */
	void *rd;              /* the backend's reader */
	uint64_t size, pos;
};

static int store_open(const char *root, const struct blob_backend *be,
		      const struct dam_config *cfg, struct blob_store **out, struct dam_err *err)
{
	struct blob_store *bs;
	int rc;

	*out = NULL;
	if (sodium_init() < 0)
		return dam_err_set(err, DAM_EIO, NULL, "libsodium failed to start");
	if (!(bs = calloc(1, sizeof *bs)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	bs->be = be;
	if ((rc = bs->be->open(root, cfg, &bs->state, err)) < 0) {
		free(bs);
		return rc;
	}
	*out = bs;
	return 0;
}

int blob_store_open(const char *root, const char *backend, struct blob_store **out,
		    struct dam_err *err)
{
	*out = NULL;
	if (backend && strcmp(backend, "fs"))
		return dam_err_set(err, DAM_EINVAL, "backend", "unknown store backend \"%s\"", backend);
	return store_open(root, &blob_fs_backend, NULL, out, err);
}

int blob_store_open_config(const char *root, const struct dam_config *cfg,
			   struct blob_store **out, struct dam_err *err)
{
	static const struct blob_backend *const backends[] = { &blob_fs_backend, &blob_s3_backend };

	*out = NULL;
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (!strcmp(cfg->store_backend, backends[i]->name))
			return store_open(root, backends[i], cfg, out, err);
	return dam_err_set(err, DAM_EINVAL, "backend", "unknown store backend \"%s\"",
			   cfg->store_backend);
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
	sodium_bin2hex(out, BLOB_KEY_LEN + 1, d, SHA256_DIGEST_LENGTH);
}

int blob_writer_new(struct blob_store *bs, struct blob_writer **out, struct dam_err *err)
{
	struct blob_writer *w = calloc(1, sizeof *w);
	int rc;

	*out = NULL;
	if (!w)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	w->bs = bs;
	SHA256_Init(&w->sha);
	if ((rc = bs->be->writer_open(bs->state, &w->w, err)) < 0) {
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int blob_writer_write(struct blob_writer *w, const void *data, size_t len, struct dam_err *err)
{
	int rc = w->bs->be->writer_write(w->w, data, len, err);

	if (rc < 0)
		return rc;
	SHA256_Update(&w->sha, data, len);
	w->size += len;
	return 0;
}

uint64_t blob_writer_size(const struct blob_writer *w)
{
	return w->size;
}

int blob_writer_commit(struct blob_writer *w, char key_out[BLOB_KEY_LEN + 1], bool *existed,
		       struct dam_err *err)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	bool ex = false;
	int rc;

	SHA256_Final(d, &w->sha);
	hex(d, key_out);
	rc = w->bs->be->writer_commit(w->w, key_out, &ex, err);
	if (existed)
		*existed = ex;
	free(w);
	return rc;
}

void blob_writer_abort(struct blob_writer *w)
{
	if (!w)
		return;
	w->bs->be->writer_abort(w->w);
	free(w);
}

/* A regular file on a backend with put_file: hashed first (a local read),
 * then stored straight under its key. Returns 1 when the backend does not
 * take it (fd back at start: use a writer). */
static int put_file(struct blob_store *bs, int fd, char key_out[BLOB_KEY_LEN + 1], uint64_t *size,
		    bool *existed, struct dam_err *err)
{
	struct stat st;
	uint64_t n;
	bool ex = false;
	off_t start;
	int rc;

	if (!bs->be->put_file || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (start = lseek(fd, 0, SEEK_CUR)) < 0)
		return 1;
	if ((rc = blob_hash_fd(fd, key_out, &n, err)) < 0)
		return rc;
	if (lseek(fd, start, SEEK_SET) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot read");
	rc = bs->be->put_file(bs->state, fd, n, key_out, &ex, err);
	if (rc == 1 && lseek(fd, start, SEEK_SET) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot read");
	if (rc == 0 && size)
		*size = n;
	if (rc == 0 && existed)
		*existed = ex;
	return rc;
}

int blob_put_fd(struct blob_store *bs, int fd, char key_out[BLOB_KEY_LEN + 1], uint64_t *size,
		bool *existed, struct dam_err *err)
{
	struct blob_writer *w = NULL;
	char *buf;
	int rc;

	if ((rc = put_file(bs, fd, key_out, size, existed, err)) <= 0)
		return rc;
	if (!(buf = malloc(COPY_CHUNK)))
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
	SHA256_CTX sha;
	unsigned char d[SHA256_DIGEST_LENGTH];
	char *buf = malloc(COPY_CHUNK);
	uint64_t total = 0;
	int rc = 0;

	if (!buf)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	SHA256_Init(&sha);
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
		SHA256_Update(&sha, buf, (size_t)n);
		total += (uint64_t)n;
	}
	free(buf);
	if (rc < 0)
		return rc;
	SHA256_Final(d, &sha);
	hex(d, key_out);
	if (size)
		*size = total;
	return 0;
}

/* ---- readers ---- */

/* Opens a reader of blob key, or (key NULL) of partial object name. */
static int reader_new(struct blob_store *bs, const char *key, const char *name,
		      struct blob_reader **out, struct dam_err *err)
{
	struct blob_reader *r = calloc(1, sizeof *r);
	int rc;

	*out = NULL;
	if (!r)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	r->be = bs->be;
	r->bs = bs;
	rc = key ? bs->be->reader_open(bs->state, key, &r->rd, &r->size, err)
		 : bs->be->partial_reader_open(bs->state, name, &r->rd, &r->size, err);
	if (rc < 0) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int blob_reader_open(struct blob_store *bs, const char *key, struct blob_reader **out,
		     struct dam_err *err)
{
	*out = NULL;
	if (!blob_key_valid(key))
		return dam_err_set(err, DAM_EINVAL, "key", "not a blob key: \"%.80s\"", key);
	return reader_new(bs, key, NULL, out, err);
}

/* blob_reader_from_fd(): a reader whose "backend" is a borrowed local fd
 * (owned: a spooled copy, closed with the reader). */
struct fd_reader {
	int fd;
	bool owned;
};

static ssize_t fdr_pread(void *rd, void *buf, size_t len, uint64_t off, struct dam_err *err)
{
	ssize_t n = fs_pread_full(((struct fd_reader *)rd)->fd, buf, len, (off_t)off);

	return n < 0 ? dam_err_errno(err, DAM_EIO, (int)-n, "cannot read") : n;
}

static int fdr_local_fd(void *rd)
{
	return ((struct fd_reader *)rd)->fd;
}

static void fdr_close(void *rd)
{
	struct fd_reader *f = rd;

	if (f->owned)
		close(f->fd);
	free(f); /* else the fd is the caller's */
}

static const struct blob_backend fd_reader_ops = {
	.name = "fd",
	.reader_pread = fdr_pread,
	.reader_local_fd = fdr_local_fd,
	.reader_close = fdr_close,
};

static int fd_reader_new(int fd, bool owned, struct blob_reader **out, struct dam_err *err)
{
	struct blob_reader *r = calloc(1, sizeof *r);
	struct fd_reader *f = malloc(sizeof *f);
	struct stat st;

	*out = NULL;
	if (!r || !f) {
		free(r);
		free(f);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	if (fstat(fd, &st) < 0) {
		free(r);
		free(f);
		return dam_err_errno(err, DAM_EIO, errno, "cannot read");
	}
	f->fd = fd;
	f->owned = owned;
	r->be = &fd_reader_ops;
	r->rd = f;
	r->size = (uint64_t)st.st_size;
	*out = r;
	return 0;
}

int blob_reader_from_fd(int fd, struct blob_reader **out, struct dam_err *err)
{
	return fd_reader_new(fd, false, out, err);
}

uint64_t blob_reader_size(const struct blob_reader *r)
{
	return r->size;
}

ssize_t blob_reader_pread(struct blob_reader *r, void *buf, size_t len, uint64_t off,
			  struct dam_err *err)
{
	if (off >= r->size || len == 0)
		return 0;
	if (len > r->size - off)
		len = (size_t)(r->size - off);
	return r->be->reader_pread(r->rd, buf, len, off, err);
}

ssize_t blob_reader_read(struct blob_reader *r, void *buf, size_t len, struct dam_err *err)
{
	ssize_t n = blob_reader_pread(r, buf, len, r->pos, err);

	if (n > 0)
		r->pos += (uint64_t)n;
	return n;
}

bool blob_store_local_files(const struct blob_store *bs)
{
	return bs->be->local_files && bs->be->local_files(bs->state);
}

int blob_reader_local_fd(const struct blob_reader *r)
{
	return r->be->reader_local_fd(r->rd);
}

/* Copies r into fd through pread; returns the count or < 0. */
static int64_t reader_copy_pread(struct blob_reader *r, int fd, struct dam_err *err)
{
	char *buf = malloc(COPY_CHUNK);
	uint64_t off = 0;
	ssize_t n;
	int rc = 0, e;

	if (!buf)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	while (rc == 0 && (n = blob_reader_pread(r, buf, COPY_CHUNK, off, err)) != 0) {
		if (n < 0)
			rc = (int)n;
		else if ((e = fs_write_full(fd, buf, (size_t)n)) < 0)
			rc = dam_err_errno(err, DAM_EIO, -e, "cannot write a scratch file");
		else
			off += (uint64_t)n;
	}
	free(buf);
	return rc < 0 ? rc : (int64_t)off;
}

/* Copies all of r into fd (at its current position): in one stream when
 * the backend offers it, else through pread. */
static int reader_copy(struct blob_reader *r, int fd, struct dam_err *err)
{
	int64_t n = r->be->reader_stream ? r->be->reader_stream(r->rd, fd, err) : reader_copy_pread(r, fd, err);

	if (n < 0)
		return (int)n;
	if ((uint64_t)n != r->size)
		return dam_err_set(err, DAM_EIO, NULL, "the blob ended early (%llu of %llu bytes)",
				   (unsigned long long)n, (unsigned long long)r->size);
	return 0;
}

int blob_reader_local_file(struct blob_reader *r, int *fd, struct dam_err *err)
{
	char *path = NULL;
	int local = blob_reader_local_fd(r), rc;

	*fd = -1;
	if (local >= 0) {
		if ((*fd = fcntl(local, F_DUPFD_CLOEXEC, 0)) < 0)
			return dam_err_errno(err, DAM_EIO, errno, "cannot read from the store");
		return 0;
	}
	/* No local file (an object store): spool the bytes into an unlinked
	 * scratch file, so nothing is left behind whatever happens next. */
	if ((rc = blob_scratch_new(r->bs, &path, err)) < 0)
		return rc;
	if ((*fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot open a scratch file");
	blob_scratch_discard(r->bs, path);
	if (rc == 0 && (rc = reader_copy(r, *fd, err)) == 0 && lseek(*fd, 0, SEEK_SET) < 0)
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot rewind a scratch file");
	if (rc < 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

int blob_local_file(struct blob_store *bs, const char *key, int *fd, uint64_t *size,
		    struct dam_err *err)
{
	struct blob_reader *r = NULL;
	int rc;

	*fd = -1;
	if ((rc = blob_reader_open(bs, key, &r, err)) == 0 && (rc = blob_reader_local_file(r, fd, err)) == 0 &&
	    size)
		*size = blob_reader_size(r);
	blob_reader_free(r);
	return rc;
}

int blob_reader_open_local(struct blob_store *bs, const char *key, struct blob_reader **out,
			   struct dam_err *err)
{
	struct blob_reader *r = NULL;
	int fd = -1, rc;

	*out = NULL;
	if ((rc = blob_reader_open(bs, key, &r, err)) < 0)
		return rc;
	if (blob_reader_local_fd(r) >= 0) {
		*out = r;
		return 0;
	}
	rc = blob_reader_local_file(r, &fd, err);
	blob_reader_free(r);
	if (rc == 0 && (rc = fd_reader_new(fd, true, out, err)) < 0)
		close(fd);
	return rc;
}

void blob_reader_free(struct blob_reader *r)
{
	if (!r)
		return;
	r->be->reader_close(r->rd);
	free(r);
}

/* SHA-256 of all of r's bytes. */
static int reader_hash(struct blob_reader *r, char key_out[BLOB_KEY_LEN + 1], struct dam_err *err)
{
	SHA256_CTX sha;
	unsigned char d[SHA256_DIGEST_LENGTH];
	char *buf = malloc(COPY_CHUNK);
	uint64_t off = 0;
	ssize_t n;

	if (!buf)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	SHA256_Init(&sha);
	while ((n = blob_reader_pread(r, buf, COPY_CHUNK, off, err)) > 0) {
		SHA256_Update(&sha, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	if (n < 0)
		return (int)n;
	SHA256_Final(d, &sha);
	hex(d, key_out);
	return 0;
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
	struct blob_reader *r;
	int rc;

	if ((rc = blob_reader_open(bs, key, &r, err)) < 0)
		return rc;
	rc = reader_hash(r, actual, err);
	blob_reader_free(r);
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

int blob_scratch_new(struct blob_store *bs, char **path, struct dam_err *err)
{
	*path = NULL;
	return bs->be->scratch_new(bs->state, path, err);
}

void blob_scratch_discard(struct blob_store *bs, char *path)
{
	if (!path)
		return;
	bs->be->scratch_discard(bs->state, path);
	free(path);
}

int blob_clean_temp(struct blob_store *bs, int max_age_s, struct dam_err *err)
{
	return bs->be->clean_temp(bs->state, max_age_s, 0, err);
}

int blob_count_temp(struct blob_store *bs, struct dam_err *err)
{
	return bs->be->clean_temp(bs->state, 0, 1, err);
}

int blob_store_check(struct blob_store *bs, struct dam_err *err)
{
	return bs->be->check(bs->state, err);
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
	CHECK_PARTIAL(name, err);
	return bs->be->partial_create(bs->state, name, err);
}

struct blob_partial {
	const struct blob_backend *be;
	void *p; /* the backend's handle, holding the lock */
};

int blob_partial_open_append(struct blob_store *bs, const char *name, struct blob_partial **out,
			     struct dam_err *err)
{
	struct blob_partial *p;
	int rc;

	*out = NULL;
	CHECK_PARTIAL(name, err);
	if (!(p = malloc(sizeof *p)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	p->be = bs->be;
	if ((rc = bs->be->partial_open_append(bs->state, name, &p->p, err)) < 0) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void blob_partial_close(struct blob_partial *p)
{
	if (!p)
		return;
	p->be->partial_close(p->p);
	free(p);
}

/* From this size a chunk is hashed on a helper thread while the backend
 * stores it: the two take about as long as each other (SHA-NI hashes at
 * about 1.8 GB/s, write() copies into the page cache at about the same),
 * and during a PATCH nothing else needs the second core. */
#define APPEND_PARALLEL (4u << 20)

struct hash_job {
	unsigned char *state;
	const void *data;
	size_t len;
};

static void *hash_main(void *arg)
{
	struct hash_job *j = arg;

	blob_hash_state_update(j->state, j->data, j->len);
	return NULL;
}

int blob_partial_append_at(struct blob_partial *p, uint64_t offset, const void *data, size_t len,
			   unsigned char *state, struct dam_err *err)
{
	struct hash_job job = { state, data, len };
	pthread_t hasher;
	bool parallel = false;
	int rc;

	if (len >= APPEND_PARALLEL)
		parallel = pthread_create(&hasher, NULL, hash_main, &job) == 0;
	rc = p->be->partial_append_at(p->p, offset, data, len, err);
	if (parallel)
		pthread_join(hasher, NULL);
	else if (rc == 0)
		hash_main(&job);
	return rc;
}

int blob_partial_reader_open(struct blob_store *bs, const char *name, struct blob_reader **out,
			     struct dam_err *err)
{
	*out = NULL;
	CHECK_PARTIAL(name, err);
	return reader_new(bs, NULL, name, out, err);
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

/*
 * Saved hash state, version 2 (BLOB_HASH_STATE_SIZE bytes, the same on
 * every machine):
 *   [0]        0xd2, the format tag; [1..3] 0
 *   [4..35]    the eight chaining words, big-endian
 *   [36..43]   the message length so far in bits, big-endian
 *   [44..107]  the pending partial block: its first (bits / 8) % 64 bytes
 *   [108..111] 0
 * Version 1 (104 bytes) was libsodium's crypto_hash_sha256_state copied as
 * is: uint32_t state[8], uint64_t count (bits), uint8_t buf[64], in this
 * machine's byte order.
 */
#define STATE_TAG 0xd2
#define ST_H 4
#define ST_BITS 36
#define ST_BUF 44

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Fills a saved state from its parts; pending holds (bits / 8) % 64 bytes. */
static void state_pack(unsigned char state[BLOB_HASH_STATE_SIZE], const uint32_t h[8], uint64_t bits,
		       const void *pending)
{
	memset(state, 0, BLOB_HASH_STATE_SIZE);
	state[0] = STATE_TAG;
	for (int i = 0; i < 8; i++)
		put_be32(state + ST_H + 4 * i, h[i]);
	put_be32(state + ST_BITS, (uint32_t)(bits >> 32));
	put_be32(state + ST_BITS + 4, (uint32_t)bits);
	memcpy(state + ST_BUF, pending, (size_t)(bits / 8 % 64));
}

static void state_to_ctx(const unsigned char state[BLOB_HASH_STATE_SIZE], SHA256_CTX *c)
{
	uint64_t bits = (uint64_t)get_be32(state + ST_BITS) << 32 | get_be32(state + ST_BITS + 4);

	memset(c, 0, sizeof *c);
	for (int i = 0; i < 8; i++)
		c->h[i] = get_be32(state + ST_H + 4 * i);
	c->Nh = (SHA_LONG)(bits >> 32);
	c->Nl = (SHA_LONG)bits;
	c->num = (unsigned)(bits / 8 % 64);
	c->md_len = SHA256_DIGEST_LENGTH;
	/* data[] holds the pending bytes as they came (md32_common.h). */
	memcpy(c->data, state + ST_BUF, c->num);
}

static void ctx_to_state(const SHA256_CTX *c, unsigned char state[BLOB_HASH_STATE_SIZE])
{
	state_pack(state, c->h, (uint64_t)c->Nh << 32 | c->Nl, c->data);
}

void blob_hash_state_init(unsigned char state[BLOB_HASH_STATE_SIZE])
{
	SHA256_CTX c;

	SHA256_Init(&c);
	ctx_to_state(&c, state);
}

int blob_hash_state_load(const void *saved, size_t n, unsigned char state[BLOB_HASH_STATE_SIZE],
			 struct dam_err *err)
{
	const unsigned char *s = saved;

	if (n == BLOB_HASH_STATE_SIZE && s[0] == STATE_TAG) {
		memcpy(state, saved, n);
		return 0;
	}
	if (n == BLOB_HASH_STATE_V1_SIZE) {
		crypto_hash_sha256_state v1;
		memcpy(&v1, saved, sizeof v1);
		state_pack(state, v1.state, v1.count, v1.buf);
		return 0;
	}
	return dam_err_set(err, DAM_EDAMAGED, "upload", "the upload's saved hash state is unreadable (%zu bytes)", n);
}

void blob_hash_state_update(unsigned char state[BLOB_HASH_STATE_SIZE], const void *data, size_t len)
{
	SHA256_CTX c;

	state_to_ctx(state, &c);
	SHA256_Update(&c, data, len);
	ctx_to_state(&c, state);
}

void blob_hash_state_final(const unsigned char state[BLOB_HASH_STATE_SIZE], char key_out[BLOB_KEY_LEN + 1])
{
	SHA256_CTX c;
	unsigned char d[SHA256_DIGEST_LENGTH];

	state_to_ctx(state, &c);
	SHA256_Final(d, &c);
	hex(d, key_out);
}

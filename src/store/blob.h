/*
 * blob.h - content-addressed blob store: the only way dam reads or writes
 * the bytes of originals and derivatives.
 *
 * A blob's key is the lower-case hex SHA-256 of its bytes, computed while
 * streaming. A blob becomes visible only whole: writers stream into a temp
 * object, which commit makes durable and then publishes atomically; a crash
 * at any instant leaves the whole object or none (plus, at worst, a stale
 * temp object that blob_clean_temp() removes). Identical bytes are stored
 * once; reference counting lives in the database (core/), not here.
 *
 * Backends sit behind struct blob_backend (blob_backend.h): "fs"
 * (objects/ab/cd/<hex> under the library) and "s3" (the same keys in an
 * S3-compatible bucket, blob_s3.c). Callers hold
 * handles - writers, readers, partial objects - never a blob's path. The
 * only fds that leave the store are the fs reader's borrowed fast path and
 * local-file copies for consumers that need a file (blob_reader_local_file:
 * a dup of that fd, or a spooled scratch copy).
 *
 * Thread-safety: a store may be used from many threads; a writer by one.
 */
#ifndef DAM_STORE_BLOB_H
#define DAM_STORE_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

#define BLOB_KEY_LEN 64

struct blob_store;
struct blob_writer;

/* Opens the store of the library at root. backend: "fs" (NULL too); "s3"
 * needs its settings: use blob_store_open_config(). Caller frees with
 * blob_store_free(). */
int blob_store_open(const char *root, const char *backend, struct blob_store **out,
		    struct dam_err *err);
struct dam_config;
/* Opens the store cfg's [store] section describes (cfg borrowed for the
 * call: what the store keeps it copies). "s3" checks the bucket answers
 * with these credentials before it returns (a wrong secret fails here with
 * S3's SignatureDoesNotMatch in the message). Caller frees with
 * blob_store_free(). */
int blob_store_open_config(const char *root, const struct dam_config *cfg,
			   struct blob_store **out, struct dam_err *err);
void blob_store_free(struct blob_store *bs);

/* True when key is 64 lower-case hex digits. */
bool blob_key_valid(const char *key);

/* Starts a streaming write. The writer is freed by commit or abort. */
int blob_writer_new(struct blob_store *bs, struct blob_writer **out, struct dam_err *err);
int blob_writer_write(struct blob_writer *w, const void *data, size_t len, struct dam_err *err);
/* Bytes written so far. */
uint64_t blob_writer_size(const struct blob_writer *w);
/* Makes the bytes durable and visible under their key (written to key_out).
 * *existed (may be NULL) tells whether identical bytes were already stored,
 * in which case nothing new is kept. Frees w, also on error. */
int blob_writer_commit(struct blob_writer *w, char key_out[BLOB_KEY_LEN + 1], bool *existed,
		       struct dam_err *err);
/* Discards everything written. NULL is a no-op. */
void blob_writer_abort(struct blob_writer *w);

/* A scratch file: a local file for a writer that needs a path (libvips's
 * TIFF saver), on every backend (fs: beside the store's temp objects, so
 * one left by a crash is swept like them by blob_clean_temp()). *path is
 * malloc'd; write it, stream it in with blob_put_fd(), then
 * blob_scratch_discard() (which removes the file and frees path). */
int blob_scratch_new(struct blob_store *bs, char **path, struct dam_err *err);
void blob_scratch_discard(struct blob_store *bs, char *path);

/* Streams fd (from its current position to EOF) into the store. A regular
 * file is hashed first and, on a backend that can (S3), stored with one
 * request straight under its key, signed with that hash so that bytes
 * changed meanwhile are refused, never stored under the old key. */
int blob_put_fd(struct blob_store *bs, int fd, char key_out[BLOB_KEY_LEN + 1], uint64_t *size,
		bool *existed, struct dam_err *err);
int blob_put_mem(struct blob_store *bs, const void *data, size_t len,
		 char key_out[BLOB_KEY_LEN + 1], bool *existed, struct dam_err *err);

/* SHA-256 of fd's bytes from its current position, without storing. */
int blob_hash_fd(int fd, char key_out[BLOB_KEY_LEN + 1], uint64_t *size, struct dam_err *err);

/*
 * Readers: the one way to read a stored blob. A reader knows its size,
 * reads sequentially (blob_reader_read) or at any offset
 * (blob_reader_pread: an object store answers it with a ranged GET, so a
 * tile of a pyramidal master costs only its bytes). No file descriptor
 * leaves the store except the fs backend's fast path,
 * blob_reader_local_fd(), for callers that sendfile/mmap/pread a local
 * file and must fall back to reading when it is -1.
 *
 * Thread-safety: blob_reader_pread() may run on several threads at once on
 * one reader; blob_reader_read() moves the reader's own position and is
 * for one thread.
 */
struct blob_reader;
/* Opens blob key. *out: caller frees with blob_reader_free(). DAM_ENOTFOUND
 * when absent, DAM_EINVAL when key is not a blob key. */
int blob_reader_open(struct blob_store *bs, const char *key, struct blob_reader **out,
		     struct dam_err *err);
/* A reader over a local file that is not a stored blob (a fixture, a
 * spool file), for code that takes readers. fd is borrowed: it must stay
 * open until blob_reader_free(), which does not close it. Its size is
 * fd's size now. */
int blob_reader_from_fd(int fd, struct blob_reader **out, struct dam_err *err);
uint64_t blob_reader_size(const struct blob_reader *r);
/* Reads up to len bytes at the reader's position (0 at first) and moves
 * it on. Returns the count (short only at the end, 0 there) or < 0. */
ssize_t blob_reader_read(struct blob_reader *r, void *buf, size_t len, struct dam_err *err);
/* Reads up to len bytes at off without moving the position. Returns the
 * count (short only at the end; 0 at or past it) or < 0. */
ssize_t blob_reader_pread(struct blob_reader *r, void *buf, size_t len, uint64_t off,
			  struct dam_err *err);
/* The fast path: an fd of a local file holding exactly the blob's bytes,
 * for pread/sendfile/mmap; borrowed (do not close; valid until
 * blob_reader_free()), its file position is not the reader's - use
 * positioned calls. -1 when the backend has no local file (only fs has one;
 * also -1 on fs when the environment sets DAM_STORE_NO_LOCAL_FD=1, the
 * test hook that exercises every caller's fallback). */
int blob_reader_local_fd(const struct blob_reader *r);
/* An fd of a local file with the blob's bytes for a consumer that needs a
 * file (h2o's file sender, which must never wait on a network store on its
 * event loop; libraries without a read callback): a dup() of the local fd
 * when there is one, else the bytes read through r into an unlinked scratch
 * file. *fd: caller closes; it is positioned at 0. */
int blob_reader_local_file(struct blob_reader *r, int *fd, struct dam_err *err);
/* blob_reader_open() + blob_reader_local_file() + free: blob key as a
 * local file *fd (caller closes) of *size bytes (size may be NULL). */
int blob_local_file(struct blob_store *bs, const char *key, int *fd, uint64_t *size,
		    struct dam_err *err);
/* A reader of blob key for a caller that will read all of it, perhaps
 * several times over (the renditions job runs a dozen transforms over one
 * master): the store's own reader when it has a local file (fs), else a
 * reader over a spooled local copy (one GET of the whole object instead of
 * read-ahead windows refetched by every pass: a 14 MB master cost ~70 MB
 * in ~380 ranged GETs). The copy is an unlinked scratch file, gone with
 * the reader. *out: caller frees with blob_reader_free(). Errors as
 * blob_reader_open() and blob_reader_local_file(). */
int blob_reader_open_local(struct blob_store *bs, const char *key, struct blob_reader **out,
			   struct dam_err *err);
/* NULL is a no-op. */
void blob_reader_free(struct blob_reader *r);

/* Size of a blob, or DAM_ENOTFOUND. */
int blob_stat(struct blob_store *bs, const char *key, uint64_t *size, struct dam_err *err);
/* Removes a blob; absent is not an error. */
int blob_delete(struct blob_store *bs, const char *key, struct dam_err *err);
/* Re-hashes a blob: 0 if its bytes match its key, DAM_EDAMAGED if not. */
int blob_verify(struct blob_store *bs, const char *key, struct dam_err *err);

/* Calls fn for every stored key (order unspecified). fn returns < 0 to stop. */
typedef int (*blob_each_fn)(void *ctx, const char *key, uint64_t size);
int blob_each(struct blob_store *bs, blob_each_fn fn, void *ctx, struct dam_err *err);

/*
 * Partial objects: resumable uploads append to a named temp object across
 * requests (and restarts); the caller keeps the running hash (see
 * blob_hash_state_*) so completing needs no second read. Names are
 * [a-z0-9-]{1,64} chosen by the caller (an upload id).
 */
struct blob_partial;
int blob_partial_create(struct blob_store *bs, const char *name, struct dam_err *err);
/* Opens a partial object for appending and takes an exclusive lock on it
 * (flock: appenders in other processes wait), held until
 * blob_partial_close(). Read the caller's record of the upload (offset, hash
 * state) after this returns, so the record cannot change underneath.
 * DAM_ENOTFOUND when there is no such partial object. */
int blob_partial_open_append(struct blob_store *bs, const char *name, struct blob_partial **out,
			     struct dam_err *err);
/* Appends data at offset, the caller's recorded (acknowledged) size, and
 * advances state (a saved hash of the first `offset` bytes) over data.
 * Bytes found beyond offset were written by an append that crashed before
 * its caller recorded it, and are cut off first. Durable on return (data and
 * size fdatasync'd). DAM_EDAMAGED when the object is shorter than offset.
 * On error state is garbage and the object is cut back to offset. */
int blob_partial_append_at(struct blob_partial *p, uint64_t offset, const void *data, size_t len,
			   unsigned char *state, struct dam_err *err);
/* Releases the lock and frees p. NULL is a no-op. */
void blob_partial_close(struct blob_partial *p);
/* Opens a reader over the partial object's bytes so far (for sniffing);
 * caller frees *out with blob_reader_free(). DAM_ENOTFOUND when absent. */
int blob_partial_reader_open(struct blob_store *bs, const char *name, struct blob_reader **out,
			     struct dam_err *err);
/* Publishes the partial object under key (its SHA-256, computed by the
 * caller as the bytes arrived); if the key already exists the partial object
 * is dropped and *existed set. */
int blob_partial_commit(struct blob_store *bs, const char *name, const char *key, bool *existed,
			struct dam_err *err);
int blob_partial_delete(struct blob_store *bs, const char *name, struct dam_err *err);

/*
 * A running SHA-256 that can be saved between requests (and restarts) as
 * BLOB_HASH_STATE_SIZE bytes in a portable format (version 2, see blob.c).
 * Hashing runs OpenSSL's SHA-256 (SHA-NI where the CPU has it).
 * Saved states of version 1 (BLOB_HASH_STATE_V1_SIZE bytes: libsodium's
 * crypto_hash_sha256_state, which dam stored before) are converted by
 * blob_hash_state_load(), so uploads begun by an older dam complete.
 */
#define BLOB_HASH_STATE_SIZE 112
#define BLOB_HASH_STATE_V1_SIZE 104
void blob_hash_state_init(unsigned char state[BLOB_HASH_STATE_SIZE]);
/* Reads a saved state of either version into state (version 2).
 * DAM_EDAMAGED when saved is neither. */
int blob_hash_state_load(const void *saved, size_t n, unsigned char state[BLOB_HASH_STATE_SIZE],
			 struct dam_err *err);
void blob_hash_state_update(unsigned char state[BLOB_HASH_STATE_SIZE], const void *data, size_t len);
void blob_hash_state_final(const unsigned char state[BLOB_HASH_STATE_SIZE], char key_out[BLOB_KEY_LEN + 1]);

/* Removes temp objects older than max_age_s left by killed writers; returns
 * how many were removed. max_age_s <= 0 removes every one, whatever the
 * clocks say (a file's mtime can be a second ahead of time(NULL)). */
int blob_clean_temp(struct blob_store *bs, int max_age_s, struct dam_err *err);
/* Counts temp objects (in-flight or left by killed writers). */
int blob_count_temp(struct blob_store *bs, struct dam_err *err);

/* Whether the store answers, for readiness probes: fs, the objects folder
 * and its tmp folder are there and usable; S3, the bucket lists (one key).
 * Reads nothing else, whatever the store's size. 0, or < 0 with err saying
 * what is wrong (no file path, bucket or endpoint in the message: probes
 * are public). */
int blob_store_check(struct blob_store *bs, struct dam_err *err);

/* Whether every blob of the store is a local file (fs: readers give a
 * local fd), known without asking the store: a caller that would keep a
 * copy of a blob on a store without (S3) can look in its copies first. */
bool blob_store_local_files(const struct blob_store *bs);

#endif

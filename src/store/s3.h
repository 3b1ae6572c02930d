/*
 * s3.h - a client for S3-compatible object stores (AWS S3, Ceph RGW, MinIO)
 * on libcurl, for the future S3 blob backend (store/blob_s3.c).
 *
 * Requests are signed by libcurl (CURLOPT_AWS_SIGV4, "aws:amz:REGION:s3").
 * Two things libcurl 7.88 leaves to the caller are done here: the
 * x-amz-content-sha256 header (the body's SHA-256 hex, or UNSIGNED-PAYLOAD
 * for a body streamed from a callback), without which S3 refuses every
 * request, and query parameters in sorted order with AWS's encoding, which
 * libcurl signs as given. A third: libcurl 7.88 sorts the headers it signs
 * as whole "name:value" lines, so no request may carry two headers where
 * one name is a prefix of the other ("x-amz-copy-source" and
 * "x-amz-copy-source-range"): S3 would refuse the signature.
 *
 * One client owns one CURL easy handle, so it keeps its connection alive
 * between requests; it is used by one thread at a time (keep one client per
 * thread). Keys are object names (1..1024 bytes, any bytes but NUL); they
 * are URI-encoded here.
 *
 * The secret: s3_config names exactly one source - the value itself (for
 * callers that already hold it), an environment variable, or a file that
 * must not be readable by group or others. It is copied into the client,
 * never logged, never part of an error message or of the trace
 * (s3_config.trace), and wiped when the client is freed.
 *
 * Errors: S3's XML error (Code, Message) becomes a dam_err message
 * "s3: VERB bucket/key: HTTP 403 SignatureDoesNotMatch[: Message] - hint",
 * the hint for the codes that are about configuration. HTTP 404 -> DAM_ENOTFOUND, 403 ->
 * DAM_EPERM, 400/416 -> DAM_EINVAL, 409/412 -> DAM_ECONFLICT, anything else
 * and transport failures -> DAM_EIO. err->field is "s3".
 *
 * How the blob backend will use it (blob keys are the SHA-256 of the bytes,
 * known only when the last byte has been written):
 *   - a writer buffers up to one part (s3_upload_*). An object smaller than
 *     one part is sent by s3_upload_finish() as one PUT, so the backend
 *     keeps it in the writer until commit and PUTs it under its final key
 *     "objects/ab/cd/<hex>" (S3 makes a PUT visible only whole);
 *   - a larger object goes out as a multipart upload to a temporary key
 *     "tmp/<random hex>" while it streams (memory bounded by one part); at
 *     commit, once the hash is known, it is completed, copied to
 *     "objects/ab/cd/<hex>" (s3_copy: server-side up to 5 GiB, through the
 *     client above), and the temporary object deleted. An object that already
 *     exists under its final key (s3_head) needs no copy, only the delete.
 *   - a local file is hashed before it is sent, so it goes as one
 *     s3_put_stream_sha256() straight under its final key (S3 checks the
 *     bytes against the signed hash), with no temporary object at all.
 *   - a crash leaves at worst a temporary object under tmp/ or an
 *     unfinished multipart upload, never a partial object under a real key;
 *     gc finds them with s3_list("tmp/") and s3_multipart_list("tmp/") and
 *     removes the stale ones (s3_delete, s3_multipart_abort).
 *   - readers use s3_get_range() for ranged reads (tiles, Range requests)
 *     and s3_get_stream() for whole objects; fsck and gc walk "objects/"
 *     with s3_list().
 */
#ifndef DAM_STORE_S3_H
#define DAM_STORE_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "util/err.h"

#define S3_PART_MIN ((size_t)5 << 20)       /* S3's rule for every part but the last */
#define S3_PART_DEFAULT ((size_t)8 << 20)
#define S3_PART_MAX ((size_t)64 << 20)      /* our bound on memory per upload */
#define S3_COPY_MAX ((uint64_t)5 << 30)     /* largest object CopyObject copies */
#define S3_PUT_MAX ((uint64_t)5 << 30)      /* largest object one PUT stores */

/* Borrowed strings: s3_client_new() copies what it keeps. */
struct s3_config {
	const char *endpoint;    /* "http://127.0.0.1:7480", "https://s3.eu-west-1.amazonaws.com" */
	const char *region;      /* "us-east-1" */
	const char *bucket;
	const char *key_id;
	/* Exactly one of the three: */
	const char *secret;      /* the secret itself */
	const char *secret_env;  /* name of an environment variable holding it */
	const char *secret_file; /* file holding it (trailing newline ignored), mode 0600/0400 */
	bool virtual_host;       /* BUCKET.host/key instead of host/BUCKET/key */
	long connect_timeout_ms; /* 0 = 10 s */
	long stall_timeout_s;    /* give up when under 1 byte/s for this long; 0 = 60 */
	size_t part_size;        /* s3_upload_* parts: 0 = S3_PART_DEFAULT, S3_PART_MIN..S3_PART_MAX */
	uint64_t copy_max;       /* s3_copy copies through the client above; 0 = S3_COPY_MAX */
	FILE *trace;             /* NULL, or where libcurl's trace of headers goes
	                          * (Authorization shown as "[redacted]") */
};

struct s3_client;

/* Checks cfg, reads the secret and makes a client. Caller frees with
 * s3_client_free(). Errors: DAM_EINVAL (a missing or bad setting, a secret
 * file readable by group or others, an unset variable), DAM_ENOMEM. */
int s3_client_new(const struct s3_config *cfg, struct s3_client **out, struct dam_err *err);
/* Wipes the secret and closes the connection. NULL is a no-op. */
void s3_client_free(struct s3_client *c);

/* Creates the configured bucket; one that the key already owns is fine. */
int s3_bucket_create(struct s3_client *c, struct dam_err *err);

/* PUT of len bytes from memory (payload signed with its SHA-256). */
int s3_put(struct s3_client *c, const char *key, const void *data, size_t len,
	   struct dam_err *err);

/* s3_put, but only when key does not exist yet (If-None-Match: *, which
 * RGW, MinIO and AWS honour): DAM_ECONFLICT (HTTP 412) when it does. The
 * one atomic test-and-set S3 offers; blob_s3.c locks partial objects with it. */
int s3_put_if_absent(struct s3_client *c, const char *key, const void *data, size_t len,
		     struct dam_err *err);

/* Fills buf with up to cap bytes; returns how many (0 only at the end), or
 * a negative DAM_E* code to abort the transfer. */
typedef ssize_t (*s3_read_fn)(void *ctx, void *buf, size_t cap);
/* PUT of exactly len bytes read from fn (UNSIGNED-PAYLOAD): a callback that
 * ends early or returns an error fails the request and stores nothing. */
int s3_put_stream(struct s3_client *c, const char *key, uint64_t len, s3_read_fn fn, void *ctx,
		  struct dam_err *err);

/* s3_put_stream, with the body's SHA-256 (64 lower-case hex digits) known
 * beforehand: signed as x-amz-content-sha256, so S3 checks the bytes it
 * received against it and stores nothing when they differ (HTTP 400
 * XAmzContentSHA256Mismatch, DAM_EINVAL). A file that changed since it was
 * hashed can thus never be stored under the old hash. */
int s3_put_stream_sha256(struct s3_client *c, const char *key, uint64_t len, const char *sha256,
			 s3_read_fn fn, void *ctx, struct dam_err *err);
/* s3_put with the body's SHA-256 hex already known (not computed again). */
int s3_put_sha256(struct s3_client *c, const char *key, const void *data, size_t len, const char *sha256,
		  struct dam_err *err);

/* Takes len bytes; returns 0, or a negative DAM_E* code to stop. */
typedef int (*s3_write_fn)(void *ctx, const void *data, size_t len);
/* GET of a whole object, streamed to fn. *size (may be NULL) gets the bytes
 * delivered. A code returned by fn is returned as is. */
int s3_get_stream(struct s3_client *c, const char *key, s3_write_fn fn, void *ctx,
		  uint64_t *size, struct dam_err *err);
/* GET of a whole object into memory: *data is malloc'd (caller frees, NUL
 * after the bytes), *len its size. Objects larger than max fail with
 * DAM_ELIMIT. */
int s3_get(struct s3_client *c, const char *key, size_t max, void **data, size_t *len,
	   struct dam_err *err);
/* Ranged GET of bytes [offset, offset + len) into buf, like pread: *got is
 * the count read, short only at the end of the object and 0 at or past it. */
int s3_get_range(struct s3_client *c, const char *key, uint64_t offset, void *buf, size_t len,
		 size_t *got, struct dam_err *err);

/* HEAD: *size (may be NULL) gets the object's size. DAM_ENOTFOUND when
 * there is no such object. */
int s3_head(struct s3_client *c, const char *key, uint64_t *size, struct dam_err *err);
/* DELETE; an absent object is not an error, a missing bucket is
 * (DAM_ENOTFOUND). */
int s3_delete(struct s3_client *c, const char *key, struct dam_err *err);

/* One listed object; the strings are borrowed for the callback's duration. */
struct s3_object {
	const char *key;
	uint64_t size;
	const char *etag;          /* with its quotes, as S3 sends it */
	const char *last_modified; /* ISO 8601 */
};
typedef int (*s3_list_fn)(void *ctx, const struct s3_object *obj);
/* Lists the objects whose key starts with prefix ("" = all) in key order,
 * page_size keys per request (0 = 1000), following continuation tokens. A
 * negative code from fn stops the walk and is returned. */
int s3_list(struct s3_client *c, const char *prefix, int page_size, s3_list_fn fn, void *ctx,
	    struct dam_err *err);

/* Copy of src to dst within the bucket. size is src's size if known, else
 * UINT64_MAX (a HEAD finds it). Up to copy_max it is one server-side
 * CopyObject; above it (CopyObject's limit is 5 GiB) the bytes pass through
 * this client as a multipart upload of ranged GETs, one part in memory at
 * a time (libcurl 7.88 cannot sign UploadPartCopy's headers: see s3.c). */
int s3_copy(struct s3_client *c, const char *src, const char *dst, uint64_t size,
	    struct dam_err *err);

/* ---- multipart upload, step by step ---- */

/* A part's ETag as S3 sent it (with quotes). */
#define S3_ETAG_MAX 128
struct s3_part {
	int number; /* 1..10000 */
	char etag[S3_ETAG_MAX];
};

/* Starts a multipart upload to key: *upload_id is malloc'd, caller frees. */
int s3_multipart_create(struct s3_client *c, const char *key, char **upload_id,
			struct dam_err *err);
/* Uploads part->number from memory and fills part->etag. */
int s3_multipart_put_part(struct s3_client *c, const char *key, const char *upload_id,
			  const void *data, size_t len, struct s3_part *part, struct dam_err *err);
/* Completes with the parts in ascending number: only now does key exist. */
int s3_multipart_complete(struct s3_client *c, const char *key, const char *upload_id,
			  const struct s3_part *parts, size_t n, struct dam_err *err);
/* Abandons the upload and frees its parts; an unknown id is not an error. */
int s3_multipart_abort(struct s3_client *c, const char *key, const char *upload_id,
		       struct dam_err *err);
/* An unfinished upload; strings borrowed for the callback's duration. */
struct s3_pending {
	const char *key;
	const char *upload_id;
	const char *initiated; /* ISO 8601 */
};
typedef int (*s3_pending_fn)(void *ctx, const struct s3_pending *up);
/* Lists unfinished multipart uploads under prefix (for gc). */
int s3_multipart_list(struct s3_client *c, const char *prefix, s3_pending_fn fn, void *ctx,
		      struct dam_err *err);

/* ---- streaming upload: memory bounded by one part ---- */

struct s3_upload;

/* Starts an upload to key through c (which must outlive it). Nothing is
 * sent yet. Caller ends it with s3_upload_finish() or s3_upload_abort(). */
int s3_upload_begin(struct s3_client *c, const char *key, struct s3_upload **out,
		    struct dam_err *err);
/* Appends bytes. Each time a whole part is buffered it is sent (the first
 * one also starts the multipart upload), so at most one part is held. */
int s3_upload_write(struct s3_upload *u, const void *data, size_t len, struct dam_err *err);
/* Bytes written so far. */
uint64_t s3_upload_size(const struct s3_upload *u);
/* Makes the object visible: under one part a single PUT, else the last part
 * and the completion. Frees u, also on error (then aborting what was sent). */
int s3_upload_finish(struct s3_upload *u, struct dam_err *err);
/* Abandons the upload (aborting a started multipart upload) and frees u.
 * NULL is a no-op. */
void s3_upload_abort(struct s3_upload *u);

#endif

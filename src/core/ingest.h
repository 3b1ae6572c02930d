/*
 * ingest.h - bringing files into the library.
 *
 * ingest_file() streams one file into the blob store (hashing as it goes),
 * detects its type by content, and in one transaction records the asset (or
 * new version), its user tags and fields, a processing job and the audit
 * row. Byte-identical content already held by a version is never stored
 * again: the result names the asset it duplicates. A failure leaves nothing
 * half-written: at worst an unreferenced blob that `dam gc` reclaims.
 * Every display name, whatever brought it, is made valid UTF-8 and then
 * passes utf8_name_check() (util/utf8.h) or the file fails with its message.
 */
#ifndef DAM_CORE_INGEST_H
#define DAM_CORE_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ingest_opts.h"
#include "core/library.h"
#include "media/media.h"
#include "util/id.h"

enum ingest_status {
	INGEST_ADDED,       /* new asset */
	INGEST_VERSION,     /* new version of an existing asset */
	INGEST_DUPLICATE,   /* bytes already in the library: duplicate_of */
	INGEST_WOULD_ADD,   /* dry run: would be added */
	INGEST_FAILED,      /* err says why */
};

struct ingest_result {
	enum ingest_status status;
	char asset_id[DAM_ID_LEN + 1];
	char version_id[DAM_ID_LEN + 1];
	int version_number;
	char duplicate_of[DAM_ID_LEN + 1];
	char hash[65];
	uint64_t size;
	struct media_sniff sniff;
	struct dam_err err;
};

/* "added", "version", "duplicate", "would_add", "failed". */
const char *ingest_status_name(enum ingest_status s);

/* Ingests path. Returns 0 whenever res was filled (including duplicates and
 * per-file failures, see res->status), < 0 only on a library-wide failure
 * (database unusable) that should stop a batch. */
int ingest_file(struct dam *dam, const char *path, const struct ingest_opts *opts,
		struct ingest_result *res);

/* Ingests the bytes of an open file (from its start) under a display name;
 * source (may be NULL) is remembered for --versions-by-name. For uploads
 * held in memory (memfd). */
int ingest_fd(struct dam *dam, int fd, const char *name, const char *source,
	      const struct ingest_opts *opts, struct ingest_result *res);

/* Completes a resumable upload: the partial object `partial` of the store,
 * whose SHA-256 `hash` was computed as its bytes arrived, becomes a blob and
 * is recorded like ingest_file(). */
int ingest_partial(struct dam *dam, const char *partial, const char *hash, const char *name,
		   const struct ingest_opts *opts, struct ingest_result *res);

/* The versions among ids[0..n) that are not ready, as a JSON array of
 * {version_id, asset_id, filename, status ("pending"|"failed"), error}.
 * Caller decrefs *out. */
int ingest_unfinished(struct dam *dam, const char *const *version_ids, int n, json_t **out, struct dam_err *err);

/* Validates tags and fields of opts before a batch starts. */
int ingest_opts_check(const struct ingest_opts *opts, struct dam_err *err);

#endif

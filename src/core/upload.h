/*
 * upload.h - resumable uploads (the state behind the tus protocol).
 *
 * An upload has a declared length; chunks are appended at the current
 * offset to a partial object in the store, and the SHA-256 is advanced with
 * each chunk and saved with the offset, so memory is bounded by one chunk
 * and completing needs no re-read. When offset reaches length the upload is
 * ingested like any file (dedup, version, job, audit) and its result kept
 * for the client to read. Unfinished uploads expire.
 */
#ifndef DAM_CORE_UPLOAD_H
#define DAM_CORE_UPLOAD_H

#include <jansson.h>
#include <stdint.h>

#include "core/ingest.h"
#include "core/library.h"

#define UPLOAD_TTL_MS (24ull * 3600 * 1000)

struct upload_info {
	char id[DAM_ID_LEN + 1];
	char user_id[DAM_ID_LEN + 1];
	char filename[256];
	uint64_t length, offset;
	uint64_t expires_at;
	json_t *result;   /* ingest result once complete, else NULL; owned (upload_info_release) */
};

void upload_info_release(struct upload_info *u);

/* Starts an upload. options (borrowed, may be NULL) may hold "tags":[..],
 * "fields":{..}, "new_version_of":"id". */
int upload_create(struct dam *dam, const char *user_id, const char *filename, uint64_t length,
		  const json_t *options, struct upload_info *out, struct dam_err *err);

/* Reads an upload; DAM_ENOTFOUND when unknown, expired or someone else's
 * (user_id NULL skips the owner check). */
int upload_get(struct dam *dam, const char *id, const char *user_id, struct upload_info *out,
	       struct dam_err *err);

/* Appends a chunk at offset. DAM_ECONFLICT when offset is not the current
 * one, DAM_ELIMIT when it would pass the declared length. When the upload
 * completes, ingests it and fills out->result. */
int upload_append(struct dam *dam, const char *id, const char *user_id, uint64_t offset,
		  const void *data, size_t len, struct upload_info *out, struct dam_err *err);

/* Terminates an upload and drops its bytes. */
int upload_delete(struct dam *dam, const char *id, const char *user_id, struct dam_err *err);

/* Removes expired unfinished uploads; returns how many. */
int upload_expire(struct dam *dam, struct dam_err *err);

/* The JSON shape of an ingest result (shared by uploads, the API and the CLI):
 * {status, asset_id, version_id, version, duplicate_of, hash, size, mime,
 * kind, extension_mismatch, error}. Caller owns it. */
json_t *ingest_result_json(const struct ingest_result *r, const char *name);

#endif

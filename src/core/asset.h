/*
 * asset.h - assets, their versions, renditions, tags and fields.
 *
 * An asset is the lasting identity of a piece of media; every upload is a
 * version; the asset points at its current version. Every change here runs
 * in one transaction with its audit row.
 *
 * Ids: functions taking an asset id accept a full UUID or a unique prefix of
 * at least 6 characters (like git), resolved by asset_resolve().
 * JSON returned is owned by the caller (json_decref).
 */
#ifndef DAM_CORE_ASSET_H
#define DAM_CORE_ASSET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/library.h"
#include "core/names.h"
#include "util/id.h"

/* Resolves an id or unique prefix (deleted assets included) into out. */
int asset_resolve(struct dam *dam, const char *ref, char out[DAM_ID_LEN + 1], struct dam_err *err);

/* The full asset: fields of the asset, "current_version", "versions" (with
 * their "renditions" and "metadata"), "tags" ([{tag,source,confidence}]),
 * "fields" ({key:value}). */
int asset_get(struct dam *dam, const char *id, json_t **out, struct dam_err *err);

struct asset_filter {
	const char *kind;       /* "image", "video" ... or NULL */
	const char *tag;        /* exact tag or NULL */
	uint64_t since_ms;      /* created at or after, 0 = any */
	uint64_t before_ms;     /* created before, 0 = any */
	uint64_t updated_since_ms, updated_before_ms; /* 0 = any */
	const char *field_key;  /* with field_value: only assets whose field equals it */
	const char *field_value;
	bool deleted;           /* list deleted assets instead of live ones */
	int limit;              /* 0 = 100 */
	const char *after_id;   /* keyset cursor: ids after this one (newest first) */
};

/* Summaries (id, name, kind, size, status, created_at, tags) newest first. */
int asset_list(struct dam *dam, const struct asset_filter *f, json_t **out, struct dam_err *err);

/* Adds and removes tags (source "user"). Removing an automatic tag also
 * remembers it as removed, so reprocessing does not bring it back. */
int asset_tag(struct dam *dam, const char *id, const char *const *add, int nadd,
	      const char *const *remove, int nremove, struct dam_err *err);

/* Sets fields key=value; an empty value removes the field. Keys are
 * [a-z0-9_.-]{1,64}; values at most 64 KB of UTF-8. */
int asset_set_fields(struct dam *dam, const char *id, const char *const *keys,
		     const char *const *values, int n, struct dam_err *err);

/* A change of fields and tags applied in one transaction with one audit
 * row. Empty field values remove the field. */
struct asset_change {
	const char *const *keys;
	const char *const *values;
	int nfields;
	const char *const *add;
	int nadd;
	const char *const *remove;
	int nremove;
};

/* The asset's ETag: changes whenever anything asset_get() shows changes. */
#define ASSET_ETAG_LEN 32
int asset_etag(struct dam *dam, const char *id, char out[ASSET_ETAG_LEN + 1], struct dam_err *err);
/* The same, from an asset already loaded with asset_get() (no second read). */
int asset_etag_of_json(const json_t *asset, char out[ASSET_ETAG_LEN + 1]);

/*
 * The asset as GET /api/v1/assets/{id} shows it: asset_get()'s object as
 * compact JSON (reals with 6 significant digits, as http_res_json writes
 * them), its ETag, and what the policy needs. Each library handle keeps
 * the last ASSET_DOC_CACHE documents it made, each with the database
 * version read before it was built (db_data_version): one is served again
 * only while nothing at all was committed since, so it is never stale.
 * out->json is borrowed until the next asset_doc_get() on this handle or
 * library_close().
 */
struct asset_doc {
	char id[DAM_ID_LEN + 1];
	char created_by[DAM_ID_LEN + 1]; /* "" when unknown */
	char etag[ASSET_ETAG_LEN + 1];
	const char *json;
	size_t len;
};
int asset_doc_get(struct dam *dam, const char *ref, struct asset_doc *out, struct dam_err *err);

/* Applies c. With if_match (an ETag, or "*"), refuses with DAM_ECONFLICT
 * (field "If-Match") when the asset changed since that ETag. */
int asset_patch(struct dam *dam, const char *id, const struct asset_change *c, const char *if_match,
		struct dam_err *err);

/* Soft delete and restore. */
int asset_delete(struct dam *dam, const char *id, struct dam_err *err);
int asset_restore(struct dam *dam, const char *id, struct dam_err *err);

/* Which blob holds a version's original (version 0 = current) or one of its
 * renditions (name non-NULL). Fills key and, if not NULL, mime, filename. */
int asset_blob_of(struct dam *dam, const char *id, int version, const char *rendition,
		  char key[65], char mime[128], char filename[256], struct dam_err *err);

/* Validation helpers shared by CLI and API: asset_field_key_valid() and
 * asset_tag_valid() are in core/names.h. */

#endif

/*
 * deliver.h - answering a signed delivery URL /t/{sig}/{options}/{asset}:
 * check the signature and expiry, expand the preset, re-check that the
 * asset may be delivered now, pick the bytes (a preset rendition made
 * ahead of time, or a transform of the master through the rendition
 * cache, or for video and audio the original for streaming) and say how
 * the response may be cached. HTTP framing stays in http/h_deliver.c.
 *
 * Ownership: deliver_open() gives a struct freed by deliver_close(); it is
 * shared by all request threads (internally locked). A deliver_result's fd
 * belongs to the caller (close it): a file of the rendition cache, or for
 * stored bytes the store's local file (blob_reader_local_file: the fs
 * fast path, a spooled copy on a store without local files).
 */
#ifndef DAM_DELIVER_DELIVER_H
#define DAM_DELIVER_DELIVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/library.h"
#include "core/zip.h"
#include "deliver/rcache.h"

struct deliver;

/* Opens the signing keys and the rendition cache (<root>/cache, bounded by
 * [delivery] cache_mb). */
int deliver_open(struct dam *dam, struct deliver **out, struct dam_err *err);
void deliver_close(struct deliver *d);

struct deliver_result {
	int fd;                   /* the bytes to send (owned by the caller), -1 on error */
	uint64_t size;
	char mime[128];
	char etag[72];            /* quoted strong validator */
	int64_t last_modified_ms;
	char cache_control[96];
	long long max_age;        /* cache_control's max-age before the exp_ cap */
	bool immutable;           /* a version-pinned URL */
	int64_t expires;          /* the link's exp_ (unix seconds), 0 = none */
	/* time_mono_ms() when the oldest remembered state this answer used
	 * (signing keys, presets: re-read at most once a second) was read from
	 * the database; everything else was read during the call. */
	uint64_t state_ms;
	bool vary_accept;         /* the format was negotiated from Accept */
	/* What the answer depends on, space-separated, for CDN purges
	 * (purge.h): "asset-<id> key-<signing key id>", then " preset-<name>"
	 * for p_ URLs and " asset-<id>" of a watermark. */
	char surrogate_key[192];
	char filename[300];       /* set when the URL asks for an attachment (dl_1) */
	bool ranges;              /* video/audio originals: serve Range requests */
	bool cache_hit;           /* from the ahead-of-time rendition or the cache */
};

/*
 * Resolves one request. sig, options and asset are the three path parts
 * (borrowed); accept the Accept header (may be NULL); now in unix seconds.
 * Errors, each with a message for the client: DAM_EPERM (bad signature,
 * expired link, presets-only mode), DAM_EINVAL (bad options, with the
 * position; unknown preset; a transform of something that is not an
 * image), DAM_ENOTFOUND (no such asset or version, or deleted),
 * DAM_ECONFLICT (not processed yet / no delivery master), DAM_ELIMIT
 * (pixel limits, byte budget, timeout).
 */
int deliver_resolve(struct deliver *d, struct dam *dam, const char *sig, const char *options,
		    const char *asset, const char *accept, int64_t now, struct deliver_result *out,
		    struct dam_err *err);

/*
 * A signed URL for asset with options text (e.g. "p_tmall"; NULL or "" =
 * identity "_"), expiring at `expires` (unix seconds, 0 = never; added as
 * exp_). base_url NULL or "": [delivery] base_url, else
 * http://127.0.0.1:8080. The options are
 * checked first (DAM_EINVAL). *out is malloc'd (caller frees).
 */
int deliver_url(struct dam *dam, const char *base_url, const char *asset, const char *options,
		int64_t expires, char **out, struct dam_err *err);

/* Renders asset (current version) with a preset or options text into a
 * malloc'd buffer, as the delivery would (for `dam render`). Accept-free:
 * format auto becomes WebP. */
int deliver_render(struct dam *dam, const char *asset, const char *options, void **data, size_t *len,
		   char mime[128], struct dam_err *err);

/* The Cache-Control value of a result with these max_age, immutable and
 * expires fields, at `now` (unix seconds): an expiring link's max-age never
 * reaches past its expiry. */
/*
 * The delivery warnings of the asset's current master for every
 * ahead-of-time or channel preset (only the preset named `only`, unless
 * NULL): preset_warnings() on the master's size. *out gets a new JSON array
 * (caller json_decref()s), empty for an asset that cannot be delivered
 * (no such asset, deleted, not processed, not an image).
 */
int deliver_warnings(struct dam *dam, const char *asset, const char *only, json_t **out,
		     struct dam_err *err);

void deliver_cache_control(char *out, size_t n, long long max_age, bool immutable, int64_t expires, int64_t now);

/*
 * The stored blob key as a local file for a sender (http/ streams files
 * from its event loop, which must never wait on a network store): *fd
 * (caller closes; read it with pread) and *size. DAM_ENOTFOUND when the
 * blob is missing. Thread-safe.
 */
int deliver_blob(struct dam *dam, const char *key, int *fd, uint64_t *size, struct dam_err *err);

/*
 * JPEG Deep Zoom tile (col, row) of `level` cut from the delivery master
 * master_key (media/tile.h; ranged reads of the master only). *data is
 * malloc'd (caller frees), *len its size. DAM_ENOTFOUND for a tile outside
 * the image or a missing master, DAM_EMEDIA when it does not decode.
 * Thread-safe. The caller checks access first.
 */
int deliver_tile(struct dam *dam, const char *master_key, int level, int col, int row, void **data,
		 size_t *len, struct dam_err *err);

/* Cache statistics for /metrics. */
void deliver_cache_stats(struct deliver *d, struct rcache_stats *out);
/* Applies a reloaded [delivery] cache_mb to the rendition cache (evicting
 * what no longer fits). Thread-safe. */
void deliver_set_cache_mb(struct deliver *d, int cache_mb);

/*
 * A zip_source_fn (core/zip.h) giving each asset's rendition for a preset,
 * the bytes the delivery serves for p_<preset> (the ahead-of-time
 * rendition, or a transform through the rendition cache), named after the
 * asset with the rendition's extension. An asset that cannot have it (a
 * PDF or a video for an image preset, no delivery master yet, over a
 * limit) is skipped with the delivery's reason. ctx is a struct
 * deliver_zip (borrowed for the call); the preset must exist.
 */
struct deliver_zip {
	struct deliver *d;
	struct dam *dam;
	const char *preset;
};
int deliver_zip_source(void *ctx, const struct zip_item *it, int *fd, uint64_t *size, char name[256],
		       struct dam_err *err);

#endif

/*
 * purge.h - telling CDN edges to drop what they cached of an asset.
 *
 * Core writes a row to the purge outbox (table purge_outbox, migration 7)
 * in the same transaction as every change of an asset's delivered bytes or
 * deliverability (new current version, delete, restore, focal point,
 * preset change), so no purge is lost to a crash. purge_drain() sends the
 * waiting rows and deletes those that every edge accepted; failures stay
 * with a growing back-off (attempts, next_at).
 *
 * Per edge and asset it sends, with libcurl:
 *   method "BAN"   -> BAN <edge>/ with header "X-Surrogate-Key: <asset-id>"
 *   method "PURGE" -> PURGE <edge>/ with the same header
 * and, when http_url is set, one request for commercial CDNs: http_method
 * to http_url with "{key}" replaced by the asset id in the URL and in
 * http_body (content type JSON), plus the http_header line when given
 * (e.g. "Authorization: Bearer ..."). A 2xx answer counts as accepted.
 * The VCL in docs/delivery.md shows the Varnish side.
 *
 * Ownership: everything borrowed. Thread-safe (no shared state beyond the
 * database handle, which the caller must not share between threads).
 */
#ifndef DAM_DELIVER_PURGE_H
#define DAM_DELIVER_PURGE_H

#include "db/db.h"
#include "util/err.h"

#define PURGE_EDGES_MAX 8

struct purge_config {
	int nedges;
	char edges[PURGE_EDGES_MAX][256]; /* base URLs, e.g. "http://127.0.0.1:6081" */
	char method[8];                   /* "BAN" (default) or "PURGE" */
	char http_url[512];               /* "" = none */
	char http_method[8];              /* default "POST" */
	char http_body[1024];             /* may be "" */
	char http_header[512];            /* one extra header line, may be "" */
	int timeout_ms;                   /* per request, default 5000 */
};

/* Sends the purge of one asset to every configured target now. 0 when all
 * accepted; DAM_EIO naming the first edge that did not and why. */
int purge_send(const struct purge_config *cfg, const char *asset_id, struct dam_err *err);

/* Sends every due outbox row (at most `max`), deletes the accepted ones,
 * reschedules the others. *sent (may be NULL) = rows purged. With no
 * edges configured it just deletes due rows. Returns 0 when every due row
 * was purged; DAM_EIO (err naming the first failure) when some were
 * rescheduled, the others still deleted; DAM_EDB and the like when the
 * outbox could not be read or updated; DAM_EINVAL for max <= 0. */
int purge_drain(struct db *db, const struct purge_config *cfg, int max, int *sent,
		struct dam_err *err);

#endif

/*
 * purge.h - telling CDN edges to drop cached delivery answers.
 *
 * Every delivery answer names what it depends on in its Surrogate-Key
 * header (deliver.h): "asset-<id>" (and "asset-<wm id>" for a watermark),
 * "key-<signing key id>" and, for p_ URLs, "preset-<name>". A change that
 * can make an answer already served wrong writes a row naming the
 * narrowest key that covers it to the purge outbox (table purge_outbox,
 * column surrogate_key; migrations 7 and 8) in the same transaction as the
 * change, by database triggers: new current version, version ready,
 * delete and restore, focal point, re-rendered preset rendition
 * ("asset-<id>"), retiring a signing key ("key-<id>"), storing, changing
 * or removing a preset ("preset-<name>"). So no purge is lost to a crash
 * and no code path can forget one; later kinds of change (rights, states)
 * feed the same outbox the same way. purge_drain() sends the waiting rows
 * and deletes those that every edge accepted; failures stay with a growing
 * back-off (attempts, next_at).
 *
 * Per edge and surrogate key it sends, with libcurl:
 *   method "BAN"   -> BAN <edge>/ with header "X-Surrogate-Key: <key>"
 *   method "PURGE" -> PURGE <edge>/ with the same header
 * and, when http_url is set, one request for commercial CDNs: http_method
 * to http_url with "{key}" replaced by the surrogate key in the URL and in
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
	/* Rows wait until they are this many seconds old (0 = none). A server
	 * re-reads signing keys and presets at most once a second: a purge
	 * sent sooner could be followed by a request the server still answers
	 * from its old keys, which the edge would cache again. */
	int settle_s;
	/* After its first accepted send a row is sent once more, resend_s
	 * later (0 = never): an answer that was being made when the change
	 * happened (a transform takes up to the delivery timeout) can reach
	 * the edge after the first purge, and the second one drops it. */
	int resend_s;
};

/* Sends the purge of one surrogate key ("asset-<id>", "key-<id>",
 * "preset-<name>": 1 to 128 characters of A-Z a-z 0-9 - _ .) to every
 * configured target now. 0 when all accepted; DAM_EINVAL for a bad key or
 * config; DAM_EIO naming the first edge that did not and why. */
int purge_send(const struct purge_config *cfg, const char *key, struct dam_err *err);

/* Sends every due outbox row (at most `max`; due: next_at reached and at
 * least settle_s old), one request per surrogate key however many rows
 * name it. An accepted row is deleted, or with resend_s kept for its
 * second send (sent_at set, due resend_s later) and deleted after that;
 * a refused one is rescheduled. *sent (may be NULL) = rows whose send
 * was accepted. With no
 * edges configured it just deletes due rows. Returns 0 when every due row
 * was purged; DAM_EIO (err naming the first failure) when some were
 * rescheduled, the others still deleted; DAM_EDB and the like when the
 * outbox could not be read or updated; DAM_EINVAL for max <= 0. */
int purge_drain(struct db *db, const struct purge_config *cfg, int max, int *sent,
		struct dam_err *err);

#endif

/*
 * preset.h - channel presets: named transform specs (docs/delivery.md).
 *
 * The effective set is the built-in presets (one per channel rule), then
 * [preset NAME] sections of dam.conf over them, then presets stored through
 * the API (table presets) over both. Presets with `ahead` are rendered by
 * workers for every image version ahead of the first request (see
 * prerender.h); the others are made on first request and cached.
 *
 * Ownership: preset_all() gives an array the caller free()s; preset_list()
 * a JSON array the caller json_decref()s. Everything else is borrowed.
 */
#ifndef DAM_DELIVER_PRESET_H
#define DAM_DELIVER_PRESET_H

#include <jansson.h>
#include <stdbool.h>

#include "core/library.h"
#include "deliver/tspec.h"

struct preset {
	char name[33];
	char spec[512];        /* canonical options text (tspec_format) */
	char description[256];
	/* "builtin"; "config" (a [preset] section of this node's dam.conf);
	 * "settings" (one of the library's shared settings in the database,
	 * stored by dam config push); "api" (the presets table: the API, dam
	 * preset set) */
	char source[12];
	bool ahead;            /* rendered ahead of time by workers */
	struct tspec parsed;
};

/* The effective presets, sorted by name. */
int preset_all(struct dam *dam, struct preset **out, int *n, struct dam_err *err);

/* One effective preset; DAM_ENOTFOUND naming it when unknown. */
int preset_get(struct dam *dam, const char *name, struct preset *out, struct dam_err *err);

/*
 * A cache of the effective presets for the delivery path, which looks one
 * up on every preset request: building the set parses every built-in and
 * config preset and reads the presets table. One cache serves every
 * thread of a process (it has its own lock). It is rebuilt when
 *  - this process changed a preset (preset_put()/preset_delete() through
 *    any handle): seen by the next lookup in every thread;
 *  - another process changed one (the CLI, another server): each change
 *    bumps the library row presets_version in its transaction, and the
 *    cache re-reads that row when it is PRESET_RECHECK_MS old, so such a
 *    change is seen within that bound;
 *  - the dam.conf presets or delivery limits of the handle asking differ
 *    from those it was built from (a configuration reload).
 * Ownership: preset_cache_new() gives a cache freed by preset_cache_free()
 * (NULL is a no-op); no lookup may be running then.
 */
#define PRESET_RECHECK_MS 1000
struct preset_cache;
int preset_cache_new(struct preset_cache **out, struct dam_err *err);
void preset_cache_free(struct preset_cache *c);

/* Like preset_get(), from the cache (building or refreshing it with dam's
 * database and configuration when needed). Thread-safe. *read_ms (may be
 * NULL) gets the time_mono_ms() at which the answer was last confirmed
 * current in the database: it may be up to PRESET_RECHECK_MS old. */
int preset_cache_get(struct preset_cache *c, struct dam *dam, const char *name, struct preset *out,
		     uint64_t *read_ms, struct dam_err *err);

/*
 * What delivering a width x height master through the presets v[0..n)
 * (only the one named `only`, unless NULL) would fall short of, as a new
 * JSON array (caller json_decref()s) of {"preset", "kind", "message"}:
 *   "too_small": the channel's own size rule is not met (Amazon zoom needs
 *                >= 1000 px on the longest side ...; "min_long" gives it);
 *   "refused":   the preset's upscaling rule refuses this source (cover or
 *                fill would need more enlargement than its up_N);
 *   "enlarged":  the preset enlarges it ("enlarged": the factor).
 * Ahead-of-time presets and those with a channel rule are looked at.
 */
json_t *preset_warnings(const struct preset *v, int n, int width, int height, const char *only);

/* One preset as a new JSON object {"name","spec","description","source",
 * "ahead"} (caller json_decref()s). */
json_t *preset_json(const struct preset *p);

/* The effective presets as JSON: [{"name","spec","description","source","ahead"}]. */
int preset_list(struct dam *dam, json_t **out, struct dam_err *err);

/*
 * Creates or changes a stored preset (overriding a built-in or config one
 * of the same name). The spec is checked with the library's delivery
 * limits and may not name p_, v_, exp_, dl_ (DAM_EINVAL with the
 * position). Writes the audit row and, in the same transaction, queues
 * re-rendering of the versions whose rendition of this preset it makes out
 * of date (as preset_sync()); *created tells whether it is new.
 */
int preset_put(struct dam *dam, const char *name, const char *spec, const char *description,
	       bool ahead, bool *created, struct dam_err *err);

/* Deletes a stored preset (the built-in or config one of that name, if
 * any, applies again). DAM_ENOTFOUND when none is stored; DAM_EINVAL for a
 * built-in or config preset that was never changed through the API. */
int preset_delete(struct dam *dam, const char *name, struct dam_err *err);

/* True for a syntactically valid preset name ([a-z0-9-]{1,32}). */
bool preset_name_valid(const char *name);

/* The library's delivery limits as tspec limits (from dam.conf). */
void preset_limits(const struct dam *dam, struct tspec_limits *lim);

/*
 * The hash a preset rendition records of the definition that made it
 * (prerender_spec_json's "preset_hash"): SHA-256 hex of the canonical
 * options and PRESET_RULES, the version of the rules that turn options
 * into pixels (bumped when they change, e.g. the upscaling rule, so
 * renditions made by the old rules are made again once).
 */
#define PRESET_RULES "2"
void preset_spec_hash(const char *spec, char out[65]);

/*
 * Queues a "renditions" job for every current image version that lacks a
 * rendition of some ahead-of-time preset made from the preset's present
 * definition (its preset_spec_hash), and has no such job queued or running
 * yet. So a changed preset re-renders only its own renditions (the job
 * skips the others), a new one only itself, and an unchanged library
 * nothing, whoever made the renditions (a CLI ingest, another server).
 * *queued (may be NULL) gets the number of jobs. Runs its own transaction.
 */
int preset_sync(struct dam *dam, int *queued, struct dam_err *err);

#endif

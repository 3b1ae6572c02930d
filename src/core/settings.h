/*
 * settings.h - the settings every node of a library must agree on:
 * `dam config push` and `dam config show`, and the warnings a node prints
 * when its dam.conf disagrees with the database.
 *
 * Which keys are shared is config.h's table (config_key_scope); how a
 * library applies them is core/settings_load.h.
 */
#ifndef DAM_CORE_SETTINGS_H
#define DAM_CORE_SETTINGS_H

#include <jansson.h>

#include "core/library.h"

/* Stores every shared key of the library's dam.conf (defaults for those it
 * does not set, and every [preset NAME] section) in the settings table,
 * replacing what was there, in one transaction with an audit row
 * (settings.push; the names of the keys that changed, no values: a purge
 * header may hold a CDN token). Returns the number of keys whose stored
 * value changed (added, changed or removed), or < 0. The handle's own cfg
 * is not refreshed: open the library again to apply the result. */
int settings_push(struct dam *dam, struct dam_err *err);

/* The effective shared settings of the open library, as an array of
 * {section, key, value, origin} where origin is "database", "dam.conf" or
 * "default". Caller decrefs *out. */
int settings_show(struct dam *dam, json_t **out, struct dam_err *err);

/* Calls fn with one line for each shared key dam.conf sets to a value
 * other than the one the database imposes ("dam.conf [limits] max_pixels =
 * 1000 differs from the library's 250000000 (database); ..."). Nothing
 * when the settings table is empty. line is borrowed for the call. Returns
 * the number of lines, or < 0. */
typedef void (*settings_warn_fn)(void *ctx, const char *line);
int settings_differences(struct dam *dam, settings_warn_fn fn, void *ctx, struct dam_err *err);

/* A stamp of the library's stored settings that moves with every push
 * (settings_stamp), for a running node that re-reads them when it does. */
int settings_version(struct dam *dam, int64_t *out, struct dam_err *err);

/* The effective configuration of the library folder root, read with a
 * handle of its own (for processes that hold none: the job zygote, the
 * server's reload). cfg is filled. */
int settings_load_root(const char *root, struct dam_config *cfg, struct dam_err *err);

#endif

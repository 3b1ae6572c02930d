/*
 * settings_load.h - the effective configuration of a library: the shared
 * settings from the database, the node's own keys from its dam.conf.
 *
 * Kept apart from core/settings.h (push, show, differences), which needs a
 * whole library handle: library.c calls this while it opens one.
 *
 * The rule (docs/configuration.md, docs/scale-out.md): when the settings
 * table has rows, every shared key comes from it (a shared key it lacks
 * takes its default) and dam.conf's shared keys are ignored; node keys
 * always come from dam.conf. An empty table (an SQLite library nobody ran
 * `dam config push` on) leaves dam.conf in charge of everything.
 */
#ifndef DAM_CORE_SETTINGS_LOAD_H
#define DAM_CORE_SETTINGS_LOAD_H

#include <stdint.h>

#include "db/db.h"
#include "util/config.h"
#include "util/err.h"

/* cfg holds dam.conf at conf loaded whole (config_load); when db's
 * settings table has rows, cfg becomes defaults + those rows + conf's node
 * keys. On a bad row (DAM_EINVAL, the message names it) or a database
 * error cfg is left as it was. */
int settings_apply(struct db *db, const char *conf, struct dam_config *cfg, struct dam_err *err);

/* Writes one row of the settings table (inside the caller's transaction). */
int settings_insert(struct db *db, const char *section, const char *key, const char *value, uint64_t now,
		    struct dam_err *err);

/* Replaces the settings table with cfg's shared keys, inside the caller's
 * transaction and without an audit row: for `dam init --database`, whose
 * library has no trail yet (as its id row; `dam config push` is audited). */
int settings_store_initial(struct db *db, const struct dam_config *cfg, uint64_t now, struct dam_err *err);

/* A stamp of the settings table that moves with every push (its newest
 * updated_at plus its row count; 0 when empty), so a running node can
 * tell that it must re-read them. */
int settings_stamp(struct db *db, int64_t *out, struct dam_err *err);

#endif

/*
 * config.h - the library's dam.conf (INI, parsed with inih).
 *
 * Unknown sections or keys are refused with their line number, so a typo
 * never silently falls back to a default.
 */
#ifndef DAM_UTIL_CONFIG_H
#define DAM_UTIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct dam_config {
	char name[128];            /* [library] name */
	char store_backend[16];    /* [store] backend = fs | s3 */
	/* [store] of backend = s3 (docs/configuration.md). The secret itself is
	 * never here: only where to find it (a variable or a private file). */
	char s3_endpoint[256];     /* endpoint: http(s)://host[:port] */
	char s3_bucket[64];        /* bucket */
	char s3_region[32];        /* region, "us-east-1" by default */
	char s3_key_id[128];       /* key_id: the access key id */
	char s3_secret_env[64];    /* secret_env: variable holding the secret */
	char s3_secret_file[512];  /* secret_file: file holding it, mode 0600/0400 */
	bool s3_virtual_host;      /* addressing = virtual (else path) */
	int s3_part_mb;            /* part_mb: multipart part size, 5..64 (0 = 8) */
	/* [database]: PostgreSQL instead of the library's dam.db. The URL holds
	 * no password (refused: dam.conf is no place for a secret); it comes
	 * from a variable, a private file, or libpq's own PGPASSFILE / service
	 * file. Loading checks that db_url holds no password, so messages may
	 * show it. */
	char db_url[1024];         /* url: postgres://[user@]host[:port]/db[?...]; "" = dam.db */
	char db_password_env[64];  /* password_env: variable holding the password */
	char db_password_file[512];/* password_file: file holding it, mode 0600/0400 */
	uint64_t max_pixels;       /* [limits] max_pixels */
	int max_dimension;         /* [limits] max_dimension */
	bool allow_magick;         /* [limits] allow_magick: PSD and other ImageMagick formats */
	int job_timeout_s;         /* [worker] timeout: wall clock seconds per job */
	int job_cpu_s;             /* [worker] cpu: CPU seconds per job */
	int job_memory_mb;         /* [worker] memory: address space per job child */
	int job_file_mb;           /* [worker] file_size: largest file a job may write */
	int job_attempts;          /* [worker] attempts before a job is failed */
	int job_lease_s;           /* [worker] lease: seconds a claimed job stays a
				    * worker's without a heartbeat */
	int workers;               /* [worker] processes: 0 = one per core */

	/* [delivery]: signed transform URLs, presets, the rendition cache and
	 * CDN purges (docs/delivery.md). */
	char base_url[256];        /* base_url: public origin of signed URLs; "" = the caller's */
	bool presets_only;         /* presets_only: refuse arbitrary transforms */
	int cache_mb;              /* cache_mb: rendition cache bound, 0 = off */
	int hot_cache_mb;          /* hot_cache_mb: renditions kept in memory by the event loops, 0 = off */
	int max_input_mp;          /* max_input_megapixels: largest master a transform reads */
	int max_output_mp;         /* max_output_megapixels */
	int max_ops;               /* max_operations per URL */
	char formats[64];          /* formats: allowed outputs, comma-separated */
	int transform_timeout_ms;  /* timeout_ms per transform */
	int max_age_s;             /* max_age: Cache-Control for unversioned URLs */
	char purge_edges[1024];    /* purge_edges: comma-separated base URLs of CDN edges */
	char purge_method[8];      /* purge_method: BAN or PURGE */
	char purge_http_url[512];  /* purge_http_url: commercial CDN call, "{key}" = asset id */
	char purge_http_method[8]; /* purge_http_method */
	char purge_http_body[1024];/* purge_http_body */
	char purge_http_header[512]; /* purge_http_header: one extra header line */

	/* [preset NAME] sections: spec = transform options, description = text.
	 * They override the built-in presets of the same name. */
	int npresets;
	/* Where the shared keys (presets included) come from: false, this
	 * dam.conf; true, the library's settings table (settings_apply). */
	bool shared_from_db;
	struct config_preset {
		char name[33];
		char spec[512];
		char description[256];
	} presets[32];
};

/* Where a key lives (docs/configuration.md). Shared: the library's, equal
 * on every node; once `dam config push` stored them, they come from the
 * database's settings table and dam.conf's are ignored. Node: this
 * machine's ([database], [store], [worker] processes, [delivery] cache_mb
 * and hot_cache_mb), always from its dam.conf. */
enum config_scope { CONFIG_SHARED = 0, CONFIG_NODE = 1 };

/* The scope of [section] key ("preset NAME" sections are shared), or -1
 * for a key dam.conf does not know (or refuses: the secrets). */
int config_key_scope(const char *section, const char *key);

/* Applies one entry as dam.conf's line "key = value" in [section] would.
 * DAM_EINVAL (message names the key; no "dam.conf:" prefix) on an unknown
 * key or a bad value. */
int config_set(struct dam_config *cfg, const char *section, const char *key, const char *value,
	       struct dam_err *err);

/* The text of [section] key in cfg, as config_set takes it back, into buf.
 * 0, or -1 for an unknown key or preset, or a value longer than size. */
int config_get(const struct dam_config *cfg, const char *section, const char *key, char *buf, size_t size);

/* Calls fn for every shared key of cfg, in the table's order, then for
 * spec and description of each [preset NAME]; value is borrowed for the
 * call. Stops at and returns fn's first negative return; else 0. */
typedef int (*config_entry_fn)(void *ctx, const char *section, const char *key, const char *value);
int config_each_shared(const struct dam_config *cfg, config_entry_fn fn, void *ctx);

/* Calls fn for every entry written in the file at path, as written (no
 * check, no defaults). Stops at fn's first negative return and returns it;
 * DAM_EIO when the file cannot be read, DAM_EINVAL when it is not INI. */
int config_each_file_entry(const char *path, config_entry_fn fn, void *ctx, struct dam_err *err);

/* Fills cfg with defaults. */
void config_defaults(struct dam_config *cfg);

/* Loads path over the defaults. DAM_ENOTFOUND if missing, DAM_EINVAL with the
 * line and key on a bad entry. */
int config_load(const char *path, struct dam_config *cfg, struct dam_err *err);

/* CONFIG_LOAD_ALL: every key (config_load). CONFIG_LOAD_NODE: only node
 * keys are applied; shared ones are still checked (a bad one is an error)
 * but left as cfg had them (the database's). */
enum config_load_mode { CONFIG_LOAD_ALL, CONFIG_LOAD_NODE };
int config_load_mode(const char *path, struct dam_config *cfg, enum config_load_mode mode, struct dam_err *err);

/* The text of a fresh dam.conf with every key and its default, commented. */
const char *config_default_text(void);

/* 0 when url is a PostgreSQL URL (postgres:// or postgresql://) without a
 * password in it (user:password@ or a password= parameter); DAM_EINVAL with
 * a message that never repeats the URL (it may hold the password). */
int config_check_db_url(const char *url, struct dam_err *err);

/* The text of a fresh dam.conf (config_default_text) whose [database]
 * section names url (and password_env / password_file when not NULL or
 * empty); url NULL or "": the default text. Caller frees; NULL when out of
 * memory. The caller has checked url (config_check_db_url). */
char *config_text_with_database(const char *url, const char *password_env, const char *password_file);

#endif

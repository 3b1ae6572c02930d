#include "util/config.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/strbuf.h"

void config_defaults(struct dam_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->name, sizeof cfg->name, "dam library");
	snprintf(cfg->store_backend, sizeof cfg->store_backend, "fs");
	snprintf(cfg->s3_region, sizeof cfg->s3_region, "us-east-1");
	cfg->max_pixels = 250000000ull;
	cfg->max_dimension = 50000;
	cfg->job_timeout_s = 300;
	cfg->job_cpu_s = 240;
	cfg->job_memory_mb = 2048;
	cfg->job_file_mb = 4096;
	cfg->job_attempts = 3;
	cfg->job_lease_s = 30;
	cfg->cache_mb = 1024;
	cfg->hot_cache_mb = 64;
	cfg->max_input_mp = 100;
	cfg->max_output_mp = 50;
	cfg->max_ops = 16;
	snprintf(cfg->formats, sizeof cfg->formats, "jpeg,png,webp,avif,jxl");
	cfg->transform_timeout_ms = 20000;
	cfg->max_age_s = 300;
	snprintf(cfg->purge_method, sizeof cfg->purge_method, "BAN");
	snprintf(cfg->purge_http_method, sizeof cfg->purge_http_method, "POST");
}

struct load_ctx {
	struct dam_config *cfg;
	struct dam_err *err;
	enum config_load_mode mode;
	struct dam_config *scratch; /* CONFIG_LOAD_NODE: where shared entries go */
	int bad_line;
};

static int parse_int(const char *v, long long lo, long long hi, long long *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") || !strcasecmp(v, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

/* Every key of dam.conf, with where it lives (docs/configuration.md, "where
 * it lives"). Shared keys are the library's: every node must apply the same
 * value, so once `dam config push` stored them they come from the
 * database's settings table. Node keys describe this machine (how it
 * reaches the database and the store, how much it caches, how many
 * processes it runs) and always come from its own dam.conf. [preset NAME]
 * sections are shared too (set_preset). */
enum key_type {
	KT_INT,    /* int in [lo, hi] */
	KT_U64,    /* uint64_t in [lo, hi] */
	KT_STR,    /* char[size] */
	KT_BOOL,   /* bool: true/false, yes/no, on/off, 1/0 */
	KT_UPPER,  /* char[size]: one of a, b, any case, kept upper-case */
	KT_BACKEND,/* [store] backend: fs | s3 */
	KT_ADDRESSING, /* [store] addressing: path | virtual (bool s3_virtual_host) */
	KT_DBURL,  /* [database] url, checked by config_check_db_url */
	KT_REFUSED,/* a secret, never accepted in dam.conf */
};

struct config_key {
	const char *section, *key;
	enum config_scope scope;
	enum key_type type;
	size_t offset, size;
	long long lo, hi;
	const char *a, *b;
};

#define F(f) offsetof(struct dam_config, f), sizeof(((struct dam_config *)0)->f)
#define KI(s, k, sc, f, lo, hi) { s, k, sc, KT_INT, F(f), lo, hi, NULL, NULL }
#define KS(s, k, sc, f) { s, k, sc, KT_STR, F(f), 0, 0, NULL, NULL }
#define KB(s, k, sc, f) { s, k, sc, KT_BOOL, F(f), 0, 0, NULL, NULL }
#define KU(s, k, sc, f, a, b) { s, k, sc, KT_UPPER, F(f), 0, 0, a, b }
#define SH CONFIG_SHARED
#define ND CONFIG_NODE
static const struct config_key keys[] = {
	KS("library", "name", SH, name),
	{ "store", "backend", ND, KT_BACKEND, F(store_backend), 0, 0, NULL, NULL },
	KS("store", "endpoint", ND, s3_endpoint),
	KS("store", "bucket", ND, s3_bucket),
	KS("store", "region", ND, s3_region),
	KS("store", "key_id", ND, s3_key_id),
	KS("store", "secret_env", ND, s3_secret_env),
	KS("store", "secret_file", ND, s3_secret_file),
	{ "store", "addressing", ND, KT_ADDRESSING, F(s3_virtual_host), 0, 0, NULL, NULL },
	KI("store", "part_mb", ND, s3_part_mb, 5, 64),
	{ "store", "secret", ND, KT_REFUSED, 0, 0, -3, 0, NULL, NULL },
	{ "database", "url", ND, KT_DBURL, F(db_url), 0, 0, NULL, NULL },
	KS("database", "password_env", ND, db_password_env),
	KS("database", "password_file", ND, db_password_file),
	{ "database", "password", ND, KT_REFUSED, 0, 0, -4, 0, NULL, NULL },
	{ "limits", "max_pixels", SH, KT_U64, F(max_pixels), 1, 1ll << 40, NULL, NULL },
	KI("limits", "max_dimension", SH, max_dimension, 1, 1000000),
	KB("limits", "allow_magick", SH, allow_magick),
	KI("worker", "timeout", SH, job_timeout_s, 1, 86400),
	KI("worker", "cpu", SH, job_cpu_s, 1, 86400),
	KI("worker", "memory", SH, job_memory_mb, 64, 1 << 20),
	KI("worker", "file_size", SH, job_file_mb, 1, 1 << 24),
	KI("worker", "attempts", SH, job_attempts, 1, 100),
	KI("worker", "lease", SH, job_lease_s, 1, 3600),
	KI("worker", "processes", ND, workers, 0, 256),
	KS("delivery", "base_url", SH, base_url),
	KB("delivery", "presets_only", SH, presets_only),
	KI("delivery", "cache_mb", ND, cache_mb, 0, 1 << 24),
	KI("delivery", "hot_cache_mb", ND, hot_cache_mb, 0, 1 << 20),
	KI("delivery", "max_input_megapixels", SH, max_input_mp, 1, 10000),
	KI("delivery", "max_output_megapixels", SH, max_output_mp, 1, 1000),
	KI("delivery", "max_operations", SH, max_ops, 1, 64),
	KS("delivery", "formats", SH, formats),
	KI("delivery", "timeout_ms", SH, transform_timeout_ms, 100, 600000),
	KI("delivery", "max_age", SH, max_age_s, 0, 31536000),
	KS("delivery", "purge_edges", SH, purge_edges),
	KU("delivery", "purge_method", SH, purge_method, "BAN", "PURGE"),
	KS("delivery", "purge_http_url", SH, purge_http_url),
	KU("delivery", "purge_http_method", SH, purge_http_method, "POST", "PUT"),
	KS("delivery", "purge_http_body", SH, purge_http_body),
	KS("delivery", "purge_http_header", SH, purge_http_header),
};
#undef SH
#undef ND

static const struct config_key *find_key(const char *s, const char *k)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!strcmp(keys[i].section, s) && !strcmp(keys[i].key, k))
			return &keys[i];
	return NULL;
}

int config_key_scope(const char *section, const char *key)
{
	const struct config_key *ck;

	if (!strncmp(section, "preset ", 7))
		return !strcmp(key, "spec") || !strcmp(key, "description") ? CONFIG_SHARED : -1;
	ck = find_key(section, key);
	return ck && ck->type != KT_REFUSED ? (int)ck->scope : -1;
}

static int set_string(char *dst, size_t size, const char *v)
{
	return snprintf(dst, size, "%s", v) < (int)size ? 0 : -1;
}

/* [preset NAME]: each section name adds (or finds) one preset. */
static int set_preset(struct dam_config *cfg, const char *name, const char *k, const char *v)
{
	struct config_preset *p = NULL;
	size_t n = strlen(name);

	if (n == 0 || n > 32 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
		return -1;
	if (strcmp(k, "spec") && strcmp(k, "description"))
		return -2;
	for (int i = 0; i < cfg->npresets; i++)
		if (!strcmp(cfg->presets[i].name, name))
			p = &cfg->presets[i];
	if (!p) {
		if (cfg->npresets >= (int)(sizeof cfg->presets / sizeof cfg->presets[0]))
			return -1;
		p = &cfg->presets[cfg->npresets++];
		memset(p, 0, sizeof *p);
		memcpy(p->name, name, n + 1);
	}
	if (!strcmp(k, "spec"))
		return set_string(p->spec, sizeof p->spec, v);
	return set_string(p->description, sizeof p->description, v);
}

static int set_upper(char *dst, size_t size, const char *v, const char *a, const char *b)
{
	if (strcasecmp(v, a) && strcasecmp(v, b))
		return -1;
	set_string(dst, size, v);
	for (char *c = dst; *c; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	return 0;
}

/* Applies one entry: 0, -1 bad value, -2 unknown key, -3/-4 a refused
 * secret (its code in lo), -5 a bad database URL. */
static int set_key(struct dam_config *cfg, const char *s, const char *k, const char *v)
{
	const struct config_key *ck;
	char *field;
	long long n;

	if (!strncmp(s, "preset ", 7))
		return set_preset(cfg, s + 7, k, v);
	if (!(ck = find_key(s, k)))
		return -2;
	field = (char *)cfg + ck->offset;
	switch (ck->type) {
	case KT_INT:
		if (parse_int(v, ck->lo, ck->hi, &n) < 0)
			return -1;
		*(int *)field = (int)n;
		return 0;
	case KT_U64:
		if (parse_int(v, ck->lo, ck->hi, &n) < 0)
			return -1;
		*(uint64_t *)field = (uint64_t)n;
		return 0;
	case KT_STR:
		return set_string(field, ck->size, v);
	case KT_BOOL:
		return parse_bool(v, (bool *)field);
	case KT_UPPER:
		return set_upper(field, ck->size, v, ck->a, ck->b);
	case KT_BACKEND:
		return strcmp(v, "fs") && strcmp(v, "s3") ? -1 : set_string(field, ck->size, v);
	case KT_ADDRESSING:
		if (strcmp(v, "path") && strcmp(v, "virtual"))
			return -1;
		*(bool *)field = !strcmp(v, "virtual");
		return 0;
	case KT_DBURL:
		return config_check_db_url(v, NULL) < 0 ? -5 : set_string(field, ck->size, v);
	case KT_REFUSED:
		/* dam.conf is read by anyone who may read the library's
		 * settings (and ends up in backups and tickets): the secret
		 * must live elsewhere. */
		return (int)ck->lo;
	}
	return -2;
}

/* The message of set_key's code rc for the entry (section, key, value). */
static int set_error(struct dam_err *err, int rc, const char *section, const char *key, const char *value)
{
	if (rc == -2)
		return dam_err_set(err, DAM_EINVAL, key, "unknown key \"%s\" in section [%s]", key, section);
	if (rc == -3)
		return dam_err_set(err, DAM_EINVAL, key,
				   "[store] secret is refused: a secret must not sit in dam.conf in plain "
				   "text; name an environment variable (secret_env) or a private file (secret_file)");
	if (rc == -4)
		return dam_err_set(err, DAM_EINVAL, key,
				   "[database] password is refused: a password must not sit in dam.conf "
				   "in plain text; name an environment variable (password_env), a private file "
				   "(password_file), or use libpq's PGPASSFILE or service file");
	if (rc == -5) {
		struct dam_err why = { 0 };
		config_check_db_url(value, &why); /* its message, without the URL */
		return dam_err_set(err, DAM_EINVAL, key, "%s", why.msg);
	}
	return dam_err_set(err, DAM_EINVAL, key, "bad value for [%s] %s: \"%s\"", section, key, value);
}

int config_set(struct dam_config *cfg, const char *section, const char *key, const char *value, struct dam_err *err)
{
	int rc = set_key(cfg, section, key, value);

	return rc == 0 ? 0 : set_error(err, rc, section, key, value);
}

int config_get(const struct dam_config *cfg, const char *section, const char *key, char *buf, size_t size)
{
	const struct config_key *ck = find_key(section, key);
	const char *field;
	int n;

	if (!strncmp(section, "preset ", 7)) {
		for (int i = 0; i < cfg->npresets; i++)
			if (!strcmp(cfg->presets[i].name, section + 7))
				return snprintf(buf, size, "%s", !strcmp(key, "spec") ? cfg->presets[i].spec
										: cfg->presets[i].description) < (int)size ? 0 : -1;
		return -1;
	}
	if (!ck || ck->type == KT_REFUSED)
		return -1;
	field = (const char *)cfg + ck->offset;
	switch (ck->type) {
	case KT_INT:
		n = snprintf(buf, size, "%d", *(const int *)field);
		break;
	case KT_U64:
		n = snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)field);
		break;
	case KT_BOOL:
		n = snprintf(buf, size, "%s", *(const bool *)field ? "true" : "false");
		break;
	case KT_ADDRESSING:
		n = snprintf(buf, size, "%s", *(const bool *)field ? "virtual" : "path");
		break;
	default:
		n = snprintf(buf, size, "%s", field);
	}
	return n >= 0 && (size_t)n < size ? 0 : -1;
}

int config_each_shared(const struct dam_config *cfg, config_entry_fn fn, void *ctx)
{
	char v[1100], section[48];
	int rc;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (keys[i].scope != CONFIG_SHARED)
			continue;
		config_get(cfg, keys[i].section, keys[i].key, v, sizeof v);
		if ((rc = fn(ctx, keys[i].section, keys[i].key, v)) < 0)
			return rc;
	}
	for (int i = 0; i < cfg->npresets; i++) {
		snprintf(section, sizeof section, "preset %s", cfg->presets[i].name);
		if ((rc = fn(ctx, section, "spec", cfg->presets[i].spec)) < 0 ||
		    (rc = fn(ctx, section, "description", cfg->presets[i].description)) < 0)
			return rc;
	}
	return 0;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *c = user;
	/* In node mode a shared entry is still checked (a typo is an error
	 * either way) but lands in the scratch copy: the database's value
	 * stands. */
	bool scratch = c->mode == CONFIG_LOAD_NODE && config_key_scope(section, key) == CONFIG_SHARED;
	int rc = set_key(scratch ? c->scratch : c->cfg, section, key, value);

	if (rc == 0)
		return 1;
	c->bad_line = 1;
	set_error(c->err, rc, section, key, value);
	if (c->err) {
		/* Truncating a message that long is fine. */
		size_t n = strlen(c->err->msg), room = sizeof c->err->msg - 1, pre = 10;
		if (n > room - pre)
			n = room - pre;
		memmove(c->err->msg + pre, c->err->msg, n);
		memcpy(c->err->msg, "dam.conf: ", pre);
		c->err->msg[pre + n] = '\0';
	}
	return 0;
}

/* The userinfo of a URL ("user:pw@" after the scheme) holds a password
 * when it has a ':'; a parameter "password=" anywhere in the query does
 * too (libpq takes both). */
int config_check_db_url(const char *url, struct dam_err *err)
{
	const char *p, *end, *at, *q;

	if (!strncmp(url, "postgres://", 11))
		p = url + 11;
	else if (!strncmp(url, "postgresql://", 13))
		p = url + 13;
	else
		return dam_err_set(err, DAM_EINVAL, "url",
				   "[database] url must start with postgres:// or postgresql://");
	end = p + strcspn(p, "/?");
	at = memchr(p, '@', (size_t)(end - p));
	if (at && memchr(p, ':', (size_t)(at - p)))
		goto password;
	for (q = strchr(p, '?'); q; q = strchr(q + 1, '&'))
		if (!strncasecmp(q + 1, "password=", 9))
			goto password;
	return 0;
password:
	return dam_err_set(err, DAM_EINVAL, "url",
			   "[database] url holds a password, which is refused: a password must not sit in "
			   "dam.conf or on a command line; put it in a private file (password_file), an "
			   "environment variable (password_env), or libpq's PGPASSFILE or service file");
}

int config_load(const char *path, struct dam_config *cfg, struct dam_err *err)
{
	return config_load_mode(path, cfg, CONFIG_LOAD_ALL, err);
}

int config_load_mode(const char *path, struct dam_config *cfg, enum config_load_mode mode, struct dam_err *err)
{
	struct load_ctx c = { cfg, err, mode, NULL, 0 };
	FILE *f = fopen(path, "r");
	int rc;

	if (!f)
		return dam_err_errno(err, DAM_EIO, errno, "cannot read %s", path);
	if (mode == CONFIG_LOAD_NODE && !(c.scratch = malloc(sizeof *c.scratch))) {
		fclose(f);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	if (c.scratch)
		config_defaults(c.scratch);
	rc = ini_parse_file(f, on_entry, &c);
	fclose(f);
	free(c.scratch);
	if (rc == 0)
		return 0;
	if (c.bad_line)
		return DAM_EINVAL;
	return dam_err_set(err, DAM_EINVAL, NULL, "dam.conf line %d: not valid INI", rc);
}

const char *config_default_text(void)
{
	return "# dam library configuration (INI). See docs/configuration.md.\n"
	       "[library]\n"
	       "name = dam library\n"
	       "\n"
	       "[store]\n"
	       "# fs: content-addressed objects/ folder next to this file; s3: an\n"
	       "# S3-compatible bucket (endpoint, bucket, region, key_id, secret_env or\n"
	       "# secret_file, addressing = path|virtual, part_mb; docs/scale-out.md)\n"
	       "backend = fs\n"
	       "\n"
	       "[database]\n"
	       "# empty: dam.db (SQLite) in this folder; or PostgreSQL:\n"
	       "# url = postgres://dam@db.example.com/dam (no password here: give\n"
	       "# password_env = VAR or password_file = /private/file, or use libpq's\n"
	       "# PGPASSFILE or service file; docs/scale-out.md)\n"
	       "\n"
	       "[limits]\n"
	       "# images above these are refused before decoding (decompression bombs)\n"
	       "max_pixels = 250000000\n"
	       "max_dimension = 50000\n"
	       "# allow libvips's ImageMagick loader (PSD and rarer formats); it is a\n"
	       "# large attack surface, so it is off unless you need it\n"
	       "allow_magick = false\n"
	       "\n"
	       "[worker]\n"
	       "# per job child process: wall clock and CPU seconds, address space MB,\n"
	       "# largest file it may write MB\n"
	       "timeout = 300\n"
	       "cpu = 240\n"
	       "memory = 2048\n"
	       "file_size = 4096\n"
	       "attempts = 3\n"
	       "# seconds a claimed job stays its worker's without a heartbeat (renewed\n"
	       "# every lease/3); then any worker, on any machine, runs it again\n"
	       "lease = 30\n"
	       "# worker processes started by ingest and serve; 0 = one per core\n"
	       "processes = 0\n"
	       "\n"
	       "[delivery]\n"
	       "# public origin of signed URLs (e.g. https://media.example.com); empty:\n"
	       "# the API uses the origin the client called, `dam url` http://127.0.0.1:8080\n"
	       "base_url =\n"
	       "# true: only preset URLs are served (no arbitrary transforms)\n"
	       "presets_only = false\n"
	       "# rendition cache bound in MB (least recently used evicted); 0 = off\n"
	       "cache_mb = 1024\n"
	       "# renditions up to 1 MB kept in memory and answered by the event loops\n"
	       "# while nothing in the library changes (MB, split among the loops); 0 = off\n"
	       "hot_cache_mb = 64\n"
	       "max_input_megapixels = 100\n"
	       "max_output_megapixels = 50\n"
	       "max_operations = 16\n"
	       "formats = jpeg,png,webp,avif,jxl\n"
	       "timeout_ms = 20000\n"
	       "# Cache-Control max-age of URLs without a pinned version (seconds)\n"
	       "max_age = 300\n"
	       "# CDN edges told to drop cached answers when what they were made\n"
	       "# from changes (an asset, a signing key, a preset)\n"
	       "# (comma-separated base URLs) and how: BAN or PURGE\n"
	       "purge_edges =\n"
	       "purge_method = BAN\n"
	       "# one HTTP call per purge for commercial CDNs; {key} = the surrogate\n"
	       "# key (asset-<id>, key-<id>, preset-<name>)\n"
	       "purge_http_url =\n"
	       "purge_http_method = POST\n"
	       "purge_http_body =\n"
	       "purge_http_header =\n"
	       "\n"
	       "# Presets override or add to the built-in ones (docs/delivery.md):\n"
	       "# [preset hero]\n"
	       "# spec = w_1600,h_900,fit_cover,crop_smart,f_auto,q_80\n"
	       "# description = Home page hero banner\n";
}

char *config_text_with_database(const char *url, const char *password_env, const char *password_file)
{
	const char *text = config_default_text(), *mark = "[database]\n";
	const char *at = strstr(text, mark) + strlen(mark);
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;

	if (!url || !*url)
		return strdup(text);
	rc |= strbuf_add(&sb, text, (size_t)(at - text));
	rc |= strbuf_addf(&sb, "url = %s\n", url);
	if (password_env && *password_env)
		rc |= strbuf_addf(&sb, "password_env = %s\n", password_env);
	if (password_file && *password_file)
		rc |= strbuf_addf(&sb, "password_file = %s\n", password_file);
	rc |= strbuf_adds(&sb, at);
	if (rc) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

struct each_ctx {
	config_entry_fn fn;
	void *ctx;
	int rc;
};

static int on_each(void *user, const char *section, const char *key, const char *value)
{
	struct each_ctx *c = user;

	/* inih goes on after a handler's error: keep the first. */
	if (c->rc >= 0)
		c->rc = c->fn(c->ctx, section, key, value);
	return c->rc < 0 ? 0 : 1;
}

int config_each_file_entry(const char *path, config_entry_fn fn, void *ctx, struct dam_err *err)
{
	struct each_ctx c = { fn, ctx, 0 };
	FILE *f = fopen(path, "r");
	int rc;

	if (!f)
		return dam_err_errno(err, DAM_EIO, errno, "cannot read %s", path);
	rc = ini_parse_file(f, on_each, &c);
	fclose(f);
	if (c.rc < 0)
		return c.rc;
	return rc == 0 ? 0 : dam_err_set(err, DAM_EINVAL, NULL, "dam.conf line %d: not valid INI", rc);
}

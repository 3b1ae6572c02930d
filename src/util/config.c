#include "util/config.h"

#include <errno.h>
#include <ini.h>
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

struct int_key {
	const char *section, *key;
	size_t offset;
	long long lo, hi;
};

#define INT_KEY(s, k, f, lo, hi) { s, k, offsetof(struct dam_config, f), lo, hi }
static const struct int_key int_keys[] = {
	INT_KEY("limits", "max_dimension", max_dimension, 1, 1000000),
	INT_KEY("worker", "timeout", job_timeout_s, 1, 86400),
	INT_KEY("worker", "cpu", job_cpu_s, 1, 86400),
	INT_KEY("worker", "memory", job_memory_mb, 64, 1 << 20),
	INT_KEY("worker", "file_size", job_file_mb, 1, 1 << 24),
	INT_KEY("worker", "attempts", job_attempts, 1, 100),
	INT_KEY("worker", "lease", job_lease_s, 1, 3600),
	INT_KEY("worker", "processes", workers, 0, 256),
	INT_KEY("delivery", "cache_mb", cache_mb, 0, 1 << 24),
	INT_KEY("delivery", "hot_cache_mb", hot_cache_mb, 0, 1 << 20),
	INT_KEY("delivery", "max_input_megapixels", max_input_mp, 1, 10000),
	INT_KEY("delivery", "max_output_megapixels", max_output_mp, 1, 1000),
	INT_KEY("delivery", "max_operations", max_ops, 1, 64),
	INT_KEY("delivery", "timeout_ms", transform_timeout_ms, 100, 600000),
	INT_KEY("delivery", "max_age", max_age_s, 0, 31536000),
	INT_KEY("store", "part_mb", s3_part_mb, 5, 64),
};

struct str_key {
	const char *section, *key;
	size_t offset, size;
};

#define STR_KEY(s, k, f) { s, k, offsetof(struct dam_config, f), sizeof(((struct dam_config *)0)->f) }
static const struct str_key str_keys[] = {
	STR_KEY("library", "name", name),
	STR_KEY("delivery", "base_url", base_url),
	STR_KEY("delivery", "formats", formats),
	STR_KEY("delivery", "purge_edges", purge_edges),
	STR_KEY("delivery", "purge_http_url", purge_http_url),
	STR_KEY("delivery", "purge_http_body", purge_http_body),
	STR_KEY("delivery", "purge_http_header", purge_http_header),
	STR_KEY("store", "endpoint", s3_endpoint),
	STR_KEY("store", "bucket", s3_bucket),
	STR_KEY("store", "region", s3_region),
	STR_KEY("store", "key_id", s3_key_id),
	STR_KEY("store", "secret_env", s3_secret_env),
	STR_KEY("store", "secret_file", s3_secret_file),
	STR_KEY("database", "password_env", db_password_env),
	STR_KEY("database", "password_file", db_password_file),
};

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
	if (!strcmp(k, "description"))
		return set_string(p->description, sizeof p->description, v);
	return -2;
}

static int set_choice(char *dst, size_t size, const char *v, const char *a, const char *b)
{
	if (strcasecmp(v, a) && strcasecmp(v, b))
		return -1;
	set_string(dst, size, v);
	for (char *c = dst; *c; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	return 0;
}

static int set_key(struct dam_config *cfg, const char *s, const char *k, const char *v)
{
	long long n;

	for (size_t i = 0; i < sizeof int_keys / sizeof int_keys[0]; i++) {
		const struct int_key *ik = &int_keys[i];
		if (strcmp(ik->section, s) || strcmp(ik->key, k))
			continue;
		if (parse_int(v, ik->lo, ik->hi, &n) < 0)
			return -1;
		*(int *)((char *)cfg + ik->offset) = (int)n;
		return 0;
	}
	for (size_t i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++) {
		const struct str_key *sk = &str_keys[i];
		if (!strcmp(sk->section, s) && !strcmp(sk->key, k))
			return set_string((char *)cfg + sk->offset, sk->size, v);
	}
	if (!strncmp(s, "preset ", 7))
		return set_preset(cfg, s + 7, k, v);
	if (!strcmp(s, "delivery") && !strcmp(k, "presets_only"))
		return parse_bool(v, &cfg->presets_only);
	if (!strcmp(s, "delivery") && !strcmp(k, "purge_method"))
		return set_choice(cfg->purge_method, sizeof cfg->purge_method, v, "BAN", "PURGE");
	if (!strcmp(s, "delivery") && !strcmp(k, "purge_http_method"))
		return set_choice(cfg->purge_http_method, sizeof cfg->purge_http_method, v, "POST", "PUT");
	if (!strcmp(s, "store") && !strcmp(k, "backend"))
		return strcmp(v, "fs") && strcmp(v, "s3") ? -1 : set_string(cfg->store_backend, sizeof cfg->store_backend, v);
	if (!strcmp(s, "store") && !strcmp(k, "addressing")) {
		if (strcmp(v, "path") && strcmp(v, "virtual"))
			return -1;
		cfg->s3_virtual_host = !strcmp(v, "virtual");
		return 0;
	}
	/* dam.conf is read by anyone who may read the library's settings (and
	 * ends up in backups and tickets): the secret must live elsewhere. */
	if (!strcmp(s, "store") && !strcmp(k, "secret"))
		return -3;
	if (!strcmp(s, "database") && !strcmp(k, "password"))
		return -4;
	if (!strcmp(s, "database") && !strcmp(k, "url")) {
		if (config_check_db_url(v, NULL) < 0)
			return -5;
		return set_string(cfg->db_url, sizeof cfg->db_url, v);
	}
	if (!strcmp(s, "limits") && !strcmp(k, "max_pixels")) {
		if (parse_int(v, 1, 1ll << 40, &n) < 0)
			return -1;
		cfg->max_pixels = (uint64_t)n;
		return 0;
	}
	if (!strcmp(s, "limits") && !strcmp(k, "allow_magick"))
		return parse_bool(v, &cfg->allow_magick);
	return -2;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *c = user;
	int rc = set_key(c->cfg, section, key, value);

	if (rc == 0)
		return 1;
	c->bad_line = 1;
	if (rc == -2)
		dam_err_set(c->err, DAM_EINVAL, key, "dam.conf: unknown key \"%s\" in section [%s]", key, section);
	else if (rc == -3)
		dam_err_set(c->err, DAM_EINVAL, key,
			    "dam.conf: [store] secret is refused: a secret must not sit in dam.conf in plain "
			    "text; name an environment variable (secret_env) or a private file (secret_file)");
	else if (rc == -4)
		dam_err_set(c->err, DAM_EINVAL, key,
			    "dam.conf: [database] password is refused: a password must not sit in dam.conf "
			    "in plain text; name an environment variable (password_env), a private file "
			    "(password_file), or use libpq's PGPASSFILE or service file");
	else if (rc == -5) {
		struct dam_err why = { 0 };
		config_check_db_url(value, &why); /* its message, without the URL */
		dam_err_set(c->err, DAM_EINVAL, key, "dam.conf: %s", why.msg);
	}
	else
		dam_err_set(c->err, DAM_EINVAL, key, "dam.conf: bad value for [%s] %s: \"%s\"", section, key, value);
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
	struct load_ctx c = { cfg, err, 0 };
	FILE *f = fopen(path, "r");
	int rc;

	if (!f)
		return dam_err_errno(err, DAM_EIO, errno, "cannot read %s", path);
	rc = ini_parse_file(f, on_entry, &c);
	fclose(f);
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

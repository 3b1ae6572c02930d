#include "util/config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void config_defaults(struct dam_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->name, sizeof cfg->name, "dam library");
	snprintf(cfg->store_backend, sizeof cfg->store_backend, "fs");
	cfg->max_pixels = 250000000ull;
	cfg->max_dimension = 50000;
	cfg->job_timeout_s = 300;
	cfg->job_cpu_s = 240;
	cfg->job_memory_mb = 2048;
	cfg->job_file_mb = 4096;
	cfg->job_attempts = 3;
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
	INT_KEY("worker", "processes", workers, 0, 256),
};

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
	if (!strcmp(s, "library") && !strcmp(k, "name"))
		return snprintf(cfg->name, sizeof cfg->name, "%s", v) < (int)sizeof cfg->name ? 0 : -1;
	if (!strcmp(s, "store") && !strcmp(k, "backend"))
		return strcmp(v, "fs") ? -1 : (snprintf(cfg->store_backend, sizeof cfg->store_backend, "%s", v), 0);
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
	else
		dam_err_set(c->err, DAM_EINVAL, key, "dam.conf: bad value for [%s] %s: \"%s\"", section, key, value);
	return 0;
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
	       "# fs: content-addressed objects/ folder next to this file\n"
	       "backend = fs\n"
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
	       "# worker processes started by ingest and serve; 0 = one per core\n"
	       "processes = 0\n";
}

#include "http/server_ctx.h"

#include <stdio.h>
#include <string.h>

#include "core/settings.h"
#include "util/timeutil.h"

static void parse_trusted(struct server_ctx *srv, const char *list)
{
	const char *p = list;

	while (p && *p && srv->ntrusted < 16) {
		size_t n = strcspn(p, ", ");
		if (n && n < sizeof srv->trusted[0]) {
			memcpy(srv->trusted[srv->ntrusted], p, n);
			srv->trusted[srv->ntrusted++][n] = '\0';
		}
		p += n;
		p += strspn(p, ", ");
	}
}

void server_ctx_init(struct server_ctx *srv, const struct server_opts *opts)
{
	srv->opts = *opts;
	if (!srv->opts.max_upload)
		srv->opts.max_upload = 256u << 20;
	if (!srv->opts.tus_chunk_max)
		srv->opts.tus_chunk_max = 16u << 20;
	if (!srv->opts.max_conns_per_client)
		srv->opts.max_conns_per_client = 256;
	if (!srv->opts.stop_deadline_s)
		srv->opts.stop_deadline_s = 20;
	snprintf(srv->root, sizeof srv->root, "%s", opts->root);
	snprintf(srv->exe, sizeof srv->exe, "%s", opts->exe ? opts->exe : "/proc/self/exe");
	pthread_mutex_init(&srv->cfg_lock, NULL);
	parse_trusted(srv, opts->trusted_proxies);
	srv->started_ms = time_now_ms();
}

int server_config_load(struct server_ctx *srv, struct dam_err *err)
{
	struct dam_config cfg;
	char path[4200];
	int rc;

	/* dam.conf checked whole first (a bad line is refused even when the
	 * database's settings would hide it), then the effective settings. */
	config_defaults(&cfg);
	snprintf(path, sizeof path, "%s/dam.conf", srv->root);
	if ((rc = config_load(path, &cfg, err)) < 0 || (rc = settings_load_root(srv->root, &cfg, err)) < 0)
		return rc;
	pthread_mutex_lock(&srv->cfg_lock);
	srv->cfg = cfg;
	auth_limits_default(&srv->auth_limits);
	pthread_mutex_unlock(&srv->cfg_lock);
	atomic_fetch_add(&srv->cfg_generation, 1);
	return 0;
}

void server_config_refresh(struct server_ctx *srv, struct dam *dam, int *seen)
{
	int gen = atomic_load(&srv->cfg_generation);

	if (gen == *seen)
		return;
	pthread_mutex_lock(&srv->cfg_lock);
	dam->cfg = srv->cfg;
	pthread_mutex_unlock(&srv->cfg_lock);
	*seen = gen;
}

void server_auth_limits(struct server_ctx *srv, struct auth_limits *out)
{
	pthread_mutex_lock(&srv->cfg_lock);
	*out = srv->auth_limits;
	pthread_mutex_unlock(&srv->cfg_lock);
}

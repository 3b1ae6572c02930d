/* cmd_serve.c - `dam serve`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "http/server_run.h"

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "workers", required_argument, NULL, 'w' },
		{ "threads", required_argument, NULL, 't' }, { "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' }, { "trusted-proxies", required_argument, NULL, 'p' },
		{ "max-upload", required_argument, NULL, 'u' }, { "quiet", no_argument, NULL, 'q' },
		{ "stop-deadline", required_argument, NULL, 'd' }, { "max-conns-per-client", required_argument, NULL, 'm' },
		{ "no-workers", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_opts so = { 0 };
	struct dam_err err;
	struct dam *dam;
	char *root;
	int c, code;

	so.listen = "127.0.0.1:8080";
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;
		long v = optarg ? strtol(optarg, &end, 10) : 0;
		bool num_ok = optarg && end && !*end && v >= -1;
		switch (c) {
		case 'l': so.listen = optarg; break;
		case 'c': so.tls_cert = optarg; break;
		case 'k': so.tls_key = optarg; break;
		case 'p': so.trusted_proxies = optarg; break;
		case 'q': so.quiet = true; break;
		/* An API and delivery node: the queue's jobs are for separate
		 * `dam worker` processes (on this or other machines). */
		case 'n': so.workers = -1; break;
		case 'w':
			if (!num_ok || v > 64)
				return cli_usage("serve", "--workers wants -1 (none), 0 (one per core) or up to 64");
			so.workers = (int)v;
			break;
		case 't':
			if (!num_ok || v < 1 || v > 256)
				return cli_usage("serve", "--threads wants 1-256");
			so.loops = (int)v;
			break;
		case 'u':
			if (!num_ok || v < 1)
				return cli_usage("serve", "--max-upload wants a size in MB");
			so.max_upload = (size_t)v << 20;
			break;
		case 'm':
			if (!num_ok || v < 1 || v > 100000)
				return cli_usage("serve", "--max-conns-per-client wants 1-100000");
			so.max_conns_per_client = (int)v;
			break;
		case 'd':
			if (!num_ok || v < 1 || v > 3600)
				return cli_usage("serve", "--stop-deadline wants 1-3600 seconds");
			so.stop_deadline_s = (int)v;
			break;
		default: return cli_usage("serve", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("serve", "unexpected argument %s", argv[optind]);
	if (!so.tls_cert != !so.tls_key)
		return cli_usage("serve", "--tls-cert and --tls-key go together");
	/* Like a PostgreSQL server: whatever the server's threads, libraries
	 * and job children write (the library, h2o's spilled request bodies)
	 * is the owner's alone, on top of the modes dam passes itself. */
	umask(077);
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	cli_settings_warn(dam, "serve");
	root = strdup(dam->root);
	library_close(dam);
	so.root = root;
	dam_err_clear(&err);
	code = server_run(&so, &err) < 0 ? cli_fail(&err) : EXIT_OK;
	free(root);
	return code;
}

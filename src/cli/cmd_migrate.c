/* cmd_migrate.c - dam migrate: the library to another database and store. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/migrate.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

#define CONF_MAX (1 << 20)

/* Appends text without its [database] and [store] sections: the source's
 * settings (presets, limits, languages ...) move with the library; where
 * its data lives is the target's own. */
static int conf_without_location(const char *text, struct strbuf *out)
{
	bool skip = false;
	int rc = 0;

	for (const char *p = text; *p && rc == 0;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
		const char *s = p;

		while (s < p + n && (*s == ' ' || *s == '\t'))
			s++;
		if (*s == '[')
			skip = !strncmp(s, "[database]", 10) || !strncmp(s, "[store]", 7);
		if (!skip)
			rc = strbuf_add(out, p, n);
		p += n;
	}
	return rc;
}

/* Makes dir a new library whose dam.conf is the source's, located at the
 * target's database and store (store_conf: a file with a [store] section,
 * or NULL for the library's folder). */
static int make_target(struct dam *from, const char *dir, const char *store_conf, struct dam_err *err)
{
	struct strbuf conf = STRBUF_INIT, path = STRBUF_INIT;
	char *text = NULL, *store = NULL;
	size_t len;
	int rc;

	if ((rc = library_init(dir, err)) < 0)
		goto out;
	if (strbuf_addf(&path, "%s/dam.conf", from->root) < 0) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if ((rc = fs_read_all(path.buf, CONF_MAX, &text, &len, err)) < 0 ||
	    (store_conf && (rc = fs_read_all(store_conf, CONF_MAX, &store, &len, err)) < 0))
		goto out;
	if (conf_without_location(text, &conf) < 0 || strbuf_adds(&conf, "\n") < 0 ||
	    strbuf_adds(&conf, store ? store : "[store]\nbackend = fs\n") < 0 || strbuf_adds(&conf, "\n") < 0) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	strbuf_reset(&path);
	if (strbuf_addf(&path, "%s/dam.conf", dir) < 0) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	rc = fs_write_atomic(path.buf, conf.buf ? conf.buf : "", conf.len, 0, err);
out:
	free(text);
	free(store);
	strbuf_release(&conf);
	strbuf_release(&path);
	return rc < 0 ? rc : 0;
}

static void on_progress(void *arg, const char *phase, uint64_t done, uint64_t total)
{
	struct progress *pg = arg;

	progress_update(pg, (int64_t)done, (int64_t)total, 0, phase);
}

static int migrate_to(struct cli *cli, const char *dir, const char *store_conf, bool verify_only)
{
	struct migrate_report r;
	struct progress pg;
	struct dam *from = NULL, *to = NULL;
	struct dam_err err;
	int code = EXIT_OK, rc = 0;
	char conf[4200];

	dam_err_clear(&err);
	if (cli_open(cli, &from, &code) < 0)
		return code;
	snprintf(conf, sizeof conf, "%s/dam.conf", dir);
	if (access(conf, F_OK) < 0) {
		if (verify_only) {
			rc = dam_err_set(&err, DAM_ENOTFOUND, NULL, "%s is not a dam library: nothing to verify", dir);
			goto out;
		}
		if ((rc = make_target(from, dir, store_conf, &err)) < 0)
			goto out;
	} else if (store_conf) {
		rc = dam_err_set(&err, DAM_EINVAL, "--to-store-conf",
				 "%s is a library already: its dam.conf says where its store is (no --to-store-conf)", dir);
		goto out;
	}
	if ((rc = library_open(dir, &to, &err)) < 0)
		goto out;
	progress_init(&pg, "migrate", !isatty(STDERR_FILENO));
	if (!verify_only) {
		rc = library_migrate(from, to, on_progress, &pg, &r, &err);
		progress_finish(&pg);
		if (rc < 0)
			goto out;
		printf("copied %llu blobs (%llu bytes; %llu were there already), %llu rows of %d tables; "
		       "reindexed %d assets\n",
		       (unsigned long long)r.blobs, (unsigned long long)r.bytes, (unsigned long long)r.blobs_present,
		       (unsigned long long)r.rows, r.tables, r.reindexed);
		progress_init(&pg, "verify", !isatty(STDERR_FILENO));
	}
	rc = library_migrate_verify(from, to, on_progress, &pg, &err);
	progress_finish(&pg);
	if (rc == 0)
		printf("verified: every row and blob of %s is in %s\n", from->root, to->root);
out:
	library_close(to);
	library_close(from);
	return rc < 0 ? cli_fail(&err) : EXIT_OK;
}

int cmd_migrate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "to-store-conf", required_argument, NULL, 's' },
		{ "verify-only", no_argument, NULL, 'v' },
		{ 0 },
	};
	const char *dir = NULL, *store_conf = NULL;
	bool verify_only = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': dir = optarg; break;
		case 's': store_conf = optarg; break;
		case 'v': verify_only = true; break;
		default: return cli_usage("migrate", "unknown or incomplete option %s", argv[optind - 1]);
		}
	}
	if (!dir || optind != argc)
		return cli_usage("migrate", "give the target folder with --to DIR");
	return migrate_to(cli, dir, store_conf, verify_only);
}

/* cmd_migrate.c - dam migrate: the library to another database and store. */
#include <ctype.h>
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

/* Whether a section (its header line, from the '[') is where a library's
 * data lives: the target's own, never the source's. */
static bool is_location(const char *header)
{
	return !strncmp(header, "[database]", 10) || !strncmp(header, "[store]", 7);
}

static bool is_not_location(const char *header) { return !is_location(header); }
static bool is_database(const char *header) { return !strncmp(header, "[database]", 10); }

/* Appends the lines of text that sit in a section want() accepts (lines
 * before the first header count as want("")). */
static int sections(const char *text, bool (*want)(const char *header), struct strbuf *out)
{
	bool in = want("");
	int rc = 0;

	for (const char *p = text; *p && rc == 0;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
		const char *s = p;

		while (s < p + n && (*s == ' ' || *s == '\t'))
			s++;
		if (*s == '[')
			in = want(s);
		if (in)
			rc = strbuf_add(out, p, n);
		p += n;
	}
	return rc;
}

static int read_conf(const char *dir, char **text, struct dam_err *err)
{
	char path[4200];
	size_t len;

	snprintf(path, sizeof path, "%s/dam.conf", dir);
	return fs_read_all(path, CONF_MAX, text, &len, err);
}

/* The keys an s3:// URL of --to-store may set: [store]'s own, except
 * the secret, which a command line would show to every local user. */
static const char *const s3_url_keys[] = { "endpoint", "region", "key_id", "secret_file", "secret_env",
					   "addressing", "part_mb", NULL };

/* Appends the %-decoded bytes of s[0..n) to out; a control character (a
 * newline would start another dam.conf line) or a bad escape fails. */
static int url_decode(const char *s, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int c = (unsigned char)s[i];

		if (c == '%') {
			char hex[3] = { 0 };

			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
				return -1;
			memcpy(hex, s + i + 1, 2);
			c = (unsigned int)strtoul(hex, NULL, 16);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || strbuf_addch(out, (char)c) < 0)
			return -1;
	}
	return 0;
}

/* One key=value of an s3:// URL (len bytes at p) as a [store] line. */
static int store_url_pair(const char *p, size_t len, struct strbuf *out, struct dam_err *err)
{
	size_t klen = strcspn(p, "="), i;

	if (klen >= len)
		return dam_err_set(err, DAM_EINVAL, "--to-store", "--to-store: \"%.*s\" has no value (key=value)",
				   (int)len, p);
	for (i = 0; s3_url_keys[i] && (strlen(s3_url_keys[i]) != klen || strncmp(p, s3_url_keys[i], klen)); i++)
		;
	if (!s3_url_keys[i] && !strncmp(p, "secret", 6))
		return dam_err_set(err, DAM_EINVAL, "--to-store",
				   "--to-store: a secret on the command line is visible to every local user; "
				   "give secret_file=PATH or secret_env=NAME");
	if (!s3_url_keys[i])
		return dam_err_set(err, DAM_EINVAL, "--to-store",
				   "--to-store: unknown key \"%.*s\" (endpoint, region, key_id, secret_file, secret_env, "
				   "addressing, part_mb)",
				   (int)klen, p);
	strbuf_add(out, p, klen);
	strbuf_adds(out, " = ");
	if (url_decode(p + klen + 1, len - klen - 1, out) < 0)
		return dam_err_set(err, DAM_EINVAL, "--to-store", "--to-store: the value of %.*s is not a valid URL part",
				   (int)klen, p);
	return strbuf_addch(out, '\n') < 0 ? dam_err_set(err, DAM_ENOMEM, NULL, "out of memory") : 0;
}

/* --to-store URL as the [store] section it stands for: "file:" (the
 * target's objects folder) or s3://BUCKET?endpoint=...&region=...&key_id=
 * ...&secret_file=... (or secret_env=; addressing=, part_mb= as in
 * dam.conf). */
static int store_url_section(const char *url, struct strbuf *out, struct dam_err *err)
{
	const char *q;
	int rc = 0;

	if (!strcmp(url, "file:"))
		return strbuf_adds(out, "[store]\nbackend = fs\n") < 0 ? dam_err_set(err, DAM_ENOMEM, NULL, "out of memory")
									: 0;
	if (strncmp(url, "s3://", 5) || !url[5] || url[5] == '?' || url[5] == '/')
		return dam_err_set(err, DAM_EINVAL, "--to-store",
				   "--to-store takes file: or s3://BUCKET?endpoint=URL&region=R&key_id=ID&secret_file=PATH "
				   "(or secret_env=NAME), not %s", url);
	q = strchr(url + 5, '?');
	strbuf_adds(out, "[store]\nbackend = s3\nbucket = ");
	if (url_decode(url + 5, q ? (size_t)(q - url - 5) : strlen(url + 5), out) < 0)
		return dam_err_set(err, DAM_EINVAL, "--to-store", "the bucket name in --to-store is not a valid URL part");
	strbuf_addch(out, '\n');
	for (const char *p = q ? q + 1 : ""; *p && rc == 0;) {
		size_t len = strcspn(p, "&");

		rc = store_url_pair(p, len, out, err);
		p += len + (p[len] == '&');
	}
	return rc < 0 ? rc : out->buf ? 0 : dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
}

/* Makes dir a new library whose dam.conf is the source's, located at the
 * target's database (init: its URL and password keys; dam.db when it has
 * no URL) and store (store: its [store] section, or NULL for the
 * library's folder). */
static int make_target(struct dam *from, const char *dir, const struct library_init_opts *init,
		       const char *store, struct dam_err *err)
{
	struct strbuf conf = STRBUF_INIT;
	char *text = NULL, *made = NULL, path[4200];
	int rc;

	if ((rc = library_init_with(dir, init, err)) < 0 || (rc = read_conf(dir, &made, err)) < 0 ||
	    (rc = read_conf(from->root, &text, err)) < 0)
		goto out;
	/* The source's settings (presets, limits, languages ...) move with the
	 * library; where its data lives is the target's own: the [database]
	 * library_init_with wrote, the [store] given. */
	if (sections(text, is_not_location, &conf) < 0 || strbuf_adds(&conf, "\n") < 0 ||
	    sections(made, is_database, &conf) < 0 || strbuf_adds(&conf, "\n") < 0 ||
	    strbuf_adds(&conf, store ? store : "[store]\nbackend = fs\n") < 0 || strbuf_adds(&conf, "\n") < 0) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	snprintf(path, sizeof path, "%s/dam.conf", dir);
	rc = fs_write_atomic(path, conf.buf ? conf.buf : "", conf.len, 0, err);
out:
	free(text);
	free(made);
	strbuf_release(&conf);
	return rc < 0 ? rc : 0;
}

static void on_progress(void *arg, const char *phase, uint64_t done, uint64_t total)
{
	struct progress *pg = arg;

	progress_update(pg, (int64_t)done, (int64_t)total, 0, phase);
}

static int migrate_to(struct cli *cli, const char *dir, const struct library_init_opts *init,
		      const char *store, bool verify_only)
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
		if ((rc = make_target(from, dir, init, store, &err)) < 0)
			goto out;
	} else if (store || init->db_url) {
		rc = dam_err_set(&err, DAM_EINVAL, store ? "--to-store" : "--to-database",
				 "%s is a library already: its dam.conf says where its database and store are "
				 "(no --to-database, --to-store or --to-store-conf)", dir);
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
		{ "to-store", required_argument, NULL, 'S' },
		{ "to-database", required_argument, NULL, 'd' },
		{ "to-password-env", required_argument, NULL, 'e' },
		{ "to-password-file", required_argument, NULL, 'f' },
		{ "verify-only", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct library_init_opts init = { 0 };
	const char *dir = NULL, *store_conf = NULL, *store_url = NULL;
	struct strbuf store = STRBUF_INIT;
	struct dam_err err;
	bool verify_only = false;
	char *text = NULL;
	size_t len;
	int c, code;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': dir = optarg; break;
		case 's': store_conf = optarg; break;
		case 'S': store_url = optarg; break;
		case 'd': init.db_url = optarg; break;
		case 'e': init.password_env = optarg; break;
		case 'f': init.password_file = optarg; break;
		case 'v': verify_only = true; break;
		default: return cli_usage("migrate", "unknown or incomplete option %s", argv[optind - 1]);
		}
	}
	if (!dir || optind != argc)
		return cli_usage("migrate", "give the target folder with --to DIR");
	if (store_conf && store_url)
		return cli_usage("migrate", "give the target's store once: --to-store URL or --to-store-conf FILE");
	/* sqlite: is what no --to-database means: DIR/dam.db */
	if (init.db_url && !strncmp(init.db_url, "sqlite:", 7)) {
		if (init.db_url[7])
			return cli_usage("migrate", "--to-database sqlite: takes no path: the database is DIR/dam.db");
		init.db_url = NULL;
	}
	dam_err_clear(&err);
	if ((store_conf && fs_read_all(store_conf, CONF_MAX, &text, &len, &err) < 0) ||
	    (store_url && store_url_section(store_url, &store, &err) < 0)) {
		strbuf_release(&store);
		return cli_fail(&err);
	}
	code = migrate_to(cli, dir, &init, text ? text : store.len ? store.buf : NULL, verify_only);
	free(text);
	strbuf_release(&store);
	return code;
}

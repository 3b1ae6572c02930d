/* cmd_library.c - init, fsck, gc, audit. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/asset.h"
#include "core/audit.h"
#include "core/fsck.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

int cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "database", required_argument, NULL, 'd' },
		{ "password-env", required_argument, NULL, 'e' },
		{ "password-file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct library_init_opts o = { 0 };
	struct dam_err err;
	const char *dir;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.db_url = optarg; break;
		case 'e': o.password_env = optarg; break;
		case 'f': o.password_file = optarg; break;
		default: return cli_usage("init", "unknown option");
		}
	}
	dir = optind < argc ? argv[optind] : cli->library;
	if (argc - optind > 1 || !dir)
		return cli_usage("init", "give exactly one folder");
	if ((o.password_env || o.password_file) && !o.db_url)
		return cli_usage("init", "--password-env and --password-file go with --database");
	dam_err_clear(&err);
	if (library_init_with(dir, &o, &err) < 0)
		return cli_fail(&err);
	printf("created dam library in %s%s\n", dir, o.db_url ? " (database: PostgreSQL)" : "");
	return EXIT_OK;
}

static bool flag(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

static void fsck_progress(void *ctx, int64_t done, int64_t total)
{
	progress_update(ctx, done, total, 0, NULL);
}

int cmd_fsck(struct cli *cli, int argc, char **argv)
{
	struct fsck_report rep;
	struct progress pg;
	struct dam_err err;
	struct dam *dam;
	bool json = flag(argc, argv, "--json");
	unsigned flags = flag(argc, argv, "--repair") ? FSCK_REPAIR : 0;
	int rc, code;
	size_t i;
	json_t *p;

	for (int k = 1; k < argc; k++)
		if (strcmp(argv[k], "--json") && strcmp(argv[k], "--repair"))
			return cli_usage("fsck", "unknown argument %s", argv[k]);
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	dam_err_clear(&err);
	progress_init(&pg, "checking", json);
	rc = library_fsck(dam, flags, &rep, fsck_progress, &pg, &err);
	progress_finish(&pg);
	if (rc < 0 && rc != DAM_EDAMAGED) {
		json_decref(rep.problems);
		library_close(dam);
		return cli_fail(&err);
	}
	if (json) {
		json_t *o = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:I,s:I,s:O}", "ok", rc == 0,
				      "blobs_checked", (json_int_t)rep.blobs_checked, "bytes_checked", (json_int_t)rep.bytes_checked,
				      "damaged", (json_int_t)rep.damaged, "missing", (json_int_t)rep.missing,
				      "bad_refcounts", (json_int_t)rep.bad_refcounts, "unreferenced", (json_int_t)rep.unreferenced,
				      "temp_objects", (json_int_t)rep.temp_objects, "audit_rows", (json_int_t)rep.audit_rows,
				      "audit_ok", rep.audit_ok, "loose_permissions", (json_int_t)rep.loose_perms,
				      "permissions_repaired", (json_int_t)rep.perms_repaired, "problems", rep.problems);
		cli_print_json(o);
		json_decref(o);
	} else {
		json_array_foreach(rep.problems, i, p)
			printf("%s: %s: %s\n", json_string_value(json_object_get(p, "kind")),
			       json_string_value(json_object_get(p, "object")),
			       json_string_value(json_object_get(p, "detail")));
		printf("%lld blobs (%lld bytes) checked: %lld damaged, %lld missing, %lld wrong reference counts\n",
		       (long long)rep.blobs_checked, (long long)rep.bytes_checked, (long long)rep.damaged,
		       (long long)rep.missing, (long long)rep.bad_refcounts);
		printf("audit chain: %s (%lld rows)\n", rep.audit_ok ? "intact" : "BROKEN", (long long)rep.audit_rows);
		if (rep.unreferenced || rep.temp_objects)
			printf("reclaimable: %lld unreferenced blobs, %lld leftover temp objects (run dam gc)\n",
			       (long long)rep.unreferenced, (long long)rep.temp_objects);
		if (rep.loose_perms)
			printf("permissions: %lld paths open to group or others, %lld tightened%s\n",
			       (long long)rep.loose_perms, (long long)rep.perms_repaired,
			       rep.perms_repaired < rep.loose_perms ? " (run dam fsck --repair)" : "");
		printf("%s\n", rc == 0 ? "library is clean" : "library is DAMAGED");
	}
	json_decref(rep.problems);
	library_close(dam);
	return rc == 0 ? EXIT_OK : EXIT_PARTIAL;
}

int cmd_gc(struct cli *cli, int argc, char **argv)
{
	struct gc_report rep;
	struct dam_err err;
	struct dam *dam;
	bool dry = flag(argc, argv, "--dry-run");
	int code;

	for (int k = 1; k < argc; k++)
		if (strcmp(argv[k], "--dry-run"))
			return cli_usage("gc", "unknown argument %s", argv[k]);
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	dam_err_clear(&err);
	if (library_gc(dam, dry, &rep, &err) < 0) {
		library_close(dam);
		return cli_fail(&err);
	}
	printf("%s %lld unreferenced blobs (%lld bytes) and %lld leftover temp objects\n",
	       dry ? "would remove" : "removed", (long long)rep.blobs_removed, (long long)rep.bytes_freed,
	       (long long)rep.temp_removed);
	library_close(dam);
	return EXIT_OK;
}

static int print_audit_row(void *ctx, const json_t *row)
{
	bool json = *(bool *)ctx;

	if (json) {
		char *s = json_dumps(row, JSON_COMPACT);
		printf("%s\n", s ? s : "{}");
		free(s);
		return 0;
	}
	printf("%6lld %s %-18s %-20s %s\n", (long long)json_integer_value(json_object_get(row, "seq")),
	       json_string_value(json_object_get(row, "at")), json_string_value(json_object_get(row, "action")),
	       json_string_value(json_object_get(row, "actor")), json_string_value(json_object_get(row, "object_id")));
	return 0;
}

/* A whole number in [lo, hi] from a command-line value; false when not. */
static bool parse_count(const char *s, long long lo, long long hi, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return *s && !*end && !errno && *out >= lo && *out <= hi;
}

static int parse_when(const char *opt, const char *s, int64_t *out)
{
	uint64_t ms;

	if (time_parse(s, &ms) < 0 || ms > INT64_MAX)
		return cli_usage("audit", "%s: expected a UTC date (2026-12-01), date and time (2026-12-01T08:30:00Z) or an age (7d, 12h, 30m), not \"%s\"",
				 opt, s);
	*out = ms ? (int64_t)ms : 1;
	return 0;
}

/* The options of `dam audit log`; EXIT_USAGE after a usage message. */
static int parse_log_args(int argc, char **argv, struct audit_filter *f, bool *json, bool *csv)
{
	long long n;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--json")) {
			*json = true;
			continue;
		}
		if (!strcmp(a, "--csv")) {
			*csv = true;
			continue;
		}
		if (a[0] != '-' && !f->object_id && !f->asset_id) {
			f->object_id = a;
			continue;
		}
		if (!v || a[0] != '-')
			return cli_usage("audit", "unknown argument %s", a);
		i++;
		if (!strcmp(a, "--limit")) {
			if (!parse_count(v, 0, 1000000000, &n))
				return cli_usage("audit", "--limit: expected a number of rows (0 = all), not \"%s\"", v);
			f->limit = (int)n;
		} else if (!strcmp(a, "--before")) {
			if (!parse_count(v, 1, INT64_MAX, &n))
				return cli_usage("audit", "--before: expected a row number (seq), not \"%s\"", v);
			f->before_seq = n;
		} else if (!strcmp(a, "--actor")) {
			f->actor = v;
		} else if (!strcmp(a, "--action")) {
			f->action = v;
		} else if (!strcmp(a, "--asset")) {
			f->asset_id = v;
		} else if (!strcmp(a, "--since")) {
			if (parse_when("--since", v, &f->since_ms))
				return EXIT_USAGE;
		} else if (!strcmp(a, "--until")) {
			if (parse_when("--until", v, &f->until_ms))
				return EXIT_USAGE;
		} else {
			return cli_usage("audit", "unknown argument %s", a);
		}
	}
	if (*json && *csv)
		return cli_usage("audit", "say --json or --csv, not both");
	if (f->object_id && f->asset_id)
		return cli_usage("audit", "give an object id or --asset, not both");
	return 0;
}

static int audit_export_stdout(struct dam *dam, const struct audit_filter *f, struct dam_err *err)
{
	char buf[65536];
	uint64_t size, off = 0;
	int fd, rc = 0;

	if ((rc = audit_export_csv(dam, f, &fd, &size, NULL, err)) < 0)
		return rc;
	while (off < size) {
		ssize_t n = fs_pread_full(fd, buf, sizeof buf, (off_t)off);
		if (n <= 0 || fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			rc = dam_err_set(err, DAM_EIO, NULL, "cannot copy the audit export to standard output");
			break;
		}
		off += (uint64_t)n;
	}
	close(fd);
	return rc;
}

/* dam audit log: the asset's id (a prefix too) becomes its full id. */
static int audit_log(struct dam *dam, struct audit_filter *f, bool json, bool csv, struct dam_err *err)
{
	char id[DAM_ID_LEN + 1];
	int64_t next = 0;
	int rc;

	if (f->asset_id) {
		if ((rc = asset_resolve(dam, f->asset_id, id, err)) < 0)
			return rc;
		f->asset_id = id;
	}
	if (csv)
		return audit_export_stdout(dam, f, err);
	if ((rc = audit_query(dam, f, print_audit_row, &json, &next, err)) < 0)
		return rc;
	if (next && !json)
		fprintf(stderr, "more rows: add --before %lld\n", (long long)next);
	return 0;
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	struct audit_filter f = { .limit = -1 };
	struct audit_problem ap;
	struct dam_err err;
	struct dam *dam;
	bool json = false, csv = false;
	int code, n;

	if (argc < 2 || (strcmp(argv[1], "verify") && strcmp(argv[1], "log")))
		return cli_usage("audit", "say verify or log");
	if (!strcmp(argv[1], "log")) {
		if (parse_log_args(argc, argv, &f, &json, &csv))
			return EXIT_USAGE;
		/* Without --limit: the newest 50 rows, or for an export the whole
		 * selection. */
		if (f.limit < 0)
			f.limit = csv ? 0 : 50;
	} else if (argc > 2) {
		return cli_usage("audit", "unknown argument %s", argv[2]);
	}
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	dam_err_clear(&err);
	if (!strcmp(argv[1], "log")) {
		n = audit_log(dam, &f, json, csv, &err);
		library_close(dam);
		return n < 0 ? cli_fail(&err) : EXIT_OK;
	}
	n = audit_verify(dam, &ap, &err);
	library_close(dam);
	if (n == DAM_EDAMAGED) {
		printf("audit chain BROKEN at row %lld: %s\n", (long long)ap.seq, ap.what);
		return EXIT_PARTIAL;
	}
	if (n < 0)
		return cli_fail(&err);
	printf("audit chain intact: %d rows verified\n", n);
	return EXIT_OK;
}

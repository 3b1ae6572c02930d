/* cmd_asset.c - ls, show, get, tag, meta, rm, restore. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/asset.h"
#include "deliver/deliver.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

static int parse_int_arg(const char *cmd, const char *opt, const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return cli_usage(cmd, "%s wants a number from %d to %d, got \"%s\"", opt, lo, hi, s);
	*out = (int)v;
	return 0;
}

int cmd_ls(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' }, { "tag", required_argument, NULL, 'g' },
		{ "since", required_argument, NULL, 's' }, { "deleted", no_argument, NULL, 'd' },
		{ "limit", required_argument, NULL, 'n' }, { "after", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 },
	};
	struct asset_filter f = { 0 };
	struct dam_err err;
	struct dam *dam;
	json_t *list, *a;
	bool json = false;
	size_t i;
	int c, code;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': f.kind = optarg; break;
		case 'g': f.tag = optarg; break;
		case 'd': f.deleted = true; break;
		case 'a': f.after_id = optarg; break;
		case 'j': json = true; break;
		case 'n':
			if ((code = parse_int_arg("ls", "--limit", optarg, 1, 100000, &f.limit)))
				return code;
			break;
		case 's':
			if (time_parse(optarg, &f.since_ms) < 0)
				return cli_usage("ls", "--since wants a date (2026-01-31) or an age (7d, 12h), got \"%s\"", optarg);
			break;
		default: return cli_usage("ls", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("ls", "unexpected argument %s", argv[optind]);
	if (f.kind && strcmp(f.kind, "image") && strcmp(f.kind, "video") && strcmp(f.kind, "audio") &&
	    strcmp(f.kind, "document") && strcmp(f.kind, "other"))
		return cli_usage("ls", "--type is one of image, video, audio, document, other");
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	dam_err_clear(&err);
	if (asset_list(dam, &f, &list, &err) < 0) {
		library_close(dam);
		return cli_fail(&err);
	}
	if (json) {
		cli_print_json(list);
	} else {
		json_array_foreach(list, i, a) {
			printf("%s  %-8s %-7s %10lld  ", json_string_value(json_object_get(a, "id")),
			       json_string_value(json_object_get(a, "kind")), json_string_value(json_object_get(a, "status")),
			       (long long)json_integer_value(json_object_get(a, "size")));
			cli_print_name(stdout, json_string_value(json_object_get(a, "name")));
			const char *tags = json_string_value(json_object_get(a, "tags"));
			if (tags && *tags)
				printf("  [%s]", tags);
			printf("\n");
		}
	}
	json_decref(list);
	library_close(dam);
	return EXIT_OK;
}

static void show_text(const json_t *a)
{
	const json_t *v, *r, *t;
	const char *k;
	size_t i, j;

	printf("asset    %s%s\n", json_string_value(json_object_get(a, "id")),
	       json_is_true(json_object_get(a, "deleted")) ? "  (DELETED)" : "");
	printf("name     ");
	cli_print_name(stdout, json_string_value(json_object_get(a, "name")));
	printf("\nkind     %s\ncreated  %s\nupdated  %s\n", json_string_value(json_object_get(a, "kind")),
	       json_string_value(json_object_get(a, "created_at")), json_string_value(json_object_get(a, "updated_at")));
	printf("tags    ");
	json_array_foreach(json_object_get(a, "tags"), i, t)
		printf(" %s(%s)", json_string_value(json_object_get(t, "tag")), json_string_value(json_object_get(t, "source")));
	printf("\nfields\n");
	json_object_foreach((json_t *)json_object_get(a, "fields"), k, t)
		printf("  %s = %s\n", k, json_string_value(t));
	json_array_foreach(json_object_get(a, "versions"), i, v) {
		char *meta = json_dumps(json_object_get(v, "metadata"), JSON_COMPACT);
		printf("version %lld  %s  %s  %lld bytes  %s  sha256:%s\n",
		       (long long)json_integer_value(json_object_get(v, "number")), json_string_value(json_object_get(v, "id")),
		       json_string_value(json_object_get(v, "mime")), (long long)json_integer_value(json_object_get(v, "size")),
		       json_string_value(json_object_get(v, "status")), json_string_value(json_object_get(v, "hash")));
		if (json_is_true(json_object_get(v, "extension_mismatch")))
			printf("  warning: content does not match the file extension (expected .%s)\n",
			       json_string_value(json_object_get(v, "expected_extension")));
		if (json_is_string(json_object_get(v, "error")))
			printf("  error: %s\n", json_string_value(json_object_get(v, "error")));
		printf("  metadata %s\n", meta ? meta : "{}");
		free(meta);
		json_array_foreach(json_object_get(v, "renditions"), j, r) {
			double up = json_number_value(json_object_get(r, "enlarged"));

			printf("  rendition %-10s %s %lldx%lld %lld bytes", json_string_value(json_object_get(r, "name")),
			       json_string_value(json_object_get(r, "mime")), (long long)json_integer_value(json_object_get(r, "width")),
			       (long long)json_integer_value(json_object_get(r, "height")),
			       (long long)json_integer_value(json_object_get(r, "size")));
			if (up > 1.001)
				printf("  enlarged %.2fx", up);
			printf("\n");
		}
	}
	/* what the channel presets fall short of (deliver_warnings) */
	json_array_foreach(json_object_get(a, "delivery_warnings"), i, t)
		printf("warning  %s: %s\n", json_string_value(json_object_get(t, "preset")),
		       json_string_value(json_object_get(t, "message")));
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
	struct dam_err err;
	struct dam *dam;
	const char *id = NULL;
	bool json = false;
	json_t *a = NULL, *warn = NULL;
	int code;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!id && argv[i][0] != '-')
			id = argv[i];
		else
			return cli_usage("show", "unexpected argument %s", argv[i]);
	}
	if (!id)
		return cli_usage("show", "give an asset id");
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	dam_err_clear(&err);
	if (asset_get(dam, id, &a, &err) < 0 ||
	    deliver_warnings(dam, json_string_value(json_object_get(a, "id")), NULL, &warn, &err) < 0) {
		json_decref(a);
		library_close(dam);
		return cli_fail(&err);
	}
	json_object_set_new(a, "delivery_warnings", warn);
	if (json)
		cli_print_json(a);
	else
		show_text(a);
	json_decref(a);
	library_close(dam);
	return EXIT_OK;
}

/* Copies a blob to out (a path, or "-" for stdout), atomically for paths. */
static int copy_out(struct dam *dam, const char *key, const char *out, struct dam_err *err)
{
	char buf[65536];
	char tmp[4096];
	struct blob_reader *in;
	int fd, rc = 0;
	ssize_t n;

	if ((rc = blob_reader_open(dam->store, key, &in, err)) < 0)
		return rc;
	if (!strcmp(out, "-")) {
		fd = STDOUT_FILENO;
	} else {
		snprintf(tmp, sizeof tmp, "%s.dam-tmp-%d", out, (int)getpid());
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
			blob_reader_free(in);
			return dam_err_errno(err, DAM_EIO, errno, "cannot write %s", out);
		}
	}
	while ((n = blob_reader_read(in, buf, sizeof buf, err)) > 0)
		if ((rc = fs_write_full(fd, buf, (size_t)n)) < 0) {
			rc = dam_err_errno(err, DAM_EIO, -rc, "cannot write %s", out);
			break;
		}
	if (n < 0)
		rc = (int)n;
	blob_reader_free(in);
	if (fd != STDOUT_FILENO) {
		if (rc == 0 && (fsync(fd) < 0 || rename(tmp, out) < 0))
			rc = dam_err_errno(err, DAM_EIO, errno, "cannot write %s", out);
		close(fd);
		if (rc < 0)
			unlink(tmp);
	}
	return rc;
}

int cmd_get(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'v' }, { "rendition", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' }, { NULL, 0, NULL, 0 },
	};
	const char *rendition = NULL, *out = NULL;
	char key[65];
	struct dam_err err;
	struct dam *dam;
	int c, code, version = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			if ((code = parse_int_arg("get", "--version", optarg, 1, 1000000, &version)))
				return code;
			break;
		case 'r': rendition = optarg; break;
		case 'o': out = optarg; break;
		default: return cli_usage("get", "unknown option");
		}
	}
	if (optind != argc - 1 || !out)
		return cli_usage("get", "give one asset id and -o FILE (or -o - for standard output)");
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	dam_err_clear(&err);
	if (asset_blob_of(dam, argv[optind], version, rendition, key, NULL, NULL, &err) < 0 ||
	    copy_out(dam, key, out, &err) < 0) {
		library_close(dam);
		return cli_fail(&err);
	}
	library_close(dam);
	return EXIT_OK;
}

int cmd_tag(struct cli *cli, int argc, char **argv)
{
	const char **add = calloc((size_t)argc, sizeof *add), **rm = calloc((size_t)argc, sizeof *rm);
	struct dam_err err;
	struct dam *dam = NULL;
	int nadd = 0, nrm = 0, code = EXIT_OK, i = 1;

	if (argc > 1 && !strcmp(argv[1], "--"))
		i++;
	if (argc - i < 2) {
		code = cli_usage("tag", "give an asset id and at least one +tag or -tag");
		goto out;
	}
	/* Not getopt: "-tag" is an argument here, not an option. */
	for (int k = i + 1; k < argc; k++) {
		if (argv[k][0] == '-')
			rm[nrm++] = argv[k] + 1;
		else
			add[nadd++] = argv[k][0] == '+' ? argv[k] + 1 : argv[k];
	}
	if (cli_open(cli, &dam, &code) < 0)
		goto out;
	dam_err_clear(&err);
	if (asset_tag(dam, argv[i], add, nadd, rm, nrm, &err) < 0)
		code = cli_fail(&err);
out:
	library_close(dam);
	free(add);
	free(rm);
	return code;
}

int cmd_meta(struct cli *cli, int argc, char **argv)
{
	const char **keys = calloc((size_t)argc, sizeof *keys), **vals = calloc((size_t)argc, sizeof *vals);
	struct dam_err err;
	struct dam *dam = NULL;
	int n = 0, code = EXIT_OK;

	if (argc < 3) {
		code = cli_usage("meta", "give an asset id and at least one KEY=VALUE");
		goto out;
	}
	for (int k = 2; k < argc; k++) {
		char *eq = strchr(argv[k], '=');
		if (!eq) {
			code = cli_usage("meta", "\"%s\" is not KEY=VALUE", argv[k]);
			goto out;
		}
		*eq = '\0';
		keys[n] = argv[k];
		vals[n++] = eq + 1;
	}
	if (cli_open(cli, &dam, &code) < 0)
		goto out;
	dam_err_clear(&err);
	if (asset_set_fields(dam, argv[1], keys, vals, n, &err) < 0)
		code = cli_fail(&err);
out:
	library_close(dam);
	free(keys);
	free(vals);
	return code;
}

static int delete_or_restore(struct cli *cli, int argc, char **argv, bool del)
{
	struct dam_err err;
	struct dam *dam;
	int code, worst = EXIT_OK;

	if (argc < 2)
		return cli_usage(del ? "rm" : "restore", "give at least one asset id");
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	for (int i = 1; i < argc; i++) {
		dam_err_clear(&err);
		if ((del ? asset_delete : asset_restore)(dam, argv[i], &err) < 0)
			worst = cli_fail(&err);
		else
			printf("%s %s\n", del ? "deleted" : "restored", argv[i]);
	}
	library_close(dam);
	return worst;
}

int cmd_rm(struct cli *cli, int argc, char **argv)
{
	return delete_or_restore(cli, argc, argv, true);
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
	return delete_or_restore(cli, argc, argv, false);
}

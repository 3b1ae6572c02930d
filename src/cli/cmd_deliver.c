/* cmd_deliver.c - `dam render`, `dam url`, `dam preset`, `dam key`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/asset.h"
#include "deliver/deliver.h"
#include "deliver/preset.h"
#include "deliver/sign.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

/* "tmall" names a preset; anything with '_' is options text. */
static void options_of(const char *arg, char *out, size_t n)
{
	if (strchr(arg, '_'))
		snprintf(out, n, "%s", arg);
	else
		snprintf(out, n, "p_%s", arg);
}

static int write_out(const char *path, const void *data, size_t len, struct dam_err *err)
{
	char tmp[4096];
	int fd, rc = 0;

	if (!strcmp(path, "-"))
		return fs_write_full(STDOUT_FILENO, data, len) < 0
			       ? dam_err_errno(err, DAM_EIO, errno, "cannot write to standard output") : 0;
	snprintf(tmp, sizeof tmp, "%s.dam-tmp-%d", path, (int)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot write %s", path);
	if (fs_write_full(fd, data, len) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0)
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot write %s", path);
	close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int cmd_render(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "output", required_argument, NULL, 'o' }, { NULL, 0, NULL, 0 } };
	const char *out = NULL;
	char id[DAM_ID_LEN + 1], options[1100], mime[128];
	struct dam_err err = { 0 };
	struct dam *dam;
	void *data = NULL;
	size_t len = 0;
	int c, code = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c != 'o')
			return cli_usage("render", "unknown option");
		out = optarg;
	}
	if (optind != argc - 2 || !out)
		return cli_usage("render", "give an asset id, a preset (or options text) and -o FILE");
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	options_of(argv[optind + 1], options, sizeof options);
	if (asset_resolve(dam, argv[optind], id, &err) < 0 ||
	    deliver_render(dam, id, options, &data, &len, mime, &err) < 0 || write_out(out, data, len, &err) < 0)
		code = cli_fail(&err);
	else if (strcmp(out, "-"))
		fprintf(stderr, "%s: %zu bytes, %s\n", out, len, mime);
	free(data);
	library_close(dam);
	return code;
}

int cmd_url(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "expires", required_argument, NULL, 'e' }, { "version", required_argument, NULL, 'v' },
		{ "base", required_argument, NULL, 'b' }, { NULL, 0, NULL, 0 },
	};
	const char *base = NULL;
	char id[DAM_ID_LEN + 1], options[1100], *url = NULL;
	struct dam_err err = { 0 };
	struct dam *dam;
	uint64_t expires_ms = 0, now_ms;
	int c, code = EXIT_OK, version = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			now_ms = time_now_ms();
			if (time_parse_future(optarg, now_ms, &expires_ms) < 0)
				return cli_usage("url",
						 "--expires wants a duration (90s, 10m, 2h, 7d, 2w), seconds (3600) or a UTC "
						 "date/time (2027-01-31 or 2027-01-31T12:00:00Z), got \"%s\"", optarg);
			/* exp_ counts whole seconds: a link that ends within this second
			 * would be dead on arrival. */
			if (expires_ms / 1000 <= now_ms / 1000)
				return cli_usage("url", "--expires %s is not in the future", optarg);
			break;
		case 'v': {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > INT_MAX)
				return cli_usage("url", "--version wants a version number, got \"%s\"", optarg);
			version = (int)v;
			break;
		}
		case 'b': base = optarg; break;
		default: return cli_usage("url", "unknown option");
		}
	}
	if (optind != argc - 2)
		return cli_usage("url", "give an asset id and a preset (or options text)");
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	options_of(argv[optind + 1], options, sizeof options);
	if (version)
		snprintf(options + strlen(options), sizeof options - strlen(options), ",v_%d", version);
	if (asset_resolve(dam, argv[optind], id, &err) < 0 ||
	    deliver_url(dam, base, id, options, (int64_t)(expires_ms / 1000), &url, &err) < 0)
		code = cli_fail(&err);
	else
		printf("%s\n", url);
	free(url);
	library_close(dam);
	return code;
}

static int preset_cmd_list(struct dam *dam, bool json, struct dam_err *err)
{
	struct preset *v;
	int n, rc;

	if (json) {
		json_t *list;
		if ((rc = preset_list(dam, &list, err)) < 0)
			return rc;
		cli_print_json(list);
		json_decref(list);
		return 0;
	}
	if ((rc = preset_all(dam, &v, &n, err)) < 0)
		return rc;
	for (int i = 0; i < n; i++)
		printf("%-20s %-8s %s %s\n    %s\n", v[i].name, v[i].source, v[i].ahead ? "ahead " : "on use",
		       v[i].spec, v[i].description);
	free(v);
	return 0;
}

/* dam preset list [--json] | set NAME SPEC [--description TEXT] [--on-use] | rm NAME */
int cmd_preset(struct cli *cli, int argc, char **argv)
{
	struct dam_err err = { 0 };
	struct dam *dam;
	const char *desc = "";
	bool json = false, ahead = true, created = false;
	int code = EXIT_OK, rc = 0;

	if (argc < 2)
		return cli_usage("preset", "give list, set or rm");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--on-use"))
			ahead = false;
		else if (!strcmp(argv[i], "--description") && i + 1 < argc)
			desc = argv[++i];
		else if (argv[i][0] == '-')
			return cli_usage("preset", "unknown option %s", argv[i]);
	}
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	if (!strcmp(argv[1], "list"))
		rc = preset_cmd_list(dam, json, &err);
	else if (!strcmp(argv[1], "set") && argc >= 4 && argv[2][0] != '-' && argv[3][0] != '-')
		rc = preset_put(dam, argv[2], argv[3], desc, ahead, &created, &err);
	else if (!strcmp(argv[1], "rm") && argc == 3)
		rc = preset_delete(dam, argv[2], &err);
	else
		code = cli_usage("preset", "give list, set NAME SPEC or rm NAME");
	if (rc < 0)
		code = cli_fail(&err);
	else if (!strcmp(argv[1], "set") && code == EXIT_OK)
		printf("preset %s %s; renditions are re-made by the workers\n", argv[2], created ? "created" : "changed");
	library_close(dam);
	return code;
}

/* dam key list | rotate | retire ID */
int cmd_key(struct cli *cli, int argc, char **argv)
{
	struct dam_err err = { 0 };
	struct dam *dam;
	char id[64];
	json_t *list;
	int code = EXIT_OK, rc = 0;

	if (argc < 2)
		return cli_usage("key", "give list, rotate or retire ID");
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	if (!strcmp(argv[1], "list") && argc == 2) {
		if ((rc = sign_keys_list(dam->db, &list, &err)) == 0) {
			cli_print_json(list);
			json_decref(list);
		}
	} else if (!strcmp(argv[1], "rotate") && argc == 2) {
		if ((rc = sign_key_rotate(dam, id, sizeof id, &err)) == 0)
			printf("new signing key %s; links signed with older keys keep working until retired\n", id);
	} else if (!strcmp(argv[1], "retire") && argc == 3) {
		if ((rc = sign_key_retire(dam, argv[2], &err)) == 0)
			printf("key %s retired: links it signed no longer work\n", argv[2]);
	} else {
		code = cli_usage("key", "give list, rotate or retire ID");
	}
	if (rc < 0)
		code = cli_fail(&err);
	library_close(dam);
	return code;
}

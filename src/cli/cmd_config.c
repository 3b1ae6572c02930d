/* cmd_config.c - `dam config push|show`: the settings the nodes agree on. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/settings.h"

static int config_push(struct cli *cli)
{
	struct dam_err err;
	struct dam *dam;
	int code, n;

	if (cli_open(cli, &dam, &code) < 0)
		return code;
	dam_err_clear(&err);
	n = settings_push(dam, &err);
	library_close(dam);
	if (n < 0)
		return cli_fail(&err);
	printf("pushed dam.conf's shared settings to the library's database (%d changed); every node applies them "
	       "when it starts or reloads\n", n);
	return EXIT_OK;
}

static int config_show(struct cli *cli, bool json)
{
	struct dam_err err;
	struct dam *dam;
	json_t *rows = NULL, *r;
	size_t i;
	int code, rc;

	if (cli_open(cli, &dam, &code) < 0)
		return code;
	dam_err_clear(&err);
	rc = settings_show(dam, &rows, &err);
	library_close(dam);
	if (rc < 0)
		return cli_fail(&err);
	if (json)
		cli_print_json(rows);
	else
		json_array_foreach(rows, i, r) {
			printf("[%s] %s = ", json_string_value(json_object_get(r, "section")),
			       json_string_value(json_object_get(r, "key")));
			cli_print_name(stdout, json_string_value(json_object_get(r, "value")));
			printf("   (%s)\n", json_string_value(json_object_get(r, "origin")));
		}
	json_decref(rows);
	return EXIT_OK;
}

static void warn_line(void *ctx, const char *line)
{
	fprintf(stderr, "dam %s: warning: %s\n", (const char *)ctx, line);
}

void cli_settings_warn(struct dam *dam, const char *cmd)
{
	struct dam_err err;

	dam_err_clear(&err);
	if (settings_differences(dam, warn_line, (void *)cmd, &err) < 0)
		fprintf(stderr, "dam %s: warning: cannot compare dam.conf with the library's settings: %s\n", cmd, err.msg);
}

int cmd_config(struct cli *cli, int argc, char **argv)
{
	bool json = argc == 3 && !strcmp(argv[2], "--json");

	if (argc == 2 && !strcmp(argv[1], "push"))
		return config_push(cli);
	if (argc >= 2 && !strcmp(argv[1], "show") && (argc == 2 || json))
		return config_show(cli, json);
	return cli_usage("config", "give push, or show [--json]");
}

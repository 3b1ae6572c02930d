/* cmd_user.c - user accounts and API tokens: `dam user ...`, `dam token ...`. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/auth.h"
#include "util/timeutil.h"

#define PW_BUF 1100

/* One line from stdin without its line ending; at most 1024 bytes. */
static int password_from_stdin(const char *cmd, char buf[PW_BUF])
{
	size_t n;

	if (!fgets(buf, PW_BUF, stdin))
		return cli_usage(cmd, "--password-stdin: nothing on standard input");
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n >= PW_BUF - 1)
		return cli_usage(cmd, "--password-stdin: the password is longer than 1024 bytes");
	buf[n] = '\0';
	return 0;
}

static int parse_role(const char *cmd, const char *s, enum role *out)
{
	if ((*out = role_parse(s)) == ROLE_NONE)
		return cli_usage(cmd, "unknown role \"%s\": use viewer, contributor, editor or admin", s);
	return 0;
}

static int user_add_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	char pw[PW_BUF] = "", gen[64] = "";
	const char *name = NULL;
	enum role role = ROLE_VIEWER;
	bool from_stdin = false;
	int code = EXIT_OK;

	for (int i = 2; i < argc && code == EXIT_OK; i++) {
		if (!strcmp(argv[i], "--role") && i + 1 < argc)
			code = parse_role("user", argv[++i], &role);
		else if (!strcmp(argv[i], "--password-stdin"))
			from_stdin = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			code = cli_usage("user", "unexpected argument %s", argv[i]);
	}
	if (code == EXIT_OK && !name)
		code = cli_usage("user", "add needs a user name");
	if (code == EXIT_OK && from_stdin)
		code = password_from_stdin("user", pw);
	if (code != EXIT_OK)
		goto out;
	dam_err_clear(&err);
	if (user_add(dam, name, from_stdin ? pw : NULL, role, NULL, gen, &err) < 0) {
		code = cli_fail(&err);
		goto out;
	}
	printf("added user %s (%s)\n", name, role_name(role));
	if (gen[0]) {
		printf("password: %s\n", gen);
		fprintf(stderr, "note: this password is shown once; store it or change it with dam user passwd\n");
	}
out:
	sodium_memzero(pw, sizeof pw);
	sodium_memzero(gen, sizeof gen);
	return code;
}

static int user_list_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	json_t *list, *u;
	bool json = argc == 3 && !strcmp(argv[2], "--json");
	size_t i;

	if (argc > 3 || (argc == 3 && !json))
		return cli_usage("user", "list takes only --json");
	dam_err_clear(&err);
	if (user_list(dam, &list, &err) < 0)
		return cli_fail(&err);
	if (json) {
		cli_print_json(list);
	} else {
		json_array_foreach(list, i, u) {
			const json_t *last = json_object_get(u, "last_login_at");
			printf("%-24s %-12s %-9s last login %s\n", json_string_value(json_object_get(u, "username")),
			       json_string_value(json_object_get(u, "role")),
			       json_is_true(json_object_get(u, "disabled")) ? "disabled" : "enabled",
			       json_is_string(last) ? json_string_value(last) : "never");
		}
	}
	json_decref(list);
	return EXIT_OK;
}

static int user_passwd_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	char pw[PW_BUF] = "";
	const char *name = NULL;
	bool from_stdin = false;
	int code = EXIT_OK;

	for (int i = 2; i < argc && code == EXIT_OK; i++) {
		if (!strcmp(argv[i], "--password-stdin"))
			from_stdin = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			code = cli_usage("user", "unexpected argument %s", argv[i]);
	}
	if (code == EXIT_OK && !name)
		code = cli_usage("user", "passwd needs a user name");
	if (code == EXIT_OK && from_stdin)
		code = password_from_stdin("user", pw);
	if (code != EXIT_OK)
		goto out;
	if (!from_stdin)
		auth_password_generate(pw);
	dam_err_clear(&err);
	if (user_set_password(dam, name, pw, &err) < 0) {
		code = cli_fail(&err);
		goto out;
	}
	printf("password of %s changed; their browser sessions have ended\n", name);
	if (!from_stdin) {
		printf("password: %s\n", pw);
		fprintf(stderr, "note: this password is shown once\n");
	}
out:
	sodium_memzero(pw, sizeof pw);
	return code;
}

static int user_simple_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	enum role role = ROLE_NONE;
	const char *sub = argv[1];
	bool is_role = !strcmp(sub, "role");
	int code, rc;

	if (is_role && argc != 4)
		return cli_usage("user", "role needs a user name and a role");
	if (!is_role && argc != 3)
		return cli_usage("user", "%s needs one user name", sub);
	if (is_role && (code = parse_role("user", argv[3], &role)) != EXIT_OK)
		return code;
	dam_err_clear(&err);
	if (is_role)
		rc = user_set_role(dam, argv[2], role, &err);
	else
		rc = user_set_disabled(dam, argv[2], !strcmp(sub, "disable"), &err);
	if (rc < 0)
		return cli_fail(&err);
	if (is_role)
		printf("%s is now %s\n", argv[2], role_name(role));
	else
		printf("%s is %sd\n", argv[2], sub);
	return EXIT_OK;
}

static const struct {
	const char *name;
	int (*run)(struct dam *, int, char **);
} user_subs[] = {
	{ "add", user_add_cmd },         { "list", user_list_cmd },      { "passwd", user_passwd_cmd },
	{ "disable", user_simple_cmd },  { "enable", user_simple_cmd },  { "role", user_simple_cmd },
};

int cmd_user(struct cli *cli, int argc, char **argv)
{
	struct dam *dam;
	int code;

	if (argc < 2)
		return cli_usage("user", "give a subcommand");
	for (size_t i = 0; i < sizeof user_subs / sizeof user_subs[0]; i++) {
		if (strcmp(argv[1], user_subs[i].name))
			continue;
		if (cli_open(cli, &dam, &code) < 0)
			return code;
		code = user_subs[i].run(dam, argc, argv);
		library_close(dam);
		return code;
	}
	return cli_usage("user", "unknown subcommand %s", argv[1]);
}

/* ---- tokens ---- */

static int token_create_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	const char *user = NULL, *label = "";
	char id[DAM_ID_LEN + 1], secret[64] = "", when[32] = "never";
	enum role role = ROLE_NONE;
	uint64_t expires = 0;
	int code = EXIT_OK;

	for (int i = 2; i < argc && code == EXIT_OK; i++) {
		if (!strcmp(argv[i], "--user") && i + 1 < argc)
			user = argv[++i];
		else if (!strcmp(argv[i], "--label") && i + 1 < argc)
			label = argv[++i];
		else if (!strcmp(argv[i], "--role") && i + 1 < argc)
			code = parse_role("token", argv[++i], &role);
		else if (!strcmp(argv[i], "--expires") && i + 1 < argc) {
			if (time_parse_future(argv[++i], time_now_ms(), &expires) < 0)
				code = cli_usage("token", "--expires wants a duration (30d, 12h, 2w) or a date (2026-12-31), got \"%s\"",
						 argv[i]);
		} else
			code = cli_usage("token", "unexpected argument %s", argv[i]);
	}
	if (code == EXIT_OK && !user)
		code = cli_usage("token", "create needs --user NAME");
	if (code != EXIT_OK)
		return code;
	dam_err_clear(&err);
	if (token_create(dam, user, label, role, expires, id, secret, &err) < 0)
		return cli_fail(&err);
	if (expires)
		time_iso8601(expires, when);
	printf("token %s for %s, expires %s\n", id, user, when);
	printf("secret: %s\n", secret);
	fprintf(stderr, "note: the secret is shown only now and cannot be shown again; send it as\n"
			"      \"Authorization: Bearer <secret>\"\n");
	sodium_memzero(secret, sizeof secret);
	return EXIT_OK;
}

static int token_list_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	const char *user = NULL;
	bool json = false;
	json_t *list, *t;
	size_t i;

	for (int k = 2; k < argc; k++) {
		if (!strcmp(argv[k], "--json"))
			json = true;
		else if (!strcmp(argv[k], "--user") && k + 1 < argc)
			user = argv[++k];
		else
			return cli_usage("token", "unexpected argument %s", argv[k]);
	}
	dam_err_clear(&err);
	if (token_list(dam, user, &list, &err) < 0)
		return cli_fail(&err);
	if (json) {
		cli_print_json(list);
	} else {
		json_array_foreach(list, i, t) {
			const json_t *exp = json_object_get(t, "expires_at");
			const char *state = json_is_true(json_object_get(t, "revoked")) ? "revoked"
					    : json_is_true(json_object_get(t, "expired")) ? "expired"
					    : json_is_true(json_object_get(t, "user_disabled")) ? "disabled" : "active";
			printf("%s  %-16s %-12s %-8s expires %-24s ", json_string_value(json_object_get(t, "id")),
			       json_string_value(json_object_get(t, "user")), json_string_value(json_object_get(t, "role")),
			       state, json_is_string(exp) ? json_string_value(exp) : "never");
			cli_print_name(stdout, json_string_value(json_object_get(t, "label")));
			printf("\n");
		}
	}
	json_decref(list);
	return EXIT_OK;
}

static int token_revoke_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;

	if (argc != 3)
		return cli_usage("token", "revoke needs one token id");
	dam_err_clear(&err);
	if (token_revoke(dam, argv[2], &err) < 0)
		return cli_fail(&err);
	printf("revoked token %s\n", argv[2]);
	return EXIT_OK;
}

static const struct {
	const char *name;
	int (*run)(struct dam *, int, char **);
} token_subs[] = {
	{ "create", token_create_cmd },
	{ "list", token_list_cmd },
	{ "revoke", token_revoke_cmd },
};

int cmd_token(struct cli *cli, int argc, char **argv)
{
	struct dam *dam;
	int code;

	if (argc < 2)
		return cli_usage("token", "give a subcommand");
	for (size_t i = 0; i < sizeof token_subs / sizeof token_subs[0]; i++) {
		if (strcmp(argv[1], token_subs[i].name))
			continue;
		if (cli_open(cli, &dam, &code) < 0)
			return code;
		code = token_subs[i].run(dam, argc, argv);
		library_close(dam);
		return code;
	}
	return cli_usage("token", "unknown subcommand %s", argv[1]);
}

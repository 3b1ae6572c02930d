/* main.c - `dam`: one binary, subcommands like git. */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "deliver/prerender.h"
#include "util/utf8.h"

static const struct cli_command commands[] = {
	{ "init", cmd_init, "create a library",
	  "dam init DIR [--database postgres://USER@HOST/DB [--password-env VAR | --password-file FILE]]" },
	{ "ingest", cmd_ingest, "add files, folders or globs to the library",
	  "dam ingest [--tag T]... [--meta KEY=VALUE]... [--template NAME] [--new-version-of ID] [--versions-by-name]\n"
	  "           [--dry-run] [--json] [--no-process] [--workers N] [--watch] PATH..." },
	{ "ls", cmd_ls, "list assets", "dam ls [--type KIND] [--tag TAG] [--since DATE|7d] [--deleted] [--limit N] [--after ID] [--json]" },
	{ "show", cmd_show, "show an asset: metadata, versions, renditions", "dam show [--json] ID" },
	{ "get", cmd_get, "write an original or a rendition to a file", "dam get ID [--version N] [--rendition NAME] -o FILE|-" },
	{ "search", cmd_search, "search with the query language (see docs/search.md)",
	  "dam search [--json] [--facets] [--prefix-last] [--sort relevance|created|updated|name|size|-FIELD] [--limit N] [--cursor C] QUERY..." },
	{ "tag", cmd_tag, "add (+tag) and remove (-tag) tags", "dam tag ID +TAG... -TAG..." },
	{ "meta", cmd_meta, "set fields (KEY= removes one)", "dam meta ID KEY=VALUE..." },
	{ "rm", cmd_rm, "delete an asset (it can be restored)", "dam rm ID..." },
	{ "restore", cmd_restore, "restore a deleted asset", "dam restore ID..." },
	{ "jobs", cmd_jobs, "show the job queue; retry or cancel jobs",
	  "dam jobs [list] [--state STATE] [--limit N] [--json]\n       dam jobs retry [JOB]\n       dam jobs cancel JOB" },
	{ "worker", cmd_worker, "run queued jobs", "dam worker [--processes N] [--until-idle] [--name NAME] [--supervised]\n"
	  "--name: how jobs list this worker (default host:pid); jobs of a worker named\n"
	  "otherwise wait out their lease ([worker] lease) when it dies, even on this host" },
	{ "fsck", cmd_fsck, "verify every blob, reference count, the audit chain and file modes",
	  "dam fsck [--json] [--repair]" },
	{ "migrate", cmd_migrate, "copy the library to another database and store, and verify the copy",
	  "dam migrate --to DIR [--to-database URL|sqlite: [--to-password-env VAR | --to-password-file FILE]]\n"
	  "                   [--to-store s3://BUCKET?endpoint=URL&region=R&key_id=ID&secret_file=PATH | file:\n"
	  "                    | --to-store-conf FILE] [--verify-only]" },
	{ "gc", cmd_gc, "remove blobs nothing references", "dam gc [--dry-run]" },
	{ "audit", cmd_audit, "verify or show the audit trail", "dam audit verify\n       dam audit log [--actor A] [--action PREFIX] [--asset ID] [--since T] [--until T]\n                     [--limit N] [--before SEQ] [--json | --csv] [OBJECT-ID]" },
	{ "user", cmd_user, "manage user accounts and roles",
	  "dam user add NAME [--role viewer|contributor|editor|admin] [--password-stdin]\n"
	  "       dam user list [--json]\n"
	  "       dam user passwd NAME [--password-stdin]\n"
	  "       dam user disable NAME\n       dam user enable NAME\n"
	  "       dam user role NAME ROLE\n"
	  "Without --password-stdin a password is generated and shown once." },
	{ "token", cmd_token, "create, list and revoke API tokens",
	  "dam token create --user NAME [--role ROLE] [--expires 30d|2026-12-31] [--label TEXT]\n"
	  "       dam token list [--user NAME] [--json]\n"
	  "       dam token revoke ID\n"
	  "The secret is shown once, at creation; send it as \"Authorization: Bearer SECRET\"." },
	{ "field", cmd_field, "define metadata fields: types, labels, vocabularies",
	  "dam field add KEY --type text|longtext|number|date|boolean|choice|multichoice|url|person\n"
	  "          [--label LANG=TEXT]... [--required] [--default V] [--vocab NAME] [--searchable]\n"
	  "          [--facetable] [--multilang] [--help-text T]\n"
	  "       dam field set KEY --type TYPE [the options of add]   (replaces the definition)\n"
	  "       dam field list [--json]\n"
	  "       dam field rm KEY" },
	{ "vocab", cmd_vocab, "controlled vocabularies with hierarchy and synonyms",
	  "dam vocab add NAME\n"
	  "       dam vocab term NAME TERM [--parent TERM] [--synonym S]... [--label LANG=TEXT]...\n"
	  "       dam vocab show NAME [--json]\n"
	  "       dam vocab list [--json]" },
	{ "template", cmd_template, "metadata templates for ingest and bulk edit",
	  "dam template add NAME [--field KEY=VALUE]... [--tag T]... [--match GLOB]\n"
	  "       dam template list [--json]\n"
	  "       dam template apply NAME ID...\n"
	  "       dam template rm NAME\n"
	  "A --match glob with a '/' is matched against the source path, else the file name." },
	{ "pattern", cmd_pattern, "file-name conventions parsed into fields at ingest",
	  "dam pattern add PATTERN      e.g. '{sku}_{view}_{n}.{ext}'\n"
	  "       dam pattern list [--json]\n"
	  "       dam pattern rm PATTERN\n"
	  "       dam pattern test FILENAME" },
	{ "languages", cmd_languages, "show or set the library's languages",
	  "dam languages [show]\n       dam languages set en,zh,nl,fr" },
	{ "incomplete", cmd_incomplete, "assets missing required fields; fix them in bulk",
	  "dam incomplete [--json] [--apply-template NAME | --set KEY=VALUE]\n"
	  "Exits 1 when some asset is incomplete." },
	{ "render", cmd_render, "write an asset through a channel preset or transform to a file",
	  "dam render ID PRESET|OPTIONS -o FILE|-\n       (OPTIONS: transform text such as w_800,h_800,fit_cover; see docs/delivery.md)" },
	{ "url", cmd_url, "print a signed delivery URL for an asset and preset",
	  "dam url ID PRESET|OPTIONS [--expires 90s|10m|2h|7d|SECONDS|DATE] [--version N] [--base URL]" },
	{ "preset", cmd_preset, "list, add or change channel presets",
	  "dam preset list [--json]\n       dam preset set NAME SPEC [--description TEXT] [--on-use]\n       dam preset rm NAME" },
	{ "key", cmd_key, "signing keys of delivery URLs: list, rotate, retire",
	  "dam key list\n       dam key rotate\n       dam key retire ID" },
	{ "config", cmd_config, "store or show the settings every node of the library agrees on",
	  "dam config push        store dam.conf's shared keys (and [preset] sections) in the database\n"
	  "       dam config show [--json]   the shared settings in effect and where each comes from\n"
	  "Once pushed, shared keys come from the database on every node; dam.conf keeps the node's own\n"
	  "keys (docs/configuration.md, \"where it lives\")." },
	{ "serve", cmd_serve, "run the HTTP API server (and job workers)",
	  "dam serve [--listen HOST:PORT] [--workers N | --no-workers] [--threads N] [--tls-cert FILE --tls-key FILE]\n"
	  "          [--trusted-proxies ADDR,...] [--max-upload MB] [--max-conns-per-client N] [--stop-deadline S] [--quiet]\n"
	  "--workers N: job worker processes (0 = one per core, the default); --no-workers (= --workers -1):\n"
	  "an API and delivery node only: uploads queue their jobs for `dam worker` processes, here or on\n"
	  "other machines sharing the library's database" },
	{ "job-zygote", cmd_job_zygote, NULL, "dam job-zygote --library DIR (internal)" },
	{ "analyze-fd", cmd_analyze_fd, NULL, "dam analyze-fd --library DIR (internal: analyses fd 3)" },
	{ "job-run", cmd_job_run, NULL, "dam job-run --library DIR --parent PID --claim TOKEN JOB (internal)" },
};

const struct cli_command *cli_find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void help(FILE *f)
{
	fprintf(f, "usage: dam [--library DIR] COMMAND [ARGS]\n\n"
		   "The library is --library DIR, else $DAM_LIBRARY, else the nearest folder\n"
		   "holding dam.conf from here up.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].summary)
			fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'dam COMMAND --help' shows a command's options.\n");
}

int cli_exit_code(int code)
{
	switch (code) {
	case DAM_OK: return EXIT_OK;
	case DAM_ENOTFOUND: return EXIT_NOTFOUND;
	case DAM_EINVAL: case DAM_EEXIST: case DAM_ECONFLICT: case DAM_ELIMIT: case DAM_EMEDIA:
		return EXIT_INVALID;
	case DAM_EVERSION: return EXIT_NEWER;
	case DAM_EDAMAGED: return EXIT_PARTIAL;
	}
	return EXIT_FAILURE_;
}

int cli_fail(const struct dam_err *err)
{
	fprintf(stderr, "dam: %s\n", err->msg[0] ? err->msg : dam_err_name(err->code));
	return cli_exit_code(err->code);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	const struct cli_command *c = cli_find_command(cmd);
	va_list ap;

	fprintf(stderr, "dam %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", c ? c->usage : "dam --help");
	return EXIT_USAGE;
}

bool cli_wants_help(const char *cmd, int argc, char **argv)
{
	const struct cli_command *c = cli_find_command(cmd);

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("%s\n\n%s\n", c->summary ? c->summary : "", c->usage);
			return true;
		}
	}
	return false;
}

/* "cli:NAME" for the audit trail: $USER, else the name of the effective
 * user from the password database (cron jobs, systemd units and `env -i`
 * run without $USER), else the numeric uid, so an action is never
 * recorded as done by nobody in particular. */
static void cli_actor(char *out, size_t n)
{
	const char *user = getenv("USER");
	struct passwd pw, *found = NULL;
	char buf[1024];
	uid_t uid = geteuid();

	if (user && *user) {
		snprintf(out, n, "cli:%s", user);
		return;
	}
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found && found->pw_name && *found->pw_name)
		snprintf(out, n, "cli:%s", found->pw_name);
	else
		snprintf(out, n, "cli:uid-%lu", (unsigned long)uid);
}

int cli_open(struct cli *cli, struct dam **out, int *exit_code)
{
	struct dam_err err;
	char *root = NULL, actor[128];
	int rc;

	dam_err_clear(&err);
	if ((rc = library_find(cli->library, &root, &err)) == 0)
		rc = library_open(root, out, &err);
	free(root);
	if (rc < 0) {
		*exit_code = cli_fail(&err);
		return rc;
	}
	cli_actor(actor, sizeof actor);
	library_set_actor(*out, actor);
	return 0;
}

void cli_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
	}
	free(s);
}

void cli_print_name(FILE *f, const char *name)
{
	for (const char *p = name; *p; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

int main(int argc, char **argv)
{
	struct cli cli = { NULL, argv[0] };
	const struct cli_command *c;
	int i = 1;

	/* Job kinds that live above core (the zygote's children inherit this). */
	prerender_register();

	while (i < argc && argv[i][0] == '-') {
		if ((!strcmp(argv[i], "--library") || !strcmp(argv[i], "-L")) && i + 1 < argc) {
			cli.library = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--library=", 10)) {
			cli.library = argv[i] + 10;
			i++;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("dam " DAM_VERSION "\n");
			return EXIT_OK;
		} else {
			fprintf(stderr, "dam: unknown option %s\n", argv[i]);
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 < argc && (c = cli_find_command(argv[i + 1]))) {
			printf("%s\n\n%s\n", c->summary ? c->summary : "", c->usage);
			return EXIT_OK;
		}
		help(stdout);
		return EXIT_OK;
	}
	if (!(c = cli_find_command(argv[i]))) {
		fprintf(stderr, "dam: unknown command \"%s\" (see dam --help)\n", argv[i]);
		return EXIT_USAGE;
	}
	if (cli_wants_help(c->name, argc - i, argv + i))
		return EXIT_OK;
	return c->run(&cli, argc - i, argv + i);
}

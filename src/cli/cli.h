/*
 * cli.h - shared pieces of the `dam` command line: the command table, exit
 * codes (the one place library errors become exit statuses) and output.
 */
#ifndef DAM_CLI_CLI_H
#define DAM_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "core/library.h"

/* Exit codes, documented in README.md. */
enum {
	EXIT_OK = 0,
	EXIT_PARTIAL = 1,  /* finished, but some items failed or damage was found */
	EXIT_USAGE = 2,    /* bad command line */
	EXIT_NOTFOUND = 3, /* no such library, asset, version or rendition */
	EXIT_INVALID = 4,  /* invalid input (tag, field, file) */
	EXIT_FAILURE_ = 5, /* I/O, database or other failure */
	EXIT_NEWER = 6,    /* library made by a newer dam */
};

struct cli {
	const char *library;  /* --library, or NULL */
	const char *argv0;
};

struct cli_command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
	const char *usage;
};

/* Maps a library error code to an exit code. */
int cli_exit_code(int code);
/* Prints "dam: <msg>" to stderr and returns the exit code for err. */
int cli_fail(const struct dam_err *err);
/* Prints a usage error for cmd and returns EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when argv has --help or -h; prints the command's usage. */
bool cli_wants_help(const char *cmd, int argc, char **argv);

/* Finds and opens the library (--library, DAM_LIBRARY, or walking up);
 * sets the actor to "cli:<user>". On failure prints and returns < 0 and
 * sets *exit_code. */
int cli_open(struct cli *cli, struct dam **out, int *exit_code);

/* Prints to stderr one warning line per shared key dam.conf sets to a
 * value other than the library's (settings_differences), as "dam CMD:". */
void cli_settings_warn(struct dam *dam, const char *cmd);

/* Prints JSON (pretty) to stdout followed by a newline. */
void cli_print_json(const json_t *j);
/* Shell-safe display of a name: control characters shown as '?'. */
void cli_print_name(FILE *f, const char *name);

/* Command entry points. */
int cmd_init(struct cli *, int, char **);
int cmd_ingest(struct cli *, int, char **);
int cmd_ls(struct cli *, int, char **);
int cmd_show(struct cli *, int, char **);
int cmd_get(struct cli *, int, char **);
int cmd_render(struct cli *, int, char **);
int cmd_url(struct cli *, int, char **);
int cmd_preset(struct cli *, int, char **);
int cmd_key(struct cli *, int, char **);
int cmd_tag(struct cli *, int, char **);
int cmd_meta(struct cli *, int, char **);
int cmd_rm(struct cli *, int, char **);
int cmd_restore(struct cli *, int, char **);
int cmd_jobs(struct cli *, int, char **);
int cmd_worker(struct cli *, int, char **);
int cmd_job_run(struct cli *, int, char **);
int cmd_serve(struct cli *, int, char **);
int cmd_search(struct cli *, int, char **);
int cmd_job_zygote(struct cli *, int, char **);
int cmd_analyze_fd(struct cli *, int, char **);
int cmd_fsck(struct cli *, int, char **);
int cmd_gc(struct cli *, int, char **);
int cmd_migrate(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *, int, char **);
int cmd_user(struct cli *, int, char **);
int cmd_token(struct cli *, int, char **);
int cmd_field(struct cli *, int, char **);
int cmd_vocab(struct cli *, int, char **);
int cmd_template(struct cli *, int, char **);
int cmd_pattern(struct cli *, int, char **);
int cmd_languages(struct cli *, int, char **);
int cmd_incomplete(struct cli *, int, char **);
int cmd_config(struct cli *, int, char **);

const struct cli_command *cli_find_command(const char *name);

#endif

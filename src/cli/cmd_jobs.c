/* cmd_jobs.c - jobs, worker, and the internal job-run child. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/job.h"
#include "core/worker.h"

static int jobs_list(struct dam *dam, int argc, char **argv)
{
	const char *state = NULL;
	bool json = false;
	int limit = 50;
	struct dam_err err;
	json_t *list, *counts, *j;
	size_t i;

	for (int k = 0; k < argc; k++) {
		if (!strcmp(argv[k], "--json"))
			json = true;
		else if (!strcmp(argv[k], "--state") && k + 1 < argc)
			state = argv[++k];
		else if (!strcmp(argv[k], "--limit") && k + 1 < argc)
			limit = (int)strtol(argv[++k], NULL, 10);
		else
			return cli_usage("jobs", "unexpected argument %s", argv[k]);
	}
	if (state && strcmp(state, "queued") && strcmp(state, "running") && strcmp(state, "done") &&
	    strcmp(state, "failed") && strcmp(state, "cancelled"))
		return cli_usage("jobs", "--state is one of queued, running, done, failed, cancelled");
	dam_err_clear(&err);
	if (job_counts(dam, &counts, &err) < 0)
		return cli_fail(&err);
	if (job_list(dam, state, limit, &list, &err) < 0) {
		json_decref(counts);
		return cli_fail(&err);
	}
	if (json) {
		json_t *o = json_pack("{s:O,s:O}", "counts", counts, "jobs", list);
		cli_print_json(o);
		json_decref(o);
	} else {
		printf("queued %lld  running %lld  done %lld  failed %lld  cancelled %lld\n",
		       (long long)json_integer_value(json_object_get(counts, "queued")),
		       (long long)json_integer_value(json_object_get(counts, "running")),
		       (long long)json_integer_value(json_object_get(counts, "done")),
		       (long long)json_integer_value(json_object_get(counts, "failed")),
		       (long long)json_integer_value(json_object_get(counts, "cancelled")));
		json_array_foreach(list, i, j) {
			printf("%s  %-8s %-9s %lld/%lld  ", json_string_value(json_object_get(j, "id")),
			       json_string_value(json_object_get(j, "kind")), json_string_value(json_object_get(j, "state")),
			       (long long)json_integer_value(json_object_get(j, "attempts")),
			       (long long)json_integer_value(json_object_get(j, "max_attempts")));
			cli_print_name(stdout, json_string_value(json_object_get(j, "filename")));
			const char *e = json_string_value(json_object_get(j, "error"));
			if (e && *e)
				printf("  error: %s", e);
			printf("\n");
		}
	}
	json_decref(counts);
	json_decref(list);
	return EXIT_OK;
}

int cmd_jobs(struct cli *cli, int argc, char **argv)
{
	struct dam_err err;
	struct dam *dam;
	int code, n;

	if (cli_open(cli, &dam, &code) < 0)
		return code;
	dam_err_clear(&err);
	if (argc >= 2 && !strcmp(argv[1], "retry")) {
		if (argc > 3) {
			code = cli_usage("jobs", "retry takes at most one job id");
		} else if ((n = job_retry(dam, argc == 3 ? argv[2] : NULL, &err)) < 0) {
			code = cli_fail(&err);
		} else {
			printf("%d job(s) queued again; run dam worker --until-idle to process them\n", n);
			code = EXIT_OK;
		}
	} else if (argc >= 2 && !strcmp(argv[1], "cancel")) {
		if (argc != 3)
			code = cli_usage("jobs", "cancel takes one job id");
		else if (job_cancel(dam, argv[2], &err) < 0)
			code = cli_fail(&err);
		else
			code = EXIT_OK;
	} else {
		int skip = argc >= 2 && !strcmp(argv[1], "list") ? 2 : 1;
		code = jobs_list(dam, argc - skip, argv + skip);
	}
	library_close(dam);
	return code;
}

static volatile sig_atomic_t stop_flag, done_flag = 1;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* A worker runs unattended: each failed attempt, and each result dropped
 * because its lease ran out, gets a line on stderr (the job keeps the
 * reason too, see dam jobs). */
static void log_job(void *ctx, const struct job *job, bool ok, const char *error)
{
	(void)ctx;
	if (!ok)
		fprintf(stderr, "dam worker: job %s (%s, attempt %d of %d): %s\n", job->id, job->kind, job->attempts,
			job->max_attempts, error && *error ? error : "failed");
}

int cmd_worker(struct cli *cli, int argc, char **argv)
{
	struct worker_opts wo = { .stop = &stop_flag, .on_job = log_job };
	struct dam_err err;
	struct dam *dam;
	bool supervised = false;
	char *root;
	int code;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--until-idle"))
			wo.producer_done = &done_flag;
		else if (!strcmp(argv[i], "--processes") && i + 1 < argc)
			wo.processes = (int)strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--supervised"))
			supervised = true;
		else if (!strcmp(argv[i], "--name") && i + 1 < argc && *argv[i + 1])
			wo.name = argv[++i];
		else
			return cli_usage("worker", "unexpected argument %s", argv[i]);
	}
	umask(077); /* as dam serve: its job children inherit it */
	if (cli_open(cli, &dam, &code) < 0)
		return code;
	if (!supervised) /* dam serve, which started it, has warned */
		cli_settings_warn(dam, "worker");
	root = strdup(dam->root);
	library_close(dam);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* Started by dam serve: stop (gracefully) when serve goes away. */
	if (supervised) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			stop_flag = 1;
	}
	dam_err_clear(&err);
	code = worker_run(root, &wo, &err) < 0 ? cli_fail(&err) : EXIT_OK;
	free(root);
	return code;
}

int cmd_job_run(struct cli *cli, int argc, char **argv)
{
	long parent = 0;
	const char *job = NULL, *claim = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--parent") && i + 1 < argc)
			parent = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--claim") && i + 1 < argc)
			claim = argv[++i];
		else if (!strcmp(argv[i], "--library") && i + 1 < argc)
			cli->library = argv[++i];
		else
			job = argv[i];
	}
	if (!job || !claim || !cli->library)
		return EXIT_USAGE;
	return worker_child_main(cli->library, job, claim, parent);
}

int cmd_job_zygote(struct cli *cli, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--library") && i + 1 < argc)
			cli->library = argv[++i];
	if (!cli->library)
		return EXIT_USAGE;
	return worker_zygote_main(cli->library);
}

int cmd_analyze_fd(struct cli *cli, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--library") && i + 1 < argc)
			cli->library = argv[++i];
	if (!cli->library)
		return EXIT_USAGE;
	return worker_analyze_child_main(cli->library, 3);
}

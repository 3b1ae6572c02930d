/* cmd_ingest.c - `dam ingest`: files, folders, globs, watch folders. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/ingest.h"
#include "core/upload.h"
#include "core/job.h"
#include "core/walk.h"
#include "core/watch.h"
#include "core/worker.h"

struct strlist {
	char **v;
	int n, cap;
};

static int strlist_push(struct strlist *l, const char *s)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, (size_t)cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(s)))
		return -1;
	l->n++;
	return 0;
}

static void strlist_release(struct strlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

struct run {
	struct dam *dam;
	struct ingest_opts opts;
	struct progress pg;
	bool json, process, watch;
	int workers;
	struct strlist files, versions;
	json_t *results;
	int64_t added, versioned, dups, failed, would, bytes, done;
	int64_t jobs_ok, jobs_failed, watch_seen;
	volatile sig_atomic_t producer_done;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int collect(void *ctx, const char *path)
{
	return strlist_push(&((struct run *)ctx)->files, path) < 0 ? DAM_ENOMEM : 0;
}

static void walk_error(void *ctx, const char *path, const struct dam_err *err)
{
	struct run *r = ctx;

	r->failed++;
	if (r->json) {
		json_array_append_new(r->results, json_pack("{s:s,s:s,s:s}", "path", path, "status", "failed",
							    "error", err->msg));
		return;
	}
	fprintf(stderr, "failed    ");
	cli_print_name(stderr, path);
	fprintf(stderr, ": %s\n", err->msg);
}

static void report(struct run *r, const char *path, const struct ingest_result *res)
{
	const char *st = ingest_status_name(res->status);
	char warning[300];

	if (r->json) {
		json_t *o = ingest_result_json(res, NULL);
		json_t *p = json_string(path);
		json_object_set_new(o, "path", p ? p : json_string("(name not valid UTF-8)"));
		json_array_append_new(r->results, o);
		return;
	}
	pthread_mutex_lock(&r->pg.lock);
	if (r->pg.tty)
		fputs("\r\033[K", stderr);
	pthread_mutex_unlock(&r->pg.lock);
	FILE *f = res->status == INGEST_FAILED ? stderr : stdout;
	fprintf(f, "%-9s ", st);
	cli_print_name(f, path);
	switch (res->status) {
	case INGEST_ADDED: fprintf(f, " -> %s (%s)", res->asset_id, res->sniff.mime); break;
	case INGEST_VERSION: fprintf(f, " -> %s version %d", res->asset_id, res->version_number); break;
	case INGEST_DUPLICATE: fprintf(f, " duplicates %s", res->duplicate_of); break;
	case INGEST_WOULD_ADD: fprintf(f, " (%s)", res->sniff.mime); break;
	case INGEST_FAILED: fprintf(f, ": %s", res->err.msg); break;
	}
	if (res->status != INGEST_FAILED && media_sniff_warning(&res->sniff, warning, sizeof warning))
		fprintf(f, " [%s]", warning);
	fputc('\n', f);
	fflush(f);
}

static int ingest_one(struct run *r, const char *path)
{
	struct ingest_result res;
	int rc = ingest_file(r->dam, path, &r->opts, &res);

	if (rc < 0) {
		fprintf(stderr, "dam: %s\n", res.err.msg);
		return rc;
	}
	switch (res.status) {
	case INGEST_ADDED: r->added++; break;
	case INGEST_VERSION: r->versioned++; break;
	case INGEST_DUPLICATE: r->dups++; break;
	case INGEST_WOULD_ADD: r->would++; break;
	case INGEST_FAILED: r->failed++; break;
	}
	if (res.status == INGEST_ADDED || res.status == INGEST_VERSION)
		strlist_push(&r->versions, res.version_id);
	r->bytes += (int64_t)res.size;
	report(r, path, &res);
	progress_update(&r->pg, ++r->done, r->watch ? r->watch_seen : r->files.n, r->bytes, NULL);
	return 0;
}

static void on_job(void *ctx, const struct job *job, bool ok, const char *error)
{
	struct run *r = ctx;

	pthread_mutex_lock(&r->pg.lock);
	if (ok)
		r->jobs_ok++;
	else
		r->jobs_failed++;
	pthread_mutex_unlock(&r->pg.lock);
}

static void *pool_main(void *arg)
{
	struct run *r = arg;
	struct worker_opts wo = { .processes = r->workers, .producer_done = r->watch ? NULL : &r->producer_done,
				  .stop = &stop_flag, .on_job = on_job, .ctx = r };
	struct dam_err err;

	if (worker_run(r->dam->root, &wo, &err) < 0)
		fprintf(stderr, "dam: %s\n", err.msg);
	return NULL;
}

/* Failures found while processing this run's versions, with their reason. */
static int report_processing(struct run *r)
{
	json_t *list = NULL, *v;
	struct dam_err err;
	int failed = 0;
	size_t i;

	if (ingest_unfinished(r->dam, (const char *const *)r->versions.v, r->versions.n, &list, &err) < 0) {
		fprintf(stderr, "dam: %s\n", err.msg);
		return 0;
	}
	json_array_foreach(list, i, v) {
		bool pending = !strcmp(json_string_value(json_object_get(v, "status")), "pending");
		failed += !pending;
		if (r->json) {
			json_array_append_new(r->results, json_pack("{s:O,s:s,s:O,s:O}", "path", json_object_get(v, "filename"),
				"status", pending ? "processing_pending" : "processing_failed",
				"asset_id", json_object_get(v, "asset_id"), "error", json_object_get(v, "error")));
		} else if (!pending) {
			fprintf(stderr, "failed    ");
			cli_print_name(stderr, json_string_value(json_object_get(v, "filename")));
			fprintf(stderr, " (%s): processing failed: %s\n", json_string_value(json_object_get(v, "asset_id")),
				json_string_value(json_object_get(v, "error")));
		}
	}
	json_decref(list);
	return failed;
}

static void summary(struct run *r, int proc_failed)
{
	if (r->json) {
		json_t *o = json_pack("{s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I}}", "results", json_incref(r->results),
				      "summary", "added", (json_int_t)r->added, "versions", (json_int_t)r->versioned,
				      "duplicates", (json_int_t)r->dups, "would_add", (json_int_t)r->would,
				      "failed", (json_int_t)r->failed, "processing_failed", (json_int_t)proc_failed,
				      "bytes", (json_int_t)r->bytes);
		cli_print_json(o);
		json_decref(o);
		return;
	}
	if (r->opts.dry_run) {
		printf("dry run: %lld would be added, %lld duplicates, %lld failed\n", (long long)r->would,
		       (long long)r->dups, (long long)r->failed);
		return;
	}
	printf("%lld added, %lld new versions, %lld duplicates skipped, %lld failed", (long long)r->added,
	       (long long)r->versioned, (long long)r->dups, (long long)r->failed);
	if (r->process)
		printf("; processing: %lld failed", (long long)proc_failed);
	printf("\n");
}

static void watch_file(void *ctx, const char *path)
{
	struct run *r = ctx;

	/* The total grows as files arrive; files itself stays empty. */
	r->watch_seen++;
	ingest_one(r, path);
}

enum { OPT_TAG = 256, OPT_TEMPLATE, OPT_META, OPT_NEWVER, OPT_DRY, OPT_JSON, OPT_NOPROC, OPT_WORKERS, OPT_WATCH, OPT_BYNAME };

static int parse(struct run *r, int argc, char **argv, struct strlist *tags, struct strlist *keys,
		 struct strlist *vals)
{
	static const struct option opts[] = {
		{ "tag", required_argument, NULL, OPT_TAG }, { "meta", required_argument, NULL, OPT_META },
		{ "new-version-of", required_argument, NULL, OPT_NEWVER }, { "dry-run", no_argument, NULL, OPT_DRY },
		{ "json", no_argument, NULL, OPT_JSON }, { "no-process", no_argument, NULL, OPT_NOPROC },
		{ "workers", required_argument, NULL, OPT_WORKERS }, { "watch", no_argument, NULL, OPT_WATCH },
		{ "versions-by-name", no_argument, NULL, OPT_BYNAME }, { "template", required_argument, NULL, OPT_TEMPLATE },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *eq, *end;
		switch (c) {
		case OPT_TAG: strlist_push(tags, optarg); break;
		case OPT_META:
			if (!(eq = strchr(optarg, '=')))
				return cli_usage("ingest", "--meta wants KEY=VALUE, got \"%s\"", optarg);
			*eq = '\0';
			strlist_push(keys, optarg);
			strlist_push(vals, eq + 1);
			break;
		case OPT_NEWVER: r->opts.new_version_of = optarg; break;
		case OPT_TEMPLATE: r->opts.template_name = optarg; break;
		case OPT_DRY: r->opts.dry_run = true; break;
		case OPT_JSON: r->json = true; break;
		case OPT_NOPROC: r->process = false; break;
		case OPT_WATCH: r->watch = true; break;
		case OPT_BYNAME: r->opts.versions_by_name = true; break;
		case OPT_WORKERS:
			r->workers = (int)strtol(optarg, &end, 10);
			if (*end || r->workers < 0 || r->workers > 64)
				return cli_usage("ingest", "--workers wants 0-64");
			break;
		default: return cli_usage("ingest", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("ingest", "give at least one file, folder or pattern");
	if (r->opts.new_version_of && (r->watch || argc - optind != 1))
		return cli_usage("ingest", "--new-version-of takes exactly one file");
	r->opts.tags = (const char *const *)tags->v;
	r->opts.ntags = tags->n;
	r->opts.meta_keys = (const char *const *)keys->v;
	r->opts.meta_values = (const char *const *)vals->v;
	r->opts.nmeta = keys->n;
	return 0;
}

static int run_batch(struct run *r, int npaths, char **paths)
{
	pthread_t pool;
	bool pool_started = false;
	int rc = 0, proc_failed = 0;

	if (r->process)
		pool_started = pthread_create(&pool, NULL, pool_main, r) == 0;
	if (r->watch) {
		struct watch_opts wo = { 0, &stop_flag, watch_file, r };
		struct dam_err err;
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		if (watch_run((const char *const *)paths, npaths, &wo, &err) < 0)
			rc = cli_fail(&err), stop_flag = 1;
	} else {
		walk_paths((const char *const *)paths, npaths, collect, walk_error, r);
		for (int i = 0; i < r->files.n && rc == 0; i++)
			if (ingest_one(r, r->files.v[i]) < 0)
				rc = EXIT_FAILURE_;
	}
	r->producer_done = 1;
	if (pool_started) {
		if (rc)
			stop_flag = 1;
		progress_update(&r->pg, r->done, r->files.n, 0, " (processing)");
		pthread_join(pool, NULL);
	}
	progress_finish(&r->pg);
	if (r->process && !r->opts.dry_run)
		proc_failed = report_processing(r);
	summary(r, proc_failed);
	if (rc)
		return rc;
	return r->failed || proc_failed ? EXIT_PARTIAL : EXIT_OK;
}

int cmd_ingest(struct cli *cli, int argc, char **argv)
{
	struct strlist tags = { 0 }, keys = { 0 }, vals = { 0 };
	struct run r;
	struct dam_err err;
	int rc, code;

	memset(&r, 0, sizeof r);
	r.process = true;
	r.opts.priority = JOB_PRIO_BULK;
	if ((rc = parse(&r, argc, argv, &tags, &keys, &vals)) != 0)
		goto out;
	if (r.opts.dry_run)
		r.process = false;
	dam_err_clear(&err);
	if (ingest_opts_check(&r.opts, &err) < 0) {
		rc = cli_fail(&err);
		goto out;
	}
	if (cli_open(cli, &r.dam, &code) < 0) {
		rc = code;
		goto out;
	}
	r.results = json_array();
	progress_init(&r.pg, "ingest", r.json);
	rc = run_batch(&r, argc - optind, argv + optind);
	json_decref(r.results);
	library_close(r.dam);
out:
	strlist_release(&tags);
	strlist_release(&keys);
	strlist_release(&vals);
	strlist_release(&r.files);
	strlist_release(&r.versions);
	return rc;
}

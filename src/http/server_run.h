/*
 * server_run.h - `dam serve` from start to stop.
 *
 * server_run() reads dam.conf, creates the first administrator if there is
 * none, opens delivery (keys, rendition cache, preset sync), listens, and
 * starts the h2o side (server.h), the purge thread and the search-cache
 * warm-up; its main thread then waits for signals (SIGHUP: reload dam.conf
 * and presets) and supervises the job worker processes (restarted with
 * back-off when they exit). SIGTERM/SIGINT stop it gracefully.
 */
#ifndef DAM_HTTP_SERVER_RUN_H
#define DAM_HTTP_SERVER_RUN_H

#include "http/server_ctx.h"
#include "util/err.h"

/* Runs the server until SIGTERM/SIGINT. opts is copied. Returns 0 after a
 * graceful stop, < 0 when it could not start (err says why). Once per
 * process: it blocks signals in the calling thread and owns the process's
 * child processes. */
int server_run(const struct server_opts *opts, struct dam_err *err);

#endif

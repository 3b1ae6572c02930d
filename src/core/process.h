/*
 * process.h - running one media job: technical metadata, embedded tags and
 * fields, derivatives. Decodes untrusted bytes, so it runs only inside a
 * sandboxed worker child (see worker.h), never in ingest or serve.
 */
#ifndef DAM_CORE_PROCESS_H
#define DAM_CORE_PROCESS_H

#include "core/job.h"
#include "core/library.h"

/* Runs job (state running, claimed by our parent) and commits its results
 * and its "done" state in one transaction. On failure returns < 0 with err
 * filled and records nothing; the caller decides with job_fail(). */
int process_run(struct dam *dam, const char *job_id, struct dam_err *err);

/* True when a failure with this code would fail again on retry. */
int process_error_is_permanent(int code);

#endif

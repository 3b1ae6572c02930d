/*
 * process.h - running one media job: technical metadata, embedded tags and
 * fields, derivatives. Decodes untrusted bytes, so it runs only inside a
 * sandboxed worker child (see worker.h), never in ingest or serve.
 */
#ifndef DAM_CORE_PROCESS_H
#define DAM_CORE_PROCESS_H

#include "core/job.h"
#include "core/library.h"

/* Runs job (state running, claimed by our parent with token claim) and
 * commits its results and its "done" state in one transaction, if the claim
 * still holds the job (job_done). On failure returns < 0 with err filled and
 * records nothing (DAM_ECONFLICT when the claim was lost: the results are
 * dropped); the caller decides with job_fail(). */
int process_run(struct dam *dam, const char *job_id, const char *claim, struct dam_err *err);

/* Jobs of other kinds run a function a higher layer registers at start-up
 * (e.g. "renditions", in deliver/): same contract as process_run, called
 * with the library's shared lock held. Register before any job runs. */
typedef int (*process_kind_fn)(struct dam *dam, const char *job_id, const char *claim, struct dam_err *err);
void process_register(const char *kind, process_kind_fn fn);

/* Priority of the channel-renditions job queued after processing. */
#define RENDITIONS_PRIORITY -5

/* True when a failure with this code would fail again on retry. */
int process_error_is_permanent(int code);

#endif

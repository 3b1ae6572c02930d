/* h_jobs.c - the job queue for administrators. */
#include <stdlib.h>
#include <string.h>

#include "core/job.h"
#include "http/handlers.h"

HANDLER(h_jobs_list)
{
	char *state = http_req_query(req, "state");
	struct dam_err err;
	json_t *list, *counts;
	long long limit;

	if (!http_allow(req, res, AUTH_JOBS_READ, NULL))
		goto out;
	if ((limit = http_query_int(req, res, "limit", 100, 1, 1000)) < 0)
		goto out;
	if (state && strcmp(state, "queued") && strcmp(state, "running") && strcmp(state, "done") &&
	    strcmp(state, "failed") && strcmp(state, "cancelled")) {
		http_res_error(res, 400, "invalid_parameter", "state is one of queued, running, done, failed, cancelled", "state");
		goto out;
	}
	if (job_counts(dam, &counts, &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	if (job_list(dam, state, (int)limit, &list, &err) < 0) {
		json_decref(counts);
		http_res_dam_error(res, &err);
		goto out;
	}
	http_res_json(res, 200, json_pack("{s:o,s:o}", "counts", counts, "items", list));
out:
	free(state);
}

HANDLER(h_job_retry)
{
	struct dam_err err;
	int n;

	if (!http_allow(req, res, AUTH_JOBS_MANAGE, NULL))
		return;
	if ((n = job_retry(dam, req->params[0], &err)) < 0)
		http_res_dam_error(res, &err);
	else
		http_res_json(res, 200, json_pack("{s:i}", "requeued", n));
}

HANDLER(h_job_cancel)
{
	struct dam_err err;

	if (!http_allow(req, res, AUTH_JOBS_MANAGE, NULL))
		return;
	if (job_cancel(dam, req->params[0], &err) < 0)
		http_res_dam_error(res, &err);
	else
		res->status = 204;
}

#include "core/event.h"

#include <stdlib.h>

#include "util/id.h"
#include "util/timeutil.h"

int event_record(struct dam *dam, const char *kind, const char *object_id, const json_t *data,
		 struct dam_err *err)
{
	char id[DAM_ID_LEN + 1];
	char *d = data ? json_dumps(data, JSON_COMPACT) : NULL;
	int rc;

	id_new(id);
	rc = db_run(dam->db, err, "INSERT INTO events(id, at, actor, kind, object_id, data) VALUES (?,?,?,?,?,?)",
		    "sissss", id, (int64_t)time_now_ms(), dam->actor, kind, object_id, d);
	free(d);
	return rc < 0 ? rc : 0;
}

#include "core/refs.h"

#include "util/timeutil.h"

int refs_add(struct dam *dam, const char *key, uint64_t size, struct dam_err *err)
{
	return db_run(dam->db, err,
		      "INSERT INTO blobs(hash, size, refcount, created_at) VALUES (?,?,1,?)"
		      " ON CONFLICT(hash) DO UPDATE SET refcount = blobs.refcount + 1",
		      "sii", key, (int64_t)size, (int64_t)time_now_ms());
}

int refs_drop(struct dam *dam, const char *key, struct dam_err *err)
{
	return db_run(dam->db, err,
		      "UPDATE blobs SET refcount = refcount - 1 WHERE hash=? AND refcount > 0", "s", key);
}

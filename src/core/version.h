/*
 * version.h - changing which version of an asset is current, beyond
 * ingest: restoring an earlier version.
 *
 * Versions are never rewritten: restoring version N adds a new version
 * (numbered after the newest) that points at N's blob, so the history shows
 * what happened and when. Its technical metadata, renditions and similarity
 * fingerprint are copied from N (the blobs gain a reference each), so the
 * restored version is ready at once; a processing job is queued as well, so
 * the asset's automatic and embedded tags follow the restored content.
 * Everything, with its audit row, happens in one transaction.
 *
 * Ownership: ids are written into caller buffers. Thread-safety: as the
 * struct dam handle.
 */
#ifndef DAM_CORE_VERSION_H
#define DAM_CORE_VERSION_H

#include "core/library.h"
#include "util/id.h"

struct version_restored {
	char asset_id[DAM_ID_LEN + 1];
	char version_id[DAM_ID_LEN + 1];  /* the new version */
	int number;                        /* its number */
	int from;                          /* the number it copies */
};

/*
 * Makes a copy of version `number` of asset `ref` (an id or unique prefix)
 * the asset's current version. DAM_ENOTFOUND for an unknown asset or
 * version; DAM_ECONFLICT when the asset is deleted or `number` is already
 * the current version (nothing would change).
 */
int version_restore(struct dam *dam, const char *ref, int number, struct version_restored *out,
		    struct dam_err *err);

#endif

/*
 * search_summary.h - one asset as result lists show it (search pages,
 * similar images).
 *
 * Thread-safety: as struct dam (one thread at a time).
 */
#ifndef DAM_CORE_SEARCH_SUMMARY_H
#define DAM_CORE_SEARCH_SUMMARY_H

#include <jansson.h>
#include <stdint.h>

#include "core/library.h"

/* {"id","name","kind","size","status","created_at","updated_at","mime",
 * "version","has_thumbnail","transparent"[,"title"]} of the asset with
 * this rowid; NULL when there is none (or the database fails). Caller
 * decrefs. */
json_t *search__summary(struct dam *dam, uint32_t row);

#endif

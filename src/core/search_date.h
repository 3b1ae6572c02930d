/*
 * search_date.h - the clock and the date values of the query language
 * (its own module, so evaluation and indexing read dates without
 * including search.h, which includes them).
 *
 * Thread-safety: both functions are.
 */
#ifndef DAM_CORE_SEARCH_DATE_H
#define DAM_CORE_SEARCH_DATE_H

#include <stdbool.h>
#include <stdint.h>

/* The clock of relative dates in queries: DAM_SEARCH_NOW from the
 * environment when it holds a date time_parse() reads (tests set it to
 * make now+30d fixed), else the real time. Thread-safe. */
uint64_t search_clock_ms(void);

/* A date value of the query language into unix ms: 2026-01-31 (midnight
 * UTC), 2026-01-31T10:00:00Z, "7d"/"12h"/"30m"/"45s"/"2w" (that long before now),
 * "now", "now-7d", "now+30d". *day is set when the value names a whole day
 * (a bare YYYY-MM-DD). Returns 0, or DAM_EINVAL. */
int search_date_value(const char *s, uint64_t now_ms, uint64_t *out, bool *day);

#endif

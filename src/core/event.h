/*
 * event.h - usage events (downloads, searches, failed logins) kept for
 * analytics. Unlike the audit trail they record no state change, so they
 * are not hash-chained and are written outside the caller's transaction.
 */
#ifndef DAM_CORE_EVENT_H
#define DAM_CORE_EVENT_H

#include <jansson.h>

#include "core/library.h"

/* Records an event by the library's current actor; data borrowed (may be NULL). */
int event_record(struct dam *dam, const char *kind, const char *object_id, const json_t *data,
		 struct dam_err *err);

#endif

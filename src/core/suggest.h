/*
 * suggest.h - autocompletion for the UI's search box and its tag and field
 * inputs: field names, tags, vocabulary terms and field values that start
 * with what the user typed.
 *
 * Tags and facet values come from the search engine's in-memory facet map
 * (counts of live assets, most used first); vocabulary terms and synonyms
 * from the vocabulary tables; values of other fields from the fields table.
 * Matching ignores ASCII case.
 *
 * Ownership: *out belongs to the caller (json_decref). Thread-safety: as
 * the struct dam handle.
 */
#ifndef DAM_CORE_SUGGEST_H
#define DAM_CORE_SUGGEST_H

#include <jansson.h>

#include "core/library.h"

#define SUGGEST_MAX 50

struct suggest_request {
	const char *prefix;   /* what was typed ("" = the most used) */
	const char *field;    /* complete values of this field; NULL = field names, tags and terms */
	int limit;            /* 1..SUGGEST_MAX per kind (0 = 10) */
};

/*
 * *out = {"items": [...]}, each item one of
 *   {"kind":"field", "value":"color", "type":"facet"|"number"|"date"|"option"|<field type>}
 *   {"kind":"tag",   "value":"spring 2026", "count": 12}
 *   {"kind":"term",  "value":"sneakers", "vocab":"category"[, "synonym":"trainers"]}
 *   {"kind":"value", "value":"ABC123", "count": 3}
 * Without a field: field names, then tags, then terms. With one: its values
 * (tags for "tag"; terms of its vocabulary for choice fields; facet or
 * stored values otherwise; nothing for number and date fields).
 * DAM_EINVAL for a field name the query language cannot hold.
 */
int suggest(struct dam *dam, const struct suggest_request *r, json_t **out, struct dam_err *err);

#endif

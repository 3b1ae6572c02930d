/*
 * namepattern.h - file-name conventions parsed into fields at ingest.
 *
 * A pattern such as "{sku}_{view}_{n}.{ext}" is literal text with
 * placeholders {KEY}. A placeholder matches one or more characters other
 * than '_', '.' and '/'; literal parts must match exactly (case matters).
 * The whole file name (its base name) must match. Placeholders named "ext"
 * or starting with '_' are matched but not stored (the extension is already
 * known from the version). The library keeps an ordered list of patterns;
 * the first that matches wins.
 *
 * Limits: patterns are 1-255 bytes, 1-16 placeholders, no two placeholders
 * side by side; keys are field keys ([a-z0-9_.-]{1,64}).
 */
#ifndef DAM_CORE_NAMEPATTERN_H
#define DAM_CORE_NAMEPATTERN_H

#include <jansson.h>

#include "core/library.h"

#define NAMEPATTERN_MAX 255
#define NAMEPATTERN_PLACEHOLDERS 16

/* The fields one match produced. */
struct namepattern_match {
	int n;
	char keys[NAMEPATTERN_PLACEHOLDERS][65];
	char values[NAMEPATTERN_PLACEHOLDERS][NAMEPATTERN_MAX + 1];
	char pattern[NAMEPATTERN_MAX + 1];   /* the pattern that matched */
};

/* Checks a pattern's syntax. DAM_EINVAL with the reason. */
int namepattern_check(const char *pattern, struct dam_err *err);

/* Matches filename against one pattern (assumed checked). Returns 1 and
 * fills *out on a match, 0 when it does not match. Pure; thread-safe. */
int namepattern_match(const char *pattern, const char *filename, struct namepattern_match *out);

/* Tries the library's patterns in order on filename (a base name). Returns
 * 1 with *out filled by the first match, 0 when none matches (out->n = 0),
 * < 0 on a database error. */
int namepattern_apply(struct dam *dam, const char *filename, struct namepattern_match *out,
		      struct dam_err *err);

/* Appends a pattern to the list. DAM_EEXIST when already there.
 * Audit: pattern.add. */
int namepattern_add(struct dam *dam, const char *pattern, struct dam_err *err);

/* Removes a pattern. DAM_ENOTFOUND when absent. Audit: pattern.remove. */
int namepattern_remove(struct dam *dam, const char *pattern, struct dam_err *err);

/* The patterns in the order they are tried: [{"position", "pattern"}]. */
int namepattern_list(struct dam *dam, json_t **out, struct dam_err *err);

#endif

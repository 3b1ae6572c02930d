/*
 * names.h - the spelling of names the domain accepts: field keys (with an
 * optional @language), language tags and tags.
 *
 * Pure functions of their argument (no library handle, no database), so
 * asset.c, fielddef.c and vocab.c can all check a name without including
 * each other: they used to reach these through asset.h and fielddef.h,
 * which made the three modules one include circle. The functions keep the
 * names they had in asset.h and fielddef.h (which include this header),
 * so callers did not change.
 *
 * Thread-safe; nothing is allocated.
 */
#ifndef DAM_CORE_NAMES_H
#define DAM_CORE_NAMES_H

#include <stdbool.h>

/* A field key: 1..64 of [a-z0-9_.-], optionally followed by "@" and a
 * language tag ("title@zh": one value per language). */
bool asset_field_key_valid(const char *key);

/* Tags: 1..200 bytes of valid UTF-8 without control characters, trimmed. */
bool asset_tag_valid(const char *tag);

/* A language tag: [a-z]{2,3} optionally followed by -[a-z0-9]{2,8}. */
bool fielddef_lang_valid(const char *lang);

#endif

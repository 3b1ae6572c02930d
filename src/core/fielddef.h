/*
 * fielddef.h - admin-defined metadata fields and the validation of values.
 *
 * A field definition gives a field key a type, labels per language, help
 * text, a default, flags (required, searchable, facetable, multilang) and,
 * for choice fields, a controlled vocabulary (core/vocab.h). Keys without a
 * definition stay free fields: any UTF-8 value is accepted, which is how
 * `dam ingest --meta` and embedded metadata work.
 *
 * Values are strings in the `fields` table. Per type:
 *   text        one line (no control characters), at most 4096 bytes
 *   longtext    any UTF-8 text (newlines and tabs allowed), at most 64 KB
 *   number      a finite decimal number ("12", "-3.5", "1e3")
 *   date        YYYY-MM-DD, optionally THH:MM[:SS[.fff]] and Z or +HH:MM
 *   boolean     "true" or "false"
 *   choice      one term (or synonym) of the field's vocabulary
 *   multichoice terms separated by commas ("red, blue")
 *   url         http:// or https:// with a host, no spaces, <= 2048 bytes
 *   person      a name on one line, 1-200 bytes
 *
 * Multi-language values: a multilang field stores one row per language
 * under the key "KEY@LANG" ("title@zh"); LANG must be one of the library's
 * languages (fielddef_languages). A bare "KEY" stays allowed as the
 * language-neutral value. Non-multilang defined fields refuse "@LANG".
 *
 * Every change writes one audit row in its transaction. JSON returned is
 * owned by the caller (json_decref). A handle is used by one thread at a
 * time.
 */
#ifndef DAM_CORE_FIELDDEF_H
#define DAM_CORE_FIELDDEF_H

#include <jansson.h>
#include <stdbool.h>

#include "core/library.h"
#include "core/names.h"

enum field_type {
	FIELD_TEXT,
	FIELD_LONGTEXT,
	FIELD_NUMBER,
	FIELD_DATE,
	FIELD_BOOLEAN,
	FIELD_CHOICE,
	FIELD_MULTICHOICE,
	FIELD_URL,
	FIELD_PERSON,
};

/* "text", "longtext", ... as stored and shown. */
const char *field_type_name(enum field_type t);
/* Parses a type name (also "long text", "single choice", "multiple choice").
 * DAM_EINVAL with the list of types when unknown. */
int field_type_parse(const char *s, enum field_type *out, struct dam_err *err);

struct fielddef {
	const char *key;                 /* [a-z0-9_.-]{1,64}, no '@' */
	enum field_type type;
	const char *const *label_langs;  /* labels: parallel arrays, may be 0 long */
	const char *const *label_texts;
	int nlabels;
	const char *help;                /* may be NULL */
	const char *default_value;       /* may be NULL; validated against the type */
	const char *vocab;               /* required for choice/multichoice, else NULL */
	bool required, searchable, facetable, multilang;
};

/* Defines a field. DAM_EEXIST when key is already defined, DAM_ENOTFOUND
 * when its vocabulary does not exist, DAM_EINVAL for a bad key, label
 * language, default or missing vocabulary. Audit: field.add. */
int fielddef_add(struct dam *dam, const struct fielddef *def, struct dam_err *err);

/* Replaces the definition of def->key with def (every attribute: labels,
 * help, default, flags, type, vocabulary), with the checks of
 * fielddef_add. Values already stored are kept as they are; a value that
 * the new definition refuses is reported when it is next written.
 * DAM_ENOTFOUND when key is not defined. Audit: field.change (before and
 * after). */
int fielddef_set(struct dam *dam, const struct fielddef *def, struct dam_err *err);

/* Removes a definition; values already stored stay as free fields.
 * Audit: field.remove. */
int fielddef_remove(struct dam *dam, const char *key, struct dam_err *err);

/* All definitions, by key: [{key, type, labels{lang:text}, help, required,
 * default (string or null), vocab (or null), searchable, facetable,
 * multilang}]. The search engine reads searchable/facetable from here. */
int fielddef_list(struct dam *dam, json_t **out, struct dam_err *err);

/* One definition (same shape); DAM_ENOTFOUND when key is not defined. */
int fielddef_get(struct dam *dam, const char *key, json_t **out, struct dam_err *err);

/* Checks value against the type alone (no vocabulary, no database); key
 * only names the field in the message. DAM_EINVAL with a message such as
 * `width: "abc" is not a number`. */
int fielddef_check_type(enum field_type type, const char *key, const char *value,
			struct dam_err *err);

/* Validates one write of value to key (which may be "KEY@LANG"). An empty
 * value (a removal) and keys without definition are accepted. Choice
 * values outside the vocabulary are refused with the allowed values listed:
 *   color: "bleu" is not in vocabulary colors; allowed: blue, red, green
 * Returns 0 or DAM_EINVAL (err->field = key), or a database error. */
int fielddef_validate(struct dam *dam, const char *key, const char *value, struct dam_err *err);

/* The value to store for key: for a choice or multichoice field every item
 * as its vocabulary's canonical term (a synonym becomes its term:
 * "trainers" -> "sneakers"; multichoice items joined with ", "), so facets
 * never count one term under two names; any other value as it is. *out is
 * a new string (caller frees). Fails like fielddef_validate on a value
 * outside the vocabulary. */
int fielddef_canonical(struct dam *dam, const char *key, const char *value, char **out, struct dam_err *err);

/* fielddef_validate for n parallel keys/values; stops at the first refusal. */
int fielddef_validate_all(struct dam *dam, const char *const *keys, const char *const *values,
			  int n, struct dam_err *err);

/* Defaults of defined fields: {key: default} for those having one. */
int fielddef_defaults(struct dam *dam, json_t **out, struct dam_err *err);

/* ---- languages of the library ---- */

/* fielddef_lang_valid() (a language tag) is in core/names.h. */

/* The library's languages as a JSON array of strings (default ["en"]). */
int fielddef_languages(struct dam *dam, json_t **out, struct dam_err *err);

/* Sets the languages from a comma-separated list ("en,zh,nl,fr"); each
 * must be valid and appear once. Audit: library.languages. */
int fielddef_languages_set(struct dam *dam, const char *csv, struct dam_err *err);

/* ---- completeness ---- */

/* Live assets missing a required field (a multilang field counts as present
 * when any of its languages has a value):
 *   {"count": N, "assets": [{"id", "name", "missing": ["key", ...]}]}
 * ordered by asset id. */
int fielddef_incomplete(struct dam *dam, json_t **out, struct dam_err *err);

#endif

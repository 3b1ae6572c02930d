#include "core/fielddef.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/audit.h"
#include "core/names.h"
#include "core/vocab.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define TEXT_MAX 4096
#define LONGTEXT_MAX (64 * 1024)
#define URL_MAX 2048
#define PERSON_MAX 200
#define LABEL_MAX 200
#define HELP_MAX 2000
#define ALLOWED_MAX 300 /* bytes of allowed values quoted in an error */

static const char *const type_names[] = {
	[FIELD_TEXT] = "text",           [FIELD_LONGTEXT] = "longtext", [FIELD_NUMBER] = "number",
	[FIELD_DATE] = "date",           [FIELD_BOOLEAN] = "boolean",   [FIELD_CHOICE] = "choice",
	[FIELD_MULTICHOICE] = "multichoice", [FIELD_URL] = "url",      [FIELD_PERSON] = "person",
};
#define NTYPES ((int)(sizeof type_names / sizeof type_names[0]))

/* Spellings from the issue text map onto the stored names. */
static const struct {
	const char *alias;
	enum field_type type;
} type_aliases[] = {
	{ "long text", FIELD_LONGTEXT }, { "long_text", FIELD_LONGTEXT },
	{ "single choice", FIELD_CHOICE }, { "single_choice", FIELD_CHOICE },
	{ "multiple choice", FIELD_MULTICHOICE }, { "multiple_choice", FIELD_MULTICHOICE },
	{ "multi_choice", FIELD_MULTICHOICE }, { "bool", FIELD_BOOLEAN },
};

const char *field_type_name(enum field_type t)
{
	return (int)t >= 0 && (int)t < NTYPES ? type_names[t] : "text";
}

int field_type_parse(const char *s, enum field_type *out, struct dam_err *err)
{
	for (int i = 0; i < NTYPES; i++)
		if (!strcasecmp(s, type_names[i])) {
			*out = (enum field_type)i;
			return 0;
		}
	for (size_t i = 0; i < sizeof type_aliases / sizeof type_aliases[0]; i++)
		if (!strcasecmp(s, type_aliases[i].alias)) {
			*out = type_aliases[i].type;
			return 0;
		}
	return dam_err_set(err, DAM_EINVAL, "type",
			   "unknown field type \"%.40s\": use text, longtext, number, date, boolean, choice,"
			   " multichoice, url or person", s);
}

/* ---- type checks ---- */

static bool digits(const char *p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return false;
		*v = *v * 10 + (p[i] - '0');
	}
	return true;
}

/* HH:MM[:SS[.f+]][Z|+HH:MM|-HH:MM] */
static bool time_valid(const char *p)
{
	int h, mi, s, oh, om;

	if (!digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &mi) || h > 23 || mi > 59)
		return false;
	p += 5;
	if (*p == ':') {
		if (!digits(p + 1, 2, &s) || s > 60)
			return false;
		p += 3;
		if (*p == '.') {
			if (!isdigit((unsigned char)p[1]))
				return false;
			for (p++; isdigit((unsigned char)*p); p++)
				;
		}
	}
	if (*p == 'Z')
		return !p[1];
	if (*p == '+' || *p == '-')
		return digits(p + 1, 2, &oh) && p[3] == ':' && digits(p + 4, 2, &om) && !p[6] && oh <= 14 &&
		       om <= 59;
	return !*p;
}

static bool date_valid(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d;
	bool leap;

	if (strlen(s) < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return false;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return false;
	if (!s[10])
		return true;
	return (s[10] == 'T' || s[10] == ' ') && time_valid(s + 11);
}

static bool number_valid(const char *s)
{
	char *end;
	double v;

	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
		return false;
	v = strtod(s, &end);
	return *end == '\0' && isfinite(v);
}

static bool url_valid(const char *s, size_t n)
{
	size_t skip;

	if (!strncasecmp(s, "http://", 7))
		skip = 7;
	else if (!strncasecmp(s, "https://", 8))
		skip = 8;
	else
		return false;
	if (n > URL_MAX || !s[skip] || s[skip] == '/' || !utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Control characters other than tab and line breaks. */
static bool has_control_but_newlines(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\n' && *s != '\r' && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

int fielddef_check_type(enum field_type type, const char *key, const char *v, struct dam_err *err)
{
	size_t n = strlen(v);
	bool line_ok = n <= TEXT_MAX && utf8_valid(v, n) && !utf8_has_control(v, n);

	switch (type) {
	case FIELD_TEXT:
	case FIELD_CHOICE:
	case FIELD_MULTICHOICE:
		if (!line_ok)
			return dam_err_set(err, DAM_EINVAL, key,
					   "%s: must be one line of UTF-8 text without control characters, at most %d bytes",
					   key, TEXT_MAX);
		return 0;
	case FIELD_LONGTEXT:
		if (n > LONGTEXT_MAX || !utf8_valid(v, n) || has_control_but_newlines(v))
			return dam_err_set(err, DAM_EINVAL, key, "%s: must be UTF-8 text of at most 64 KB", key);
		return 0;
	case FIELD_NUMBER:
		if (!number_valid(v))
			return dam_err_set(err, DAM_EINVAL, key, "%s: \"%.60s\" is not a number (like 12, -3.5 or 1e3)", key, v);
		return 0;
	case FIELD_DATE:
		if (!date_valid(v))
			return dam_err_set(err, DAM_EINVAL, key,
					   "%s: \"%.60s\" is not a date (YYYY-MM-DD, optionally THH:MM[:SS] and Z or +HH:MM)",
					   key, v);
		return 0;
	case FIELD_BOOLEAN:
		if (strcmp(v, "true") && strcmp(v, "false"))
			return dam_err_set(err, DAM_EINVAL, key, "%s: \"%.60s\" is not a boolean; allowed: true, false", key, v);
		return 0;
	case FIELD_URL:
		if (!url_valid(v, n))
			return dam_err_set(err, DAM_EINVAL, key,
					   "%s: \"%.80s\" is not a URL (http:// or https:// with a host, no spaces)", key, v);
		return 0;
	case FIELD_PERSON:
		if (n == 0 || n > PERSON_MAX || !line_ok)
			return dam_err_set(err, DAM_EINVAL, key,
					   "%s: a person is a name on one line of at most %d bytes", key, PERSON_MAX);
		return 0;
	}
	return dam_err_set(err, DAM_EINVAL, key, "%s: unknown field type", key);
}

/* ---- languages ---- */

static int languages_csv(struct dam *dam, struct strbuf *out, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err, "SELECT value FROM library WHERE key='languages'", "")) < 0)
		return rc;
	rc = db_step(st, err);
	if (rc == DB_ROW && *db_col_text(st, 0))
		rc = strbuf_adds(out, db_col_text(st, 0));
	else if (rc >= 0)
		rc = strbuf_adds(out, "en");
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* True when lang is one of the comma-separated csv. */
static bool csv_has(const char *csv, const char *lang)
{
	size_t n = strlen(lang);

	for (const char *p = csv; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !strncmp(p, lang, n))
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

static json_t *csv_array(const char *csv)
{
	json_t *a = json_array();

	for (const char *p = csv; *p;) {
		size_t len = strcspn(p, ",");
		json_array_append_new(a, json_stringn(p, len));
		p += len + (p[len] == ',');
	}
	return a;
}

int fielddef_languages(struct dam *dam, json_t **out, struct dam_err *err)
{
	struct strbuf csv = STRBUF_INIT;
	int rc;

	if ((rc = languages_csv(dam, &csv, err)) == 0)
		*out = csv_array(csv.buf);
	strbuf_release(&csv);
	return rc;
}

/* Normalises "en, zh ,nl" into "en,zh,nl", checking each tag once. */
static int languages_normalise(const char *in, struct strbuf *out, struct dam_err *err)
{
	char lang[32];

	for (const char *p = in; *p;) {
		size_t len = strcspn(p, ",");
		const char *s = p, *e = p + len;
		while (s < e && *s == ' ')
			s++;
		while (e > s && e[-1] == ' ')
			e--;
		if ((size_t)(e - s) >= sizeof lang)
			return dam_err_set(err, DAM_EINVAL, "languages", "language tag too long");
		memcpy(lang, s, (size_t)(e - s));
		lang[e - s] = '\0';
		if (!fielddef_lang_valid(lang))
			return dam_err_set(err, DAM_EINVAL, "languages",
					   "\"%s\" is not a language tag (like en, zh, nl, pt-br; lower case)", lang);
		if (csv_has(out->buf, lang))
			return dam_err_set(err, DAM_EINVAL, "languages", "language %s is listed twice", lang);
		if ((out->len && strbuf_addch(out, ',') < 0) || strbuf_adds(out, lang) < 0)
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		p += len + (p[len] == ',');
	}
	if (!out->len)
		return dam_err_set(err, DAM_EINVAL, "languages", "give at least one language");
	return 0;
}

static int languages_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const char *norm = ctx;
	struct strbuf old = STRBUF_INIT;
	int rc;

	if ((rc = languages_csv(dam, &old, err)) < 0 ||
	    (rc = db_run(dam->db, err, "INSERT INTO library(key, value) VALUES ('languages', ?)"
				       " ON CONFLICT(key) DO UPDATE SET value=excluded.value", "s", norm)) < 0)
		goto out;
	rec->before = json_pack("{s:o}", "languages", csv_array(old.buf));
	rec->after = json_pack("{s:o}", "languages", csv_array(norm));
out:
	strbuf_release(&old);
	return rc < 0 ? rc : 0;
}

int fielddef_languages_set(struct dam *dam, const char *csv, struct dam_err *err)
{
	struct strbuf norm = STRBUF_INIT;
	int rc;

	if ((rc = languages_normalise(csv, &norm, err)) >= 0)
		rc = audit_tx(dam, "library.languages", "library", "languages", languages_rows, norm.buf, err);
	strbuf_release(&norm);
	return rc < 0 ? rc : 0;
}

/* ---- definitions ---- */

static const char def_columns[] =
	"SELECT key, type, labels, help, required, default_value, vocab, searchable, facetable, multilang"
	" FROM field_defs";

static json_t *def_row(struct db_stmt *st)
{
	return json_pack("{s:s,s:s,s:o,s:s,s:b,s:o,s:o,s:b,s:b,s:b}", "key", db_col_text(st, 0),
			 "type", db_col_text(st, 1),
			 "labels", json_loads(db_col_text(st, 2), 0, NULL) ?: json_object(),
			 "help", db_col_text(st, 3), "required", (int)db_col_int(st, 4),
			 "default", db_col_is_null(st, 5) ? json_null() : json_string(db_col_text(st, 5)),
			 "vocab", db_col_is_null(st, 6) ? json_null() : json_string(db_col_text(st, 6)),
			 "searchable", (int)db_col_int(st, 7), "facetable", (int)db_col_int(st, 8),
			 "multilang", (int)db_col_int(st, 9));
}

static int defs_query(struct dam *dam, const char *key, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	char sql[512];
	json_t *arr = json_array();
	int rc;

	snprintf(sql, sizeof sql, "%s WHERE CAST(? AS TEXT) IS NULL OR key=? ORDER BY key", def_columns);
	if ((rc = db_query(dam->db, &st, err, sql, "ss", key, key)) < 0) {
		json_decref(arr);
		return rc;
	}
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(arr, def_row(st));
	db_finalize(st);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

int fielddef_list(struct dam *dam, json_t **out, struct dam_err *err)
{
	return defs_query(dam, NULL, out, err);
}

int fielddef_get(struct dam *dam, const char *key, json_t **out, struct dam_err *err)
{
	json_t *arr;
	int rc;

	*out = NULL;
	if ((rc = defs_query(dam, key, &arr, err)) < 0)
		return rc;
	if (json_array_size(arr))
		*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return *out ? 0 : dam_err_set(err, DAM_ENOTFOUND, "key", "no field %.64s is defined", key);
}

/* Value against type and, for choices, the vocabulary. With canon (may be
 * NULL), the value as stored: each choice item as its canonical term
 * (a synonym becomes its term), multichoice items joined with ", ". */
static int value_check(struct dam *dam, const char *key, enum field_type type, const char *vocab,
		       const char *value, struct strbuf *canon_out, struct dam_err *err)
{
	char canon[VOCAB_TERM_MAX + 1], item[TEXT_MAX + 1];
	struct strbuf allowed = STRBUF_INIT;
	const char *p = value;
	int rc;

	if ((rc = fielddef_check_type(type, key, value, err)) < 0 || (type != FIELD_CHOICE && type != FIELD_MULTICHOICE)) {
		if (rc >= 0 && canon_out)
			strbuf_adds(canon_out, value);
		return rc;
	}
	do {
		size_t len = type == FIELD_CHOICE ? strlen(p) : strcspn(p, ",");
		const char *s = p, *e = p + len;
		while (s < e && *s == ' ')
			s++;
		while (e > s && e[-1] == ' ')
			e--;
		memcpy(item, s, (size_t)(e - s));
		item[e - s] = '\0';
		p += len + (p[len] == ',');
		rc = vocab_resolve(dam, vocab, item, canon, err);
		if (rc == DAM_ENOTFOUND) {
			if ((rc = vocab_allowed(dam, vocab, ALLOWED_MAX, &allowed, err)) < 0)
				break;
			rc = dam_err_set(err, DAM_EINVAL, key, "%s: \"%.60s\" is not in vocabulary %s; allowed: %s", key,
					 item, vocab, allowed.len ? allowed.buf : "(none yet)");
		} else if (rc >= 0 && canon_out) {
			if (canon_out->len)
				strbuf_adds(canon_out, ", ");
			strbuf_adds(canon_out, canon);
		}
	} while (rc >= 0 && *p);
	strbuf_release(&allowed);
	return rc < 0 ? rc : 0;
}

/* The definition of base key: 1 found (type, vocab, multilang filled), 0 not. */
static int def_lookup(struct dam *dam, const char *key, enum field_type *type, char vocab[65],
		      bool *multilang, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err, "SELECT type, coalesce(vocab,''), multilang FROM field_defs WHERE key=?",
			   "s", key)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		if (field_type_parse(db_col_text(st, 0), type, NULL) < 0)
			*type = FIELD_TEXT;
		snprintf(vocab, 65, "%s", db_col_text(st, 1));
		*multilang = db_col_int(st, 2) != 0;
	}
	db_finalize(st);
	return rc < 0 ? rc : rc == DB_ROW;
}

static int lang_check(struct dam *dam, const char *key, const char *base, const char *lang, bool multilang,
		      struct dam_err *err)
{
	struct strbuf csv = STRBUF_INIT;
	int rc;

	if (!multilang)
		return dam_err_set(err, DAM_EINVAL, key,
				   "%s: field %s is not multi-language; write it as %s", key, base, base);
	if ((rc = languages_csv(dam, &csv, err)) == 0 && !csv_has(csv.buf, lang))
		rc = dam_err_set(err, DAM_EINVAL, key, "%s: %s is not one of the library's languages (%s)", key,
				 lang, csv.buf);
	strbuf_release(&csv);
	return rc;
}

int fielddef_validate(struct dam *dam, const char *key, const char *value, struct dam_err *err)
{
	char base[65], vocab[65];
	const char *at = strchr(key, '@');
	size_t blen = at ? (size_t)(at - key) : strlen(key);
	enum field_type type;
	bool multilang;
	int rc;

	if (!*value)
		return 0;
	if (blen == 0 || blen >= sizeof base)
		return dam_err_set(err, DAM_EINVAL, key, "invalid field name \"%.64s\"", key);
	memcpy(base, key, blen);
	base[blen] = '\0';
	if ((rc = def_lookup(dam, base, &type, vocab, &multilang, err)) <= 0)
		return rc; /* 0: a free field */
	if (at && (rc = lang_check(dam, key, base, at + 1, multilang, err)) < 0)
		return rc;
	return value_check(dam, key, type, vocab, value, NULL, err);
}

int fielddef_canonical(struct dam *dam, const char *key, const char *value, char **out, struct dam_err *err)
{
	struct strbuf canon = STRBUF_INIT;
	char base[65], vocab[65];
	size_t blen = strcspn(key, "@");
	enum field_type type;
	bool multilang;
	int rc;

	*out = NULL;
	if (*value && blen > 0 && blen < sizeof base) {
		memcpy(base, key, blen);
		base[blen] = '\0';
		if ((rc = def_lookup(dam, base, &type, vocab, &multilang, err)) < 0)
			return rc;
		if (rc == 1 && (type == FIELD_CHOICE || type == FIELD_MULTICHOICE)) {
			if ((rc = value_check(dam, key, type, vocab, value, &canon, err)) < 0) {
				strbuf_release(&canon);
				return rc;
			}
			*out = strbuf_detach(&canon, NULL);
			return *out ? 0 : dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		}
	}
	*out = strdup(value);
	return *out ? 0 : dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
}

int fielddef_validate_all(struct dam *dam, const char *const *keys, const char *const *values, int n,
			  struct dam_err *err)
{
	int rc = 0;

	for (int i = 0; i < n && rc >= 0; i++)
		rc = fielddef_validate(dam, keys[i], values[i], err);
	return rc < 0 ? rc : 0;
}

static int labels_json(const struct fielddef *d, json_t **out, struct dam_err *err)
{
	json_t *labels = json_object();

	for (int i = 0; i < d->nlabels; i++) {
		const char *t = d->label_texts[i];
		size_t n = strlen(t);
		if (!fielddef_lang_valid(d->label_langs[i]) || !n || n > LABEL_MAX || !utf8_valid(t, n) ||
		    utf8_has_control(t, n)) {
			json_decref(labels);
			return dam_err_set(err, DAM_EINVAL, "label",
					   "label \"%.20s=%.40s\": give LANG=TEXT with a language tag like en and 1-%d bytes of text",
					   d->label_langs[i], t, LABEL_MAX);
		}
		json_object_set_new(labels, d->label_langs[i], json_string(t));
	}
	*out = labels;
	return 0;
}

static int def_check(const struct fielddef *d, struct dam_err *err)
{
	bool choice = d->type == FIELD_CHOICE || d->type == FIELD_MULTICHOICE;
	size_t hl = d->help ? strlen(d->help) : 0;

	if (!asset_field_key_valid(d->key) || strchr(d->key, '@'))
		return dam_err_set(err, DAM_EINVAL, "key", "invalid field name \"%.64s\": use 1-64 of a-z 0-9 _ . -", d->key);
	if (choice && (!d->vocab || !*d->vocab))
		return dam_err_set(err, DAM_EINVAL, "vocab", "a %s field needs a vocabulary (--vocab NAME)",
				   field_type_name(d->type));
	if (!choice && d->vocab && *d->vocab)
		return dam_err_set(err, DAM_EINVAL, "vocab", "only choice and multichoice fields take a vocabulary");
	if (hl > HELP_MAX || (hl && !utf8_valid(d->help, hl)))
		return dam_err_set(err, DAM_EINVAL, "help", "help text must be UTF-8 of at most %d bytes", HELP_MAX);
	return 0;
}

struct def_change {
	const struct fielddef *d;
	bool replace;
	const json_t *labels;
};

/* audit_tx change of def_write: the checks that read the database, the
 * INSERT or UPDATE, and the record (the definition before and after). */
static int def_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct def_change *c = ctx;
	const struct fielddef *d = c->d;
	char *ljson = NULL;
	int64_t now = (int64_t)time_now_ms();
	bool choice = d->type == FIELD_CHOICE || d->type == FIELD_MULTICHOICE;
	int rc;

	if (c->replace && (rc = fielddef_get(dam, d->key, &rec->before, err)) < 0)
		return rc;
	if (choice && (rc = vocab_exists(dam, d->vocab, err)) <= 0)
		return rc < 0 ? rc
			      : dam_err_set(err, DAM_ENOTFOUND, "vocab", "no vocabulary %.64s (create it with dam vocab add)",
					    d->vocab);
	if (d->default_value && *d->default_value &&
	    (rc = value_check(dam, "default", d->type, choice ? d->vocab : NULL, d->default_value, NULL, err)) < 0)
		return rc;
	ljson = json_dumps(c->labels, JSON_COMPACT | JSON_SORT_KEYS);
	if (c->replace)
		rc = db_run(dam->db, err,
			    "UPDATE field_defs SET type=?2, labels=?3, help=?4, required=?5, default_value=?6, vocab=?7,"
			    " searchable=?8, facetable=?9, multilang=?10, updated_at=?11 WHERE key=?1",
			    "ssssissiiii", d->key, field_type_name(d->type), ljson ? ljson : "{}", d->help ? d->help : "",
			    (int64_t)d->required, d->default_value && *d->default_value ? d->default_value : NULL,
			    choice ? d->vocab : NULL, (int64_t)d->searchable, (int64_t)d->facetable, (int64_t)d->multilang, now);
	else
		rc = db_run(dam->db, err,
			    "INSERT INTO field_defs(key, type, labels, help, required, default_value, vocab, searchable,"
			    " facetable, multilang, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?11)",
			    "ssssissiiii", d->key, field_type_name(d->type), ljson ? ljson : "{}", d->help ? d->help : "",
			    (int64_t)d->required, d->default_value && *d->default_value ? d->default_value : NULL,
			    choice ? d->vocab : NULL, (int64_t)d->searchable, (int64_t)d->facetable, (int64_t)d->multilang, now);
	free(ljson);
	if (rc == DAM_ECONFLICT)
		return dam_err_set(err, DAM_EEXIST, "key", "field %s is already defined (change or remove it instead)", d->key);
	if (rc < 0)
		return rc;
	rec->after = json_pack("{s:s,s:s,s:O,s:b,s:b,s:b,s:b}", "key", d->key, "type", field_type_name(d->type),
			       "labels", c->labels, "required", d->required, "searchable", d->searchable,
			       "facetable", d->facetable, "multilang", d->multilang);
	if (choice)
		json_object_set_new(rec->after, "vocab", json_string(d->vocab));
	if (d->default_value && *d->default_value)
		json_object_set_new(rec->after, "default", json_string(d->default_value));
	if (d->help && *d->help)
		json_object_set_new(rec->after, "help", json_string(d->help));
	return 0;
}

/* Adds (replace false) or replaces (true) a definition: the same checks,
 * one INSERT or UPDATE, and the audit row (field.add, or field.change with
 * the definition before) in one transaction. */
static int def_write(struct dam *dam, const struct fielddef *d, bool replace, struct dam_err *err)
{
	json_t *labels = NULL;
	struct def_change c = { d, replace, NULL };
	int rc;

	if ((rc = def_check(d, err)) < 0 || (rc = labels_json(d, &labels, err)) < 0)
		goto out;
	c.labels = labels;
	rc = audit_tx(dam, replace ? "field.change" : "field.add", "field", d->key, def_rows, &c, err);
out:
	json_decref(labels);
	return rc < 0 ? rc : 0;
}

int fielddef_add(struct dam *dam, const struct fielddef *d, struct dam_err *err)
{
	return def_write(dam, d, false, err);
}

int fielddef_set(struct dam *dam, const struct fielddef *d, struct dam_err *err)
{
	return def_write(dam, d, true, err);
}

static int remove_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	int rc;

	if ((rc = fielddef_get(dam, rec->object_id, &rec->before, err)) < 0 ||
	    (rc = db_run(dam->db, err, "DELETE FROM field_defs WHERE key=?", "s", rec->object_id)) < 0)
		return rc;
	return 0;
}

int fielddef_remove(struct dam *dam, const char *key, struct dam_err *err)
{
	return audit_tx(dam, "field.remove", "field", key, remove_rows, NULL, err);
}

int fielddef_defaults(struct dam *dam, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	json_t *o = json_object();
	int rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT key, default_value FROM field_defs WHERE default_value IS NOT NULL ORDER BY key", "")) < 0) {
		json_decref(o);
		return rc;
	}
	while ((rc = db_step(st, err)) == DB_ROW)
		json_object_set_new(o, db_col_text(st, 0), json_string(db_col_text(st, 1)));
	db_finalize(st);
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

int fielddef_incomplete(struct dam *dam, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	json_t *assets = json_array(), *cur = NULL;
	int rc;

	/* key@lang rows sort between key||'@' and key||'A' ('A' follows '@'). */
	rc = db_query(dam->db, &st, err,
		      "SELECT a.id, a.name, d.key FROM assets a CROSS JOIN field_defs d"
		      " WHERE a.deleted_at IS NULL AND d.required <> 0"
		      " AND NOT EXISTS (SELECT 1 FROM fields f WHERE f.asset_id = a.id AND f.value != ''"
		      "   AND (f.key = d.key OR (d.multilang <> 0 AND f.key > d.key || '@' AND f.key < d.key || 'A')))"
		      " ORDER BY a.id, d.key", "");
	if (rc < 0) {
		json_decref(assets);
		return rc;
	}
	while ((rc = db_step(st, err)) == DB_ROW) {
		const char *id = db_col_text(st, 0);
		if (!cur || strcmp(json_string_value(json_object_get(cur, "id")), id)) {
			cur = json_pack("{s:s,s:s,s:[]}", "id", id, "name", db_col_text(st, 1), "missing");
			json_array_append_new(assets, cur);
		}
		json_array_append_new(json_object_get(cur, "missing"), json_string(db_col_text(st, 2)));
	}
	db_finalize(st);
	if (rc < 0) {
		json_decref(assets);
		return rc;
	}
	*out = json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(assets), "assets", assets);
	return 0;
}

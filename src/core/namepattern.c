#include "core/namepattern.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/audit.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define MAX_TOKENS (2 * NAMEPATTERN_PLACEHOLDERS + 1)

struct token {
	bool placeholder;
	const char *s;  /* literal text or placeholder name, not terminated */
	size_t len;
};

struct parsed {
	struct token t[MAX_TOKENS];
	int n;
};

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Splits pattern into literal and placeholder tokens, checking syntax. */
static int parse(const char *pattern, struct parsed *p, struct dam_err *err)
{
	size_t len = strlen(pattern);
	int nph = 0;

	p->n = 0;
	if (len == 0 || len > NAMEPATTERN_MAX || !utf8_valid(pattern, len) || utf8_has_control(pattern, len) ||
	    strchr(pattern, '/'))
		return dam_err_set(err, DAM_EINVAL, "pattern",
				   "a name pattern is 1-%d bytes of UTF-8 without control characters or '/'", NAMEPATTERN_MAX);
	for (const char *s = pattern; *s;) {
		struct token *t = &p->t[p->n];
		if (p->n == MAX_TOKENS)
			return dam_err_set(err, DAM_EINVAL, "pattern", "too many parts in the pattern");
		if (*s == '}')
			return dam_err_set(err, DAM_EINVAL, "pattern", "unmatched '}' in the pattern");
		if (*s != '{') {
			t->placeholder = false;
			t->s = s;
			t->len = strcspn(s, "{}");
			s += t->len;
			p->n++;
			continue;
		}
		t->placeholder = true;
		t->s = ++s;
		while (key_char(*s))
			s++;
		t->len = (size_t)(s - t->s);
		if (*s != '}' || t->len == 0 || t->len > 64)
			return dam_err_set(err, DAM_EINVAL, "pattern",
					   "placeholders are {KEY} with KEY 1-64 of a-z 0-9 _ . -");
		if (p->n > 0 && p->t[p->n - 1].placeholder)
			return dam_err_set(err, DAM_EINVAL, "pattern",
					   "two placeholders side by side cannot be told apart; put text between them");
		if (++nph > NAMEPATTERN_PLACEHOLDERS)
			return dam_err_set(err, DAM_EINVAL, "pattern", "at most %d placeholders", NAMEPATTERN_PLACEHOLDERS);
		s++;
		p->n++;
	}
	if (!nph)
		return dam_err_set(err, DAM_EINVAL, "pattern", "the pattern has no {placeholder}");
	return 0;
}

int namepattern_check(const char *pattern, struct dam_err *err)
{
	struct parsed p;

	return parse(pattern, &p, err);
}

static bool ph_char(char c)
{
	return c && c != '_' && c != '.' && c != '/';
}

struct matcher {
	const struct parsed *p;
	const char *name;
	size_t len;
	unsigned char failed[MAX_TOKENS][NAMEPATTERN_MAX + 2]; /* memo: known not to match */
	size_t cap_start[MAX_TOKENS], cap_len[MAX_TOKENS];
};

/* Does tokens[ti..] match name[pos..]? Placeholders try the longest run
 * first; failures are remembered, so the search is O(tokens * length). */
static bool match_from(struct matcher *m, int ti, size_t pos)
{
	const struct token *t;
	size_t run = 0;

	if (ti == m->p->n)
		return pos == m->len;
	if (m->failed[ti][pos])
		return false;
	t = &m->p->t[ti];
	if (!t->placeholder) {
		if (m->len - pos >= t->len && !memcmp(m->name + pos, t->s, t->len) && match_from(m, ti + 1, pos + t->len))
			return true;
	} else {
		while (pos + run < m->len && ph_char(m->name[pos + run]))
			run++;
		for (; run > 0; run--) {
			m->cap_start[ti] = pos;
			m->cap_len[ti] = run;
			if (match_from(m, ti + 1, pos + run))
				return true;
		}
	}
	m->failed[ti][pos] = 1;
	return false;
}

static bool stored(const struct token *t)
{
	return !(t->len == 3 && !memcmp(t->s, "ext", 3)) && t->s[0] != '_';
}

int namepattern_match(const char *pattern, const char *filename, struct namepattern_match *out)
{
	struct parsed p;
	struct matcher m;

	out->n = 0;
	if (parse(pattern, &p, NULL) < 0 || strlen(filename) > NAMEPATTERN_MAX)
		return 0;
	memset(&m, 0, sizeof m);
	m.p = &p;
	m.name = filename;
	m.len = strlen(filename);
	if (!match_from(&m, 0, 0))
		return 0;
	for (int i = 0; i < p.n; i++) {
		if (!p.t[i].placeholder || !stored(&p.t[i]))
			continue;
		snprintf(out->keys[out->n], sizeof out->keys[0], "%.*s", (int)p.t[i].len, p.t[i].s);
		snprintf(out->values[out->n], sizeof out->values[0], "%.*s", (int)m.cap_len[i], filename + m.cap_start[i]);
		out->n++;
	}
	snprintf(out->pattern, sizeof out->pattern, "%s", pattern);
	return 1;
}

int namepattern_apply(struct dam *dam, const char *filename, struct namepattern_match *out, struct dam_err *err)
{
	struct db_stmt *st;
	int rc, found = 0;

	out->n = 0;
	if ((rc = db_query(dam->db, &st, err, "SELECT pattern FROM name_patterns ORDER BY id", "")) < 0)
		return rc;
	while (!found && (rc = db_step(st, err)) == DB_ROW)
		found = namepattern_match(db_col_text(st, 0), filename, out);
	db_finalize(st);
	return rc < 0 ? rc : found;
}

struct pattern_change {
	const char *pattern;
	bool add;
};

static int change_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct pattern_change *c = ctx;
	json_t *j = json_pack("{s:s}", "pattern", c->pattern);
	int rc;

	if (c->add)
		rc = db_run(dam->db, err, "INSERT INTO name_patterns(pattern, created_at) VALUES (?,?)", "si",
			    c->pattern, (int64_t)time_now_ms());
	else
		rc = db_run(dam->db, err, "DELETE FROM name_patterns WHERE pattern=?", "s", c->pattern);
	if (rc == DAM_ECONFLICT)
		rc = dam_err_set(err, DAM_EEXIST, "pattern", "pattern %s is already in the list", c->pattern);
	else if (rc == 0)
		rc = dam_err_set(err, DAM_ENOTFOUND, "pattern", "no pattern %.255s", c->pattern);
	if (c->add)
		rec->after = j;
	else
		rec->before = j;
	return rc < 0 ? rc : 0;
}

static int change(struct dam *dam, const char *pattern, bool add, struct dam_err *err)
{
	struct pattern_change c = { pattern, add };

	return audit_tx(dam, add ? "pattern.add" : "pattern.remove", "pattern", pattern, change_rows, &c, err);
}

int namepattern_add(struct dam *dam, const char *pattern, struct dam_err *err)
{
	int rc = namepattern_check(pattern, err);

	return rc < 0 ? rc : change(dam, pattern, true, err);
}

int namepattern_remove(struct dam *dam, const char *pattern, struct dam_err *err)
{
	return change(dam, pattern, false, err);
}

int namepattern_list(struct dam *dam, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	int rc, pos = 0;

	if ((rc = db_query(dam->db, &st, err, "SELECT pattern FROM name_patterns ORDER BY id", "")) < 0)
		return rc;
	*out = json_array();
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(*out, json_pack("{s:i,s:s}", "position", ++pos, "pattern", db_col_text(st, 0)));
	db_finalize(st);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc < 0 ? rc : 0;
}

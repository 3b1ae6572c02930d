#include "core/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/audit.h"
#include "core/names.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define LABEL_MAX 200

bool vocab_term_valid(const char *word)
{
	/* Tag rules (1-200 bytes, UTF-8, no control characters or edge
	 * spaces), and no comma: commas separate multichoice values. */
	return asset_tag_valid(word) && !strchr(word, ',');
}

int vocab_exists(struct dam *dam, const char *vocab, struct dam_err *err)
{
	int64_t n = 0;
	int rc = db_query_int(dam->db, &n, err, "SELECT count(*) FROM vocabs WHERE name=?", "s", vocab);

	return rc < 0 ? rc : n > 0;
}

static int add_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const char *name = ctx;
	int rc = db_run(dam->db, err, "INSERT INTO vocabs(name, created_at) VALUES (?,?)", "si", name,
			(int64_t)time_now_ms());

	if (rc == DAM_ECONFLICT)
		return dam_err_set(err, DAM_EEXIST, "name", "vocabulary %s already exists", name);
	rec->after = json_pack("{s:s}", "name", name);
	return rc < 0 ? rc : 0;
}

int vocab_add(struct dam *dam, const char *name, struct dam_err *err)
{
	if (!asset_field_key_valid(name) || strchr(name, '@'))
		return dam_err_set(err, DAM_EINVAL, "name", "invalid vocabulary name \"%.64s\": use 1-64 of a-z 0-9 _ . -", name);
	return audit_tx(dam, "vocab.add", "vocab", name, add_rows, (void *)name, err);
}

/* Canonical term and vocabulary of word: 1 found, 0 not. */
static int resolve_in(struct dam *dam, const char *vocab, const char *word, char term[VOCAB_TERM_MAX + 1],
		      char vocab_out[65], struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT term, vocab, 0 FROM vocab_terms WHERE (CAST(?1 AS TEXT) IS NULL OR vocab=?1) AND term=?2"
			   " UNION ALL SELECT term, vocab, 1 FROM vocab_synonyms WHERE (CAST(?1 AS TEXT) IS NULL OR vocab=?1) AND synonym=?2"
			   " ORDER BY 2, 3 LIMIT 1", "ss", vocab, word)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		snprintf(term, VOCAB_TERM_MAX + 1, "%s", db_col_text(st, 0));
		if (vocab_out)
			snprintf(vocab_out, 65, "%s", db_col_text(st, 1));
	}
	db_finalize(st);
	return rc < 0 ? rc : rc == DB_ROW;
}

int vocab_resolve(struct dam *dam, const char *vocab, const char *word, char out[VOCAB_TERM_MAX + 1],
		  struct dam_err *err)
{
	int rc = resolve_in(dam, vocab, word, out, NULL, err);

	if (rc == 0)
		return dam_err_set(err, DAM_ENOTFOUND, "term", "\"%.60s\" is not a term of %s", word,
				   vocab ? vocab : "any vocabulary");
	return rc < 0 ? rc : 0;
}

int vocab_expand(struct dam *dam, const char *vocab, const char *word, json_t **out, struct dam_err *err)
{
	char term[VOCAB_TERM_MAX + 1], in[65];
	struct db_stmt *st;
	json_t *arr;
	int rc;

	if ((rc = resolve_in(dam, vocab, word, term, in, err)) <= 0)
		return rc < 0 ? rc : dam_err_set(err, DAM_ENOTFOUND, "term", "\"%.60s\" is not a term of %s", word,
						 vocab ? vocab : "any vocabulary");
	/* UNION (not UNION ALL) in the recursive part stops at a cycle. */
	if ((rc = db_query(dam->db, &st, err,
			   "WITH RECURSIVE d(term, depth) AS ("
			   "  SELECT term, 0 FROM vocab_terms WHERE vocab=?1 AND term=?2"
			   "  UNION SELECT t.term, d.depth + 1 FROM vocab_terms t JOIN d ON t.parent = d.term"
			   "  WHERE t.vocab=?1 AND d.depth < 64)"
			   " SELECT term, depth, 0 FROM d"
			   " UNION ALL SELECT s.synonym, d.depth, 1 FROM vocab_synonyms s JOIN d ON s.term = d.term"
			   " WHERE s.vocab=?1 ORDER BY 2, 3", "ss", in, term)) < 0)
		return rc;
	arr = json_array();
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(arr, json_string(db_col_text(st, 0)));
	db_finalize(st);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

int vocab_allowed(struct dam *dam, const char *vocab, size_t max, struct strbuf *out, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err, "SELECT term FROM vocab_terms WHERE vocab=? ORDER BY num", "s", vocab)) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		const char *t = db_col_text(st, 0);
		if (out->len + strlen(t) + 2 > max) {
			strbuf_adds(out, out->len ? " …" : "…");
			break;
		}
		if (out->len)
			strbuf_adds(out, ", ");
		strbuf_adds(out, t);
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

static int term_json(struct dam *dam, const char *vocab, const char *term, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	*out = NULL;
	/* term compared before the IS NULL: PostgreSQL types ?2 by its first
	 * use, and only the column's type keeps the compare case-insensitive. */
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT t.term, t.parent, t.labels, (SELECT {{json_agg(synonym, num)}} FROM"
			   "  (SELECT synonym, num FROM vocab_synonyms s WHERE s.vocab=t.vocab AND s.term=t.term ORDER BY num) AS syn)"
			   " FROM vocab_terms t WHERE t.vocab=?1 AND (t.term=?2 OR ?2 IS NULL) ORDER BY t.num",
			   "ss", vocab, term)) < 0)
		return rc;
	*out = json_array();
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(*out, json_pack("{s:s,s:o,s:o,s:o}", "term", db_col_text(st, 0),
			"parent", db_col_is_null(st, 1) ? json_null() : json_string(db_col_text(st, 1)),
			"labels", json_loads(db_col_text(st, 2), 0, NULL) ?: json_object(),
			"synonyms", json_loads(db_col_text(st, 3), 0, NULL) ?: json_array()));
	db_finalize(st);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc < 0 ? rc : 0;
}

int vocab_get(struct dam *dam, const char *vocab, json_t **out, struct dam_err *err)
{
	json_t *terms;
	int rc;

	*out = NULL;
	if ((rc = vocab_exists(dam, vocab, err)) <= 0)
		return rc < 0 ? rc : dam_err_set(err, DAM_ENOTFOUND, "vocab", "no vocabulary %.64s", vocab);
	if ((rc = term_json(dam, vocab, NULL, &terms, err)) < 0)
		return rc;
	*out = json_pack("{s:s,s:o}", "name", vocab, "terms", terms);
	return 0;
}

int vocab_list(struct dam *dam, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT v.name, (SELECT count(*) FROM vocab_terms t WHERE t.vocab=v.name) FROM vocabs v"
			   " ORDER BY v.name", "")) < 0)
		return rc;
	*out = json_array();
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(*out, json_pack("{s:s,s:I}", "name", db_col_text(st, 0),
						      "terms", (json_int_t)db_col_int(st, 1)));
	db_finalize(st);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc < 0 ? rc : 0;
}

/* The words of a change, before anything is written. */
static int words_check(const char *term, const char *parent, const char *const *syn, int nsyn,
		       const char *const *langs, const char *const *texts, int nlabels, struct dam_err *err)
{
	if (!vocab_term_valid(term))
		return dam_err_set(err, DAM_EINVAL, "term",
				   "invalid term \"%.60s\": 1-200 bytes of UTF-8 without control characters, edge spaces or commas", term);
	if (parent && !vocab_term_valid(parent))
		return dam_err_set(err, DAM_EINVAL, "parent", "invalid parent term \"%.60s\"", parent);
	for (int i = 0; i < nsyn; i++)
		if (!vocab_term_valid(syn[i]))
			return dam_err_set(err, DAM_EINVAL, "synonym",
					   "invalid synonym \"%.60s\": 1-200 bytes of UTF-8 without control characters, edge spaces or commas", syn[i]);
	for (int i = 0; i < nlabels; i++) {
		size_t n = strlen(texts[i]);
		if (!fielddef_lang_valid(langs[i]) || !n || n > LABEL_MAX || !utf8_valid(texts[i], n) ||
		    utf8_has_control(texts[i], n))
			return dam_err_set(err, DAM_EINVAL, "label",
					   "label \"%.20s=%.40s\": give LANG=TEXT with a language tag like en", langs[i], texts[i]);
	}
	return 0;
}

/* Parent must be a term (a synonym resolves to it) and not term itself or
 * one of its descendants. Fills canon with the parent's canonical text. */
static int parent_check(struct dam *dam, const char *vocab, const char *term, const char *parent,
			char canon[VOCAB_TERM_MAX + 1], struct dam_err *err)
{
	int64_t cyc = 0;
	int rc;

	if ((rc = resolve_in(dam, vocab, parent, canon, NULL, err)) <= 0)
		return rc < 0 ? rc : dam_err_set(err, DAM_ENOTFOUND, "parent", "parent \"%.60s\" is not a term of %s", parent, vocab);
	/* Walk up from the parent: meeting term would close a cycle. Text
	 * throughout, compared with lower() (PostgreSQL wants one type for a
	 * recursive column; the terms' own type, citext, is no portable SQL). */
	if ((rc = db_query_int(dam->db, &cyc, err,
			       "WITH RECURSIVE up(term, depth) AS (SELECT CAST(?2 AS TEXT), 0 UNION"
			       "  SELECT CAST(t.parent AS TEXT), up.depth + 1 FROM vocab_terms t"
			       "  JOIN up ON lower(t.term) = lower(up.term)"
			       "  WHERE t.vocab=?1 AND t.parent IS NOT NULL AND up.depth < 64)"
			       " SELECT count(*) FROM up WHERE lower(term) = lower(?3)", "sss", vocab, canon, term)) < 0)
		return rc;
	if (cyc)
		return dam_err_set(err, DAM_EINVAL, "parent", "\"%.60s\" under \"%.60s\" would make a cycle", term, canon);
	return 0;
}

static int synonym_add(struct dam *dam, const char *vocab, const char *term, const char *syn, struct dam_err *err)
{
	char owner[VOCAB_TERM_MAX + 1];
	int rc = resolve_in(dam, vocab, syn, owner, NULL, err);

	if (rc < 0)
		return rc;
	if (rc == 1) {
		if (!strcasecmp(owner, term) && strcasecmp(syn, term))
			return 0; /* already a synonym of this term */
		return dam_err_set(err, DAM_ECONFLICT, "synonym", "\"%.60s\" is already %s \"%.60s\" in %s", syn,
				   strcasecmp(owner, syn) ? "a synonym of" : "the term", owner, vocab);
	}
	return db_run(dam->db, err, "INSERT INTO vocab_synonyms(vocab, synonym, term) VALUES (?,?,?)", "sss",
		      vocab, syn, term);
}

/* Upserts the term row itself, merging labels; fills canon with its stored text. */
static int term_upsert(struct dam *dam, const char *vocab, const char *term, const char *parent,
		       const char *const *langs, const char *const *texts, int nlabels, char canon[VOCAB_TERM_MAX + 1],
		       struct dam_err *err)
{
	struct db_stmt *st;
	json_t *labels = NULL;
	char *s;
	int rc;

	if ((rc = db_query(dam->db, &st, err, "SELECT term, labels FROM vocab_terms WHERE vocab=? AND term=?", "ss",
			   vocab, term)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		snprintf(canon, VOCAB_TERM_MAX + 1, "%s", db_col_text(st, 0));
		labels = json_loads(db_col_text(st, 1), 0, NULL);
	} else {
		snprintf(canon, VOCAB_TERM_MAX + 1, "%s", term);
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (!json_is_object(labels)) {
		json_decref(labels);
		labels = json_object();
	}
	for (int i = 0; i < nlabels; i++)
		json_object_set_new(labels, langs[i], json_string(texts[i]));
	s = json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(labels);
	rc = db_run(dam->db, err,
		    "INSERT INTO vocab_terms(vocab, term, parent, labels, created_at) VALUES (?,?,?,?,?)"
		    " ON CONFLICT(vocab, term) DO UPDATE SET parent=coalesce(excluded.parent, vocab_terms.parent), labels=excluded.labels",
		    "ssssi", vocab, canon, parent, s ? s : "{}", (int64_t)time_now_ms());
	free(s);
	return rc < 0 ? rc : 0;
}

/* Renames term old to new in place (rows of the term, its children's
 * parent), keeping old as a synonym unless only the case changes. */
static int term_rename(struct dam *dam, const char *vocab, const char *old, const char *new, struct dam_err *err)
{
	int rc;

	if ((rc = db_run(dam->db, err, "UPDATE vocab_terms SET term=?3 WHERE vocab=?1 AND term=?2", "sss", vocab, old,
			 new)) < 0 ||
	    (rc = db_run(dam->db, err, "UPDATE vocab_terms SET parent=?3 WHERE vocab=?1 AND parent=?2", "sss", vocab,
			 old, new)) < 0)
		return rc;
	if (!strcasecmp(old, new))
		return 0;
	return db_run(dam->db, err, "INSERT INTO vocab_synonyms(vocab, synonym, term) VALUES (?,?,?)", "sss", vocab,
		      old, new);
}

/* The new text of a term must be free: no other term's text or synonym. */
static int text_free(struct dam *dam, const char *vocab, const char *term, const char *text, struct dam_err *err)
{
	char owner[VOCAB_TERM_MAX + 1];
	int rc = resolve_in(dam, vocab, text, owner, NULL, err);

	if (rc <= 0 || !strcasecmp(owner, term))
		return rc < 0 ? rc : 0;
	return dam_err_set(err, DAM_ECONFLICT, "term", "\"%.60s\" is already %s \"%.60s\" in %s", text,
			   strcasecmp(owner, text) ? "a synonym of" : "the term", owner, vocab);
}

/* What an edit leaves out, taken from the term as it is (cur, from
 * term_json): its text, parent, synonyms (into syn, VOCAB_EDIT_MAX) and labels. */
#define VOCAB_EDIT_MAX 256
static int edit_fill(const struct vocab_term *t, const json_t *cur, struct vocab_term *out, const char **syn,
		     const char **lk, const char **lv, struct dam_err *err)
{
	const json_t *v;
	const char *k;
	size_t i;

	*out = *t;
	if (!out->term)
		out->term = json_string_value(json_object_get(cur, "term"));
	if (t->keep_parent)
		out->parent = json_string_value(json_object_get(cur, "parent"));
	if (t->nsyn < 0) {
		out->nsyn = 0;
		json_array_foreach(json_object_get(cur, "synonyms"), i, v)
			if (out->nsyn < VOCAB_EDIT_MAX)
				syn[out->nsyn++] = json_string_value(v);
		out->synonyms = syn;
	}
	if (t->nlabels < 0) {
		out->nlabels = 0;
		json_object_foreach((json_t *)json_object_get(cur, "labels"), k, v)
			if (out->nlabels < 64 && json_is_string(v)) {
				lk[out->nlabels] = k;
				lv[out->nlabels++] = json_string_value(v);
			}
		out->label_langs = lk;
		out->label_texts = lv;
	}
	return words_check(out->term, out->parent, out->synonyms, out->nsyn, out->label_langs, out->label_texts,
			   out->nlabels, err);
}

struct term_edit {
	const char *vocab, *term;
	const struct vocab_term *edit;
};

/* The first term of a term_json() array, as a new reference (or NULL). */
static json_t *first_term(json_t *arr)
{
	json_t *t = json_incref(json_array_get(arr, 0));

	json_decref(arr);
	return t;
}

static int term_edit_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct term_edit *c = ctx;
	const char *vocab = c->vocab, *term = c->term;
	char pcanon[VOCAB_TERM_MAX + 1];
	const char *syn[VOCAB_EDIT_MAX], *lk[64], *lv[64];
	struct vocab_term t;
	json_t *before = NULL, *after = NULL, *labels = json_object();
	char *ljson = NULL;
	int rc;

	if ((rc = term_json(dam, vocab, term, &before, err)) < 0)
		goto out;
	if (!json_array_size(before)) {
		rc = dam_err_set(err, DAM_ENOTFOUND, "term", "no term \"%.60s\" in vocabulary %.64s", term, vocab);
		goto out;
	}
	rec->before = first_term(before);
	/* from here on the stored spelling of the term */
	term = json_string_value(json_object_get(rec->before, "term"));
	if ((rc = edit_fill(c->edit, rec->before, &t, syn, lk, lv, err)) < 0)
		goto out;
	for (int i = 0; i < t.nlabels; i++)
		json_object_set_new(labels, t.label_langs[i], json_string(t.label_texts[i]));
	ljson = json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
	if ((rc = text_free(dam, vocab, term, t.term, err)) < 0 ||
	    (rc = db_run(dam->db, err, "DELETE FROM vocab_synonyms WHERE vocab=? AND term=?", "ss", vocab, term)) < 0 ||
	    (strcmp(term, t.term) && (rc = term_rename(dam, vocab, term, t.term, err)) < 0) ||
	    (t.parent && (rc = parent_check(dam, vocab, t.term, t.parent, pcanon, err)) < 0) ||
	    (rc = db_run(dam->db, err, "UPDATE vocab_terms SET parent=?3, labels=?4 WHERE vocab=?1 AND term=?2", "ssss",
			 vocab, t.term, t.parent ? pcanon : NULL, ljson ? ljson : "{}")) < 0)
		goto out;
	for (int i = 0; i < t.nsyn && rc >= 0; i++)
		rc = synonym_add(dam, vocab, t.term, t.synonyms[i], err);
	if (rc >= 0 && (rc = term_json(dam, vocab, t.term, &after, err)) >= 0)
		rec->after = first_term(after);
out:
	free(ljson);
	json_decref(labels);
	return rc < 0 ? rc : 0;
}

int vocab_term_edit(struct dam *dam, const char *vocab, const char *term, const struct vocab_term *edit,
		    struct dam_err *err)
{
	struct term_edit c = { vocab, term, edit };

	return audit_tx(dam, "vocab.term", "vocab", vocab, term_edit_rows, &c, err);
}

struct term_set {
	const char *vocab, *term, *parent;
	const char *const *syn, *const *langs, *const *texts;
	int nsyn, nlabels;
};

static int term_set_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct term_set *c = ctx;
	const char *vocab = c->vocab, *term = c->term;
	char canon[VOCAB_TERM_MAX + 1], pcanon[VOCAB_TERM_MAX + 1], owner[VOCAB_TERM_MAX + 1];
	json_t *before = NULL, *after = NULL;
	int rc;

	if ((rc = vocab_exists(dam, vocab, err)) <= 0)
		return rc < 0 ? rc : dam_err_set(err, DAM_ENOTFOUND, "vocab", "no vocabulary %.64s", vocab);
	/* A word that is a synonym of another term cannot become a term. */
	if ((rc = resolve_in(dam, vocab, term, owner, NULL, err)) < 0)
		return rc;
	if (rc == 1 && strcasecmp(owner, term))
		return dam_err_set(err, DAM_ECONFLICT, "term", "\"%.60s\" is a synonym of \"%.60s\" in %s", term, owner, vocab);
	if ((rc = term_json(dam, vocab, term, &before, err)) < 0)
		return rc;
	rec->before = first_term(before);
	if ((c->parent && (rc = parent_check(dam, vocab, term, c->parent, pcanon, err)) < 0) ||
	    (rc = term_upsert(dam, vocab, term, c->parent ? pcanon : NULL, c->langs, c->texts, c->nlabels, canon, err)) < 0)
		return rc;
	for (int i = 0; i < c->nsyn && rc >= 0; i++)
		rc = synonym_add(dam, vocab, canon, c->syn[i], err);
	if (rc < 0 || (rc = term_json(dam, vocab, canon, &after, err)) < 0)
		return rc;
	rec->after = first_term(after);
	return 0;
}

int vocab_term_set(struct dam *dam, const char *vocab, const char *term, const char *parent,
		   const char *const *syn, int nsyn, const char *const *langs, const char *const *texts,
		   int nlabels, struct dam_err *err)
{
	struct term_set c = { vocab, term, parent, syn, langs, texts, nsyn, nlabels };
	int rc;

	if ((rc = words_check(term, parent, syn, nsyn, langs, texts, nlabels, err)) < 0)
		return rc;
	return audit_tx(dam, "vocab.term", "vocab", vocab, term_set_rows, &c, err);
}

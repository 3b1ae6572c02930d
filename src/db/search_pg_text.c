/* search_pg_text.c - words for the PostgreSQL index (see search_pg_text.h). */
#include "db/search_pg_text.h"

#include <glib.h>
#include <string.h>

#include "db/search_fts5_text.h" /* fts5_text_is_cjk: one idea of CJK for both engines */

/* CJK runs longer than this are split (FTS5's expansion has the same bound). */
#define RUN_MAX 256

struct words {
	pg_text_fn fn;
	void *arg;
	int rc;
	char word[PG_TEXT_WORD_MAX];
	size_t len;
	bool cut; /* the word reached PG_TEXT_WORD_MAX: the rest is dropped */
	const char *run[RUN_MAX]; /* the CJK characters of the current run */
	int runlen[RUN_MAX];
	int nrun;
};

static void emit(struct words *w, const char *s, size_t len, bool unigram)
{
	if (w->rc >= 0)
		w->rc = w->fn(s, len, unigram, w->arg);
}

static void flush_word(struct words *w)
{
	if (w->len)
		emit(w, w->word, w->len, false);
	w->len = 0;
	w->cut = false;
}

/* A run becomes its pairs (a lone character stays itself), then its single
 * characters as unigrams. */
static void flush_run(struct words *w)
{
	if (w->nrun == 1)
		emit(w, w->run[0], (size_t)w->runlen[0], false);
	for (int i = 0; w->nrun > 1 && i + 1 < w->nrun; i++)
		emit(w, w->run[i], (size_t)(w->runlen[i] + w->runlen[i + 1]), false);
	for (int i = 0; w->nrun > 1 && i < w->nrun; i++)
		emit(w, w->run[i], (size_t)w->runlen[i], true);
	w->nrun = 0;
}

/* unicode61's token characters: letters, numbers, private use; combining
 * marks too, so a decomposed "é" stays one word (the mark is dropped). */
static bool is_word_char(gunichar c)
{
	switch (g_unichar_type(c)) {
	case G_UNICODE_UPPERCASE_LETTER:
	case G_UNICODE_LOWERCASE_LETTER:
	case G_UNICODE_TITLECASE_LETTER:
	case G_UNICODE_MODIFIER_LETTER:
	case G_UNICODE_OTHER_LETTER:
	case G_UNICODE_DECIMAL_NUMBER:
	case G_UNICODE_LETTER_NUMBER:
	case G_UNICODE_OTHER_NUMBER:
	case G_UNICODE_PRIVATE_USE:
	case G_UNICODE_NON_SPACING_MARK:
		return true;
	default:
		return false;
	}
}

/* Appends c lower-cased, without its diacritics when it is a Latin letter
 * (remove_diacritics 2 of unicode61 folds Latin only: й stays й). */
static void fold(struct words *w, gunichar c)
{
	gunichar d[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
	gsize n = 1;

	d[0] = c;
	if ((c >= 0xc0 && c <= 0x24f) || (c >= 0x1e00 && c <= 0x1eff))
		n = g_unichar_fully_decompose(c, FALSE, d, G_N_ELEMENTS(d));
	for (gsize i = 0; i < n; i++) {
		char u[8];
		int l;
		if (g_unichar_type(d[i]) == G_UNICODE_NON_SPACING_MARK)
			continue;
		l = g_unichar_to_utf8(g_unichar_tolower(d[i]), u);
		if (w->cut || w->len + (size_t)l > sizeof w->word) {
			w->cut = true; /* at a character, as the query's word is */
			return;
		}
		memcpy(w->word + w->len, u, (size_t)l);
		w->len += (size_t)l;
	}
}

int pg_text_words(const char *s, pg_text_fn fn, void *arg)
{
	struct words w = { .fn = fn, .arg = arg };

	while (*s && w.rc >= 0) {
		gunichar c = g_utf8_get_char_validated(s, -1);
		int l;
		if (c == (gunichar)-1 || c == (gunichar)-2) { /* not UTF-8: a separator */
			flush_word(&w);
			flush_run(&w);
			s++;
			continue;
		}
		l = (int)(g_utf8_next_char(s) - s);
		if (fts5_text_is_cjk(c)) {
			flush_word(&w);
			if (w.nrun == RUN_MAX)
				flush_run(&w);
			w.run[w.nrun] = s;
			w.runlen[w.nrun++] = l;
		} else if (is_word_char(c)) {
			flush_run(&w);
			fold(&w, c);
		} else {
			flush_word(&w);
			flush_run(&w);
		}
		s += l;
	}
	flush_word(&w);
	flush_run(&w);
	return w.rc < 0 ? w.rc : 0;
}

int pg_text_quote(const char *word, size_t len, struct strbuf *out)
{
	int rc = strbuf_addch(out, '\'');

	for (size_t i = 0; i < len && rc >= 0; i++) {
		if (word[i] == '\'' || word[i] == '\\')
			rc = strbuf_addch(out, word[i]);
		if (rc >= 0)
			rc = strbuf_addch(out, word[i]);
	}
	return rc < 0 ? rc : strbuf_addch(out, '\'');
}

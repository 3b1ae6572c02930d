/* search_fts5_text.c - CJK bigrams and FTS5 strings (see search_fts5_text.h). */
#include "db/search_fts5_text.h"

#include <string.h>

bool fts5_text_is_cjk(unsigned cp)
{
	return (cp >= 0x3040 && cp <= 0x30ff) ||  /* Hiragana, Katakana */
	       (cp >= 0x3400 && cp <= 0x4dbf) ||  /* CJK ext A */
	       (cp >= 0x4e00 && cp <= 0x9fff) ||  /* CJK unified */
	       (cp >= 0xac00 && cp <= 0xd7af) ||  /* Hangul */
	       (cp >= 0xf900 && cp <= 0xfaff) ||  /* compatibility */
	       (cp >= 0x20000 && cp <= 0x2ffff);
}

/* Decodes one code point of valid UTF-8; returns its length. */
static int next_cp(const char *s, unsigned *cp)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] < 0x80)
		return *cp = u[0], 1;
	if ((u[0] & 0xe0) == 0xc0)
		return *cp = ((u[0] & 0x1fu) << 6) | (u[1] & 0x3fu), 2;
	if ((u[0] & 0xf0) == 0xe0)
		return *cp = ((u[0] & 0x0fu) << 12) | ((u[1] & 0x3fu) << 6) | (u[2] & 0x3fu), 3;
	return *cp = ((u[0] & 0x07u) << 18) | ((u[1] & 0x3fu) << 12) | ((u[2] & 0x3fu) << 6) | (u[3] & 0x3fu), 4;
}

/* Starts and lengths of the CJK characters of one run. */
struct run {
	const char *at[256];
	int len[256];
	int n;
};

/* A run becomes its pairs in place (a single character stays itself), so
 * phrases mixing words and CJK keep their order; the run's single
 * characters go to `unigrams` (another column) when indexing. */
static void emit_run(const struct run *r, struct strbuf *out, struct strbuf *unigrams)
{
	for (int i = 0; unigrams && r->n > 1 && i < r->n; i++) {
		strbuf_add(unigrams, r->at[i], (size_t)r->len[i]);
		strbuf_addch(unigrams, ' ');
	}
	if (r->n == 1) {
		strbuf_add(out, r->at[0], (size_t)r->len[0]);
		return;
	}
	for (int i = 0; i + 1 < r->n; i++) {
		strbuf_add(out, r->at[i], (size_t)(r->len[i] + r->len[i + 1]));
		strbuf_addch(out, ' ');
	}
}

/* Rewrites s: CJK runs as unigrams and pairs (index) or pairs (query). */
static void expand(const char *s, struct strbuf *out, struct strbuf *unigrams)
{
	struct run r = { .n = 0 };

	while (*s) {
		unsigned cp;
		int l = next_cp(s, &cp);
		if (fts5_text_is_cjk(cp) && r.n < 256) {
			r.at[r.n] = s;
			r.len[r.n++] = l;
		} else {
			if (r.n) {
				emit_run(&r, out, unigrams);
				strbuf_addch(out, ' ');
				r.n = 0;
			}
			if (*s == '"')
				strbuf_adds(out, "\"\"");
			else
				strbuf_add(out, s, (size_t)l);
		}
		s += l;
	}
	if (r.n)
		emit_run(&r, out, unigrams);
}

int fts5_text_index(const char *s, struct strbuf *out, struct strbuf *unigrams)
{
	expand(s, out, unigrams);
	return strbuf_addch(out, ' ');
}

int fts5_text_match(const char *value, bool prefix, struct strbuf *out)
{
	size_t start;

	strbuf_addch(out, '"');
	start = out->len;
	expand(value, out, NULL);
	while (out->len > start && out->buf[out->len - 1] == ' ')
		out->buf[--out->len] = '\0';
	strbuf_addch(out, '"');
	return prefix ? strbuf_addch(out, '*') : 0;
}

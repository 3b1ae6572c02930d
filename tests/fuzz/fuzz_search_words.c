/*
 * libFuzzer target for the words of the PostgreSQL search engine
 * (db/search_pg_text.c): any bytes, valid UTF-8 or not, split into words
 * and quoted as lexemes. Aborts when a promise breaks: every word is
 * non-empty, at most PG_TEXT_WORD_MAX bytes, valid UTF-8, without ASCII
 * space, punctuation or upper case (so nothing of tsvector or tsquery
 * syntax), and its quoted form reads back as the word.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/search_pg_text.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The word back from its quoted form ('it''s' -> it's). */
static void check_quoted(const char *word, size_t len)
{
	struct strbuf q = STRBUF_INIT;
	size_t j = 0;

	if (pg_text_quote(word, len, &q) < 0 || q.len < 2 || q.buf[0] != '\'' || q.buf[q.len - 1] != '\'')
		abort();
	for (size_t i = 1; i + 1 < q.len; i++, j++) {
		if (q.buf[i] == '\'' || q.buf[i] == '\\') { /* doubled */
			if (q.buf[i + 1] != q.buf[i])
				abort();
			i++;
		}
		if (j >= len || q.buf[i] != word[j])
			abort();
	}
	if (j != len)
		abort();
	strbuf_release(&q);
}

static int on_word(const char *word, size_t len, bool unigram, void *arg)
{
	size_t *n = arg;

	(void)unigram;
	if (!len || len > PG_TEXT_WORD_MAX || !utf8_valid(word, len))
		abort();
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)word[i];
		if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
			abort();
	}
	check_quoted(word, len);
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	size_t n = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pg_text_words(s, on_word, &n) < 0)
		abort();
	free(s);
	return 0;
}

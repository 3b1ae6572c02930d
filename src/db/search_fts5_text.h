/*
 * search_fts5_text.h - how text meets the FTS5 index (private to the FTS5
 * search backend, search_fts5.c).
 *
 * The FTS5 index uses the unicode61 tokenizer with diacritics removed, so
 * "Café" and "cafe" meet. Chinese and Japanese have no spaces between
 * words, so runs of CJK characters are indexed as their single characters
 * as overlapping pairs in place ("白色运动鞋" -> 白色 色运 运动 动鞋) and their
 * single characters in a separate column; a CJK query becomes the phrase of
 * its pairs: 运动鞋 -> "运动 动鞋", found inside 白色运动鞋 (the bigram method of
 * CJK search engines), and "Nike 运动鞋" stays a phrase in order. A single
 * character matches its unigram.
 */
#ifndef DAM_DB_SEARCH_FTS5_TEXT_H
#define DAM_DB_SEARCH_FTS5_TEXT_H

#include <stdbool.h>

#include "util/strbuf.h"

/* Appends the indexable form of s (valid UTF-8) to out, then a space; the
 * single characters of CJK runs go to unigrams (may be NULL). */
int fts5_text_index(const char *s, struct strbuf *out, struct strbuf *unigrams);

/* Appends an FTS5 expression matching the literal value: "word",
 * "word"* (prefix), "a phrase", a CJK pair phrase. Quotes are doubled, so
 * no FTS5 syntax can come through. */
int fts5_text_match(const char *value, bool prefix, struct strbuf *out);

/* True when the code point is CJK (Han, Hiragana, Katakana, Hangul). */
bool fts5_text_is_cjk(unsigned cp);

#endif

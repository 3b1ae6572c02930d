/*
 * search_pg_text.h - how text meets the PostgreSQL full-text index (private
 * to the PostgreSQL search backend, search_pg.c).
 *
 * The words are made here, in C, not by PostgreSQL's parser, so that both
 * engines see the same words: FTS5's unicode61 rule (a word is a run of
 * letters, numbers and private-use characters; everything else separates),
 * lower case, Latin diacritics removed (é -> e, ß stays), and CJK runs as
 * overlapping pairs in place plus their single characters (search_fts5_text.h
 * has the same scheme: 运动鞋 -> 运动 动鞋). PostgreSQL's own parser would
 * keep "SKU-001" and "39.99" whole and read file names as paths; unaccent
 * would need an extension and its own rules file. The words then reach
 * PostgreSQL as quoted lexemes of a tsvector or tsquery, so no syntax of
 * either can come through a word.
 */
#ifndef DAM_DB_SEARCH_PG_TEXT_H
#define DAM_DB_SEARCH_PG_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

/* A lexeme is cut at this many bytes (at a character): PostgreSQL refuses
 * lexemes of 2048 bytes or more. Index and query cut alike. */
#define PG_TEXT_WORD_MAX 2000

/* Called with each word (len bytes, not NUL-terminated) in text order;
 * `unigram` marks a single character of a CJK run of two or more, which
 * the index keeps apart (the run's pairs stand in its place). Returns 0
 * to go on or a negative DAM_E* to stop with it. */
typedef int (*pg_text_fn)(const char *word, size_t len, bool unigram, void *arg);

/* Splits s (valid UTF-8) into words through fn; returns 0 or fn's error. */
int pg_text_words(const char *s, pg_text_fn fn, void *arg);

/* Appends word quoted as a tsvector/tsquery lexeme: 'it''s'. */
int pg_text_quote(const char *word, size_t len, struct strbuf *out);

#endif

/*
 * search_pg_ddl.h - the PostgreSQL full-text engine's own tables (private
 * to src/db): PostgreSQL's migration 5 (migrations_pg.c) creates them, and
 * the engine (search_pg.c) is the only code that reads or writes them, so
 * the two meet here, as FTS5's table sits in SQLite's migration 5.
 *
 * One row per indexed version, keyed by versions.num: a tsvector of the
 * version's words as the engine made them in C (search_pg_text.h: FTS5's
 * words, so both engines match alike), weighted A title, B tags,
 * C description, D file name and other, under a GIN index (matching a
 * query is an index scan at any size), and its number of words. One more
 * row, search_text_stats, counts the rows and their words (bm25's N and
 * average length, read by every ranked query; writers are serialised, so
 * the one row is no contention). No extension is needed: CJK
 * substrings are matched by the bigram words in the tsvector, as FTS5 does
 * - pg_trgm would also match inside Latin words ("den" in "golden"), which
 * FTS5 does not - and diacritics are folded in C rather than by unaccent.
 */
#ifndef DAM_DB_SEARCH_PG_DDL_H
#define DAM_DB_SEARCH_PG_DDL_H

#define SEARCH_PG_DDL                                                                              \
	"CREATE TABLE search_text (version_num BIGINT PRIMARY KEY, len INTEGER NOT NULL,"         \
	"  doc tsvector NOT NULL);"                                                                \
	"CREATE INDEX search_text_doc ON search_text USING gin (doc);"                             \
	"CREATE TABLE search_text_stats (id INTEGER PRIMARY KEY CHECK (id = 1),"                   \
	"  docs BIGINT NOT NULL, words BIGINT NOT NULL);"                                          \
	"INSERT INTO search_text_stats VALUES (1, 0, 0);"

#endif

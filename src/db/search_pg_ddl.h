/*
 * search_pg_ddl.h - the PostgreSQL full-text engine's own tables (private
 * to src/db): PostgreSQL's migration 5 (migrations_pg.c) creates them, and
 * the engine (search_pg.c) is the only code that reads or writes them, so
 * the two meet here, as FTS5's table sits in SQLite's migration 5.
 *
 * One row per indexed version, keyed by versions.num: the five weighted
 * texts as the engine prepared them, a tsvector of them (configuration
 * 'simple': no stemming, so every language is treated alike; weights A..D
 * stand for title > tags > description > file name and other), and
 * trigram indexes for substring and CJK matching (pg_trgm, a trusted
 * extension a database owner may create).
 */
#ifndef DAM_DB_SEARCH_PG_DDL_H
#define DAM_DB_SEARCH_PG_DDL_H

#define SEARCH_PG_DDL                                                                              \
	"CREATE EXTENSION IF NOT EXISTS pg_trgm;"                                                  \
	"CREATE TABLE search_text (version_num BIGINT PRIMARY KEY,"                                \
	"  title TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '',"                         \
	"  description TEXT NOT NULL DEFAULT '', filename TEXT NOT NULL DEFAULT '',"               \
	"  other TEXT NOT NULL DEFAULT '', doc tsvector NOT NULL);"                                \
	"CREATE INDEX search_text_doc ON search_text USING gin (doc);"

#endif

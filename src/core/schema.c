/*
 * schema.c - the library's schema as numbered migrations, embedded in the
 * binary. Append only: a migration that shipped is never edited; change the
 * schema by adding the next one.
 */
#include "core/schema.h"

static const char *const migrations[] = {
	/* 1: foundation */
	"CREATE TABLE library (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE blobs ("
	"  hash TEXT PRIMARY KEY, size INTEGER NOT NULL,"
	"  refcount INTEGER NOT NULL DEFAULT 0 CHECK (refcount >= 0),"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE assets ("
	"  id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,"
	"  current_version_id TEXT, source_path TEXT,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER);"
	"CREATE INDEX assets_created ON assets(created_at, id);"
	"CREATE INDEX assets_kind ON assets(kind, created_at);"
	"CREATE INDEX assets_source ON assets(source_path);"
	"CREATE TABLE versions ("
	"  id TEXT PRIMARY KEY, asset_id TEXT NOT NULL REFERENCES assets(id),"
	"  number INTEGER NOT NULL, blob_hash TEXT NOT NULL REFERENCES blobs(hash),"
	"  size INTEGER NOT NULL, filename TEXT NOT NULL, mime TEXT NOT NULL,"
	"  kind TEXT NOT NULL, format TEXT NOT NULL DEFAULT '',"
	"  ext_mismatch INTEGER NOT NULL DEFAULT 0, expected_ext TEXT NOT NULL DEFAULT '',"
	"  metadata TEXT, status TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (status IN ('pending','ready','failed')),"
	"  error TEXT, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,"
	"  UNIQUE (asset_id, number));"
	"CREATE INDEX versions_blob ON versions(blob_hash);"
	"CREATE TABLE renditions ("
	"  id TEXT PRIMARY KEY, version_id TEXT NOT NULL REFERENCES versions(id),"
	"  name TEXT NOT NULL, blob_hash TEXT NOT NULL REFERENCES blobs(hash),"
	"  mime TEXT NOT NULL, size INTEGER NOT NULL, width INTEGER, height INTEGER,"
	"  spec TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (version_id, name));"
	"CREATE INDEX renditions_blob ON renditions(blob_hash);"
	"CREATE TABLE tags ("
	"  asset_id TEXT NOT NULL REFERENCES assets(id), tag TEXT NOT NULL,"
	"  source TEXT NOT NULL CHECK (source IN ('user','embedded','automatic')),"
	"  confidence REAL, created_at INTEGER NOT NULL, PRIMARY KEY (asset_id, tag));"
	"CREATE INDEX tags_tag ON tags(tag);"
	"CREATE TABLE tag_removals ("
	"  asset_id TEXT NOT NULL REFERENCES assets(id), tag TEXT NOT NULL,"
	"  PRIMARY KEY (asset_id, tag));"
	"CREATE TABLE fields ("
	"  asset_id TEXT NOT NULL REFERENCES assets(id), key TEXT NOT NULL,"
	"  value TEXT NOT NULL, source TEXT NOT NULL DEFAULT 'user',"
	"  updated_at INTEGER NOT NULL, PRIMARY KEY (asset_id, key));"
	"CREATE TABLE jobs ("
	"  id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
	"  version_id TEXT REFERENCES versions(id),"
	"  priority INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'queued'"
	"    CHECK (state IN ('queued','running','done','failed','cancelled')),"
	"  attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 3,"
	"  worker TEXT, run_after INTEGER NOT NULL DEFAULT 0, error TEXT,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE INDEX jobs_claim ON jobs(state, priority DESC, run_after, id);"
	"CREATE INDEX jobs_version ON jobs(version_id);"
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,"
	"  action TEXT NOT NULL, object_type TEXT NOT NULL, object_id TEXT NOT NULL,"
	"  before TEXT, after TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE TABLE events ("
	"  id TEXT PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,"
	"  kind TEXT NOT NULL, object_id TEXT, data TEXT);"
	"CREATE INDEX events_kind ON events(kind, at);",
};

const char *const *schema_migrations(int *n)
{
	*n = (int)(sizeof migrations / sizeof migrations[0]);
	return migrations;
}

/*
 * library.h - a dam library: dam.conf, the database and the blob store.
 *
 * A library is a folder holding dam.conf, dam.db (SQLite, WAL), objects/
 * (blobs) and cache/; with [database] url in dam.conf its database is that
 * PostgreSQL database instead of dam.db (each handle one connection: a
 * server's threads each open a handle, which is its pool). Opening it applies pending schema migrations and
 * refuses a library made by a newer dam.
 *
 * Everything in it is its owner's alone, whatever the umask: the folder
 * and every folder dam makes in it are 0700, every file 0600 (blobs 0400),
 * since dam.db holds the delivery signing keys and password hashes. Each
 * module that creates a file in the library passes that mode itself;
 * `dam fsck` reports anything looser and `--repair` tightens it.
 *
 * Ownership: library_open() returns a handle freed by library_close().
 * A handle (its db connection) belongs to one thread at a time.
 */
#ifndef DAM_CORE_LIBRARY_H
#define DAM_CORE_LIBRARY_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "store/blob.h"
#include "util/config.h"
#include "util/err.h"

struct search_cache;
struct search_backend;

/*
 * The database's change counter as another thread last read it (the change
 * watcher, core/change_watch.h, fills it; this module only reads it, so
 * the watcher may build on library handles). fresh_ms is stored after
 * counter; a reading is trusted while fresh_ms is younger than
 * LIBRARY_FEED_STALE_MS.
 */
struct library_change_feed {
	atomic_llong counter;   /* the latest counter read */
	atomic_ullong fresh_ms; /* time_mono_ms() of that read; 0: never */
	atomic_int fd;          /* the watcher's listening socket, polled only; -1: none */
};
#define LIBRARY_FEED_STALE_MS 2500
/* The feed's counter into *out, true while it is fresh and nothing waits
 * unread on the watcher's socket; false (out untouched) when f is NULL,
 * stale, or a notification may be about to move it (the caller then reads
 * the counter itself, as without a feed). Thread-safe. */
bool library_change_feed_read(const struct library_change_feed *f, int64_t *out);

/*
 * A cache another core module keeps on a handle (verified tokens in
 * auth_token.c, asset documents in asset.c, delivery answers in
 * delivery_cache.c). The module owns one static
 * kind, compared by address, that says how to make and free its cache;
 * library_close() frees every cache through its kind. This way the
 * library never names the modules above it (library.c used to include
 * asset.h and auth.h only to free their caches, which tied library, asset,
 * auth, fielddef and vocab into one include circle).
 */
struct library_cache_kind {
	const char *name;           /* for a reader of a core dump */
	void *(*create)(void);      /* a new, empty cache; NULL when out of memory */
	void (*destroy)(void *c);   /* frees what create() made (never NULL) */
};
#define LIBRARY_CACHES_MAX 8 /* kinds a handle can hold; three are used today */

struct dam {
	char *root;             /* absolute path of the library folder */
	struct dam_config cfg;
	struct db *db;
	struct blob_store *store;
	char actor[128];        /* who is acting, for the audit trail */
	/* Facet bitmaps and the rest of search's memory (core/search_cache.h):
	 * this handle's reference, shared with the handles library_open_shared()
	 * opened from it. Never NULL in an open handle. */
	struct search_cache *search_cache;
	const struct search_backend *search_be; /* the full-text engine of db (static) */
	struct library_cache {                 /* see struct library_cache_kind */
		const struct library_cache_kind *kind; /* NULL: free slot */
		void *cache;                           /* owned, freed by kind->destroy */
	} caches[LIBRARY_CACHES_MAX];
	/* Between library_request_begin and _end: the other connections' part
	 * of the database version, read once per request. */
	bool in_request, have_version;
	struct db_version version;
	/* The process's change feed (core/change_watch.h), borrowed; NULL:
	 * none, every check reads the database's counter itself. */
	const struct library_change_feed *feed;
};

/* Creates a library at dir (made if missing, and made 0700 if it existed;
 * must be empty of a library) with its database dam.db in it.
 * DAM_EEXIST when dir already holds one. */
int library_init(const char *dir, struct dam_err *err);

/* How library_init_with() makes the library; strings borrowed for the call. */
struct library_init_opts {
	/* PostgreSQL instead of dam.db: a postgres:// URL without a password
	 * (refused, DAM_EINVAL); NULL or "": dam.db. dam.conf gets [database]
	 * url and the two keys below. */
	const char *db_url;
	const char *password_env;  /* the variable holding its password, or NULL */
	const char *password_file; /* the private file holding it, or NULL */
};
/* library_init with options (o NULL: as library_init). The database must
 * hold no other dam library: DAM_EEXIST names the id it holds. An init of
 * dir that stopped before dam.conf was written may be run again (the
 * database remembers the folder it was made from). */
int library_init_with(const char *dir, const struct library_init_opts *o, struct dam_err *err);

/* Opens the library at dir, with a search cache of its own. */
int library_open(const char *dir, struct dam **out, struct dam_err *err);
/* Opens another handle on the library `with` has open, for another thread,
 * sharing with's search cache (refcounted: it lives until the last handle
 * sharing it is closed), so a server's threads load the facet bitmaps
 * once. Only with->root and its cache are touched (thread-safe). */
int library_open_shared(struct dam *with, struct dam **out, struct dam_err *err);
void library_close(struct dam *dam);

/* Finds the library to use: explicit (may be NULL), else $DAM_LIBRARY, else
 * the nearest folder holding dam.conf from the working directory up.
 * *out is an absolute path the caller frees. */
int library_find(const char *explicit_dir, char **out, struct dam_err *err);

/* One request served by this handle (the HTTP server's pool threads) runs
 * between these two. Inside, the caches that must never be stale (verified
 * tokens, asset documents) read the database version once for the request:
 * a commit by another connection during the request is seen by the next
 * request, as if it had come after this one; this handle's own commits are
 * always seen at once. Outside, every check reads the version afresh. */
void library_request_begin(struct dam *dam);
void library_request_end(struct dam *dam);
/* db_data_version for the caches, honouring the above. */
int library__data_version(struct dam *dam, struct db_version *out, struct dam_err *err);

/* A number that moves whenever another connection, in this process or any
 * other, commits (SQLite's PRAGMA data_version). Read afresh, whatever
 * library_request_begin said: an event loop's hot delivery cache compares
 * it to tell that anything at all changed. With a live change watcher
 * (library_set_change_feed) its published number, with no round trip. */
int library_change_counter(struct dam *dam, int64_t *out, struct dam_err *err);

/* Lets the handle read the change counter from f (borrowed: it must
 * outlive the handle; NULL: none) while f is fresh, in library__data_version
 * and library_change_counter. Handles library_open_shared() opens from this
 * one inherit it. */
void library_set_change_feed(struct dam *dam, const struct library_change_feed *f);

/* The handle's cache of `kind`, made with kind->create() on first use.
 * Borrowed: the handle owns it until library_close(). NULL when out of
 * memory or when all LIBRARY_CACHES_MAX slots hold other kinds (callers
 * then work without a cache). Same thread rule as the handle. */
void *library__cache(struct dam *dam, const struct library_cache_kind *kind);

/* Sets the actor recorded in audit rows ("cli:alice", "user:<id>"). */
void library_set_actor(struct dam *dam, const char *actor);

/* Readiness of this node: 0 when the database answers and the store does
 * (blob_store_check); else < 0. db_err and store_err (both required) are
 * each cleared or filled with what is wrong with that one. */
int library_ready(struct dam *dam, struct dam_err *db_err, struct dam_err *store_err);

/* Counts for monitoring: {"stored_bytes","blobs","assets","versions",
 * "jobs":[{"kind","state","count"}]}. Caller decrefs *out. */
int library_stats(struct dam *dam, json_t **out, struct dam_err *err);

/* Path of a file inside the library; caller frees. */
char *library_path(const struct dam *dam, const char *name);

/* An unlinked temporary file in the library's cache folder (created if
 * missing), open for reading and writing, for an answer too large for
 * memory (a zip download, an audit export); `what` names it in the error.
 * Returns the fd (caller closes) or DAM_EIO. Thread-safe. */
int library_temp_fd(struct dam *dam, const char *what, struct dam_err *err);

#endif

/*
 * change_watch.h - one thread per server process that hears every commit
 * to the library's database, from any node, and publishes the latest
 * change counter where the event loops and request threads read it
 * without a round trip.
 *
 * Why: on PostgreSQL the change counter (db_data_version) is a row, so a
 * cache that reads it per request pays a round trip per request (the hot
 * delivery cache answers in microseconds otherwise), and a node hears
 * another node's commit only at its next read. The watcher waits on its
 * own connection (db_wait_change: LISTEN/NOTIFY), publishes the counter a
 * notification names (db_change_heard: no round trip) and re-reads the row
 * at least every CHANGE_WATCH_BEAT_MS, so the published number is never
 * older than that even if a notification were lost. While its socket holds
 * an unread notification the feed is not trusted (library.h,
 * library_change_feed_read): readers then read the counter themselves.
 *
 * Liveness: the number is trusted only while the watcher's last successful
 * read is younger than LIBRARY_FEED_STALE_MS (library.h, which reads it). A watcher whose connection
 * died (database restart, network) stops being trusted on its own;
 * callers then read the counter themselves, as without a watcher. The
 * thread reconnects once a second until it hears the database again.
 *
 * Invariant: the counter is published only after the commit it counts is
 * visible, so an entry built after reading counter c holds data at least as
 * new as c (a cache keyed by the counter never keeps older data under a
 * newer number).
 *
 * Peers: every watcher is named (a UUID per process) and acknowledges the
 * counters it publishes to the others (change_watch_settle), so a write
 * can wait until every live node has heard it.
 *
 * Only started on PostgreSQL: SQLite's PRAGMA data_version costs no I/O.
 *
 * Ownership: change_watch_start() gives a watcher freed by
 * change_watch_stop(). change_watch_counter() is thread-safe (atomics);
 * change_watch_settle() too (any thread, its own handle).
 */
#ifndef DAM_CORE_CHANGE_WATCH_H
#define DAM_CORE_CHANGE_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/library.h"
#include "util/err.h"

#define CHANGE_WATCH_BEAT_MS 1000 /* counter re-read at least this often */

struct change_watch;

/* Starts the watcher thread on the library at root (absolute path; it
 * opens a handle of its own). *out is NULL, with 0 returned, when the
 * library's database needs none (SQLite). */
int change_watch_start(const char *root, struct change_watch **out, struct dam_err *err);
/* Stops the thread (within a fifth of a second) and frees w; NULL is a
 * no-op. No reader may use w afterwards. */
void change_watch_stop(struct change_watch *w);

/* What the watcher publishes, for library_set_change_feed() (borrowed
 * until change_watch_stop); NULL when w is NULL. */
const struct library_change_feed *change_watch_feed(const struct change_watch *w);
/* The latest change counter, true when the watcher is live; false (out
 * untouched) when w is NULL, the watcher has not heard the database
 * recently, or a notification waits unread on its socket (one poll(2)):
 * the caller reads the counter itself. */
bool change_watch_counter(const struct change_watch *w, int64_t *out);

/* Where the commits of dam's handle stand (no I/O), to give
 * change_watch_settle() after a request. */
int64_t change_watch_mark(struct dam *dam);
/* After a request that wrote: when dam's handle changed rows since mark,
 * reads the counter (one round trip) and waits, at most timeout_ms, until
 * this node's watcher and the watcher of every other live node have
 * published it. Each watcher tells the others what it published
 * (db_announce_heard: a NOTIFY, no row), when that moves and once a
 * second; a node unheard for three seconds is taken for gone and not
 * waited for. So a client told "deleted" by this node finds the change on
 * every node's caches at its next request, on any machine; PostgreSQL's
 * delivery of one NOTIFY to every listener "at once" left a window of a
 * few milliseconds on a busy machine, and the network's skew across
 * machines. Returns 1 when settled (or nothing to settle, or w NULL), 0
 * when the wait ran out (a node slower than that, or reconnecting) or the
 * counter could not be read: the caller answers anyway. */
int change_watch_settle(struct change_watch *w, struct dam *dam, int64_t mark, int timeout_ms);

#endif

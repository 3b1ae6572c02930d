#include "core/change_watch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/id.h"
#include "util/timeutil.h"

/* How long one wait lasts: the bound on stopping. */
#define CHANGE_WATCH_POLL_MS 200
/* A peer unheard for this long is taken for gone: a write stops waiting
 * for its acknowledgement (it beats every CHANGE_WATCH_BEAT_MS). */
#define PEER_LIVE_MS (3 * CHANGE_WATCH_BEAT_MS)
#define MAX_PEERS 64

/* Another node's watcher, as its acknowledgements tell. */
struct peer {
	char node[DB_NODE_LEN + 1];
	int64_t counter;  /* the largest it said it published */
	uint64_t seen_ms; /* time_mono_ms() of its last word */
};

struct change_watch {
	char *root;
	char node[DB_NODE_LEN + 1]; /* this watcher's name among its peers */
	pthread_t thread;
	atomic_bool stop;
	struct library_change_feed feed; /* what readers see */
	pthread_mutex_t mu;              /* with moved: wakes change_watch_settle; guards peers */
	pthread_cond_t moved;            /* broadcast at each publish and acknowledgement */
	struct peer peers[MAX_PEERS];
	int npeers;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Publishes n with the time it was learnt, and wakes change_watch_settle. */
static void publish_value(struct change_watch *w, int64_t n)
{
	atomic_store(&w->feed.counter, n);
	atomic_store(&w->feed.fresh_ms, time_mono_ms());
	pthread_mutex_lock(&w->mu);
	pthread_cond_broadcast(&w->moved);
	pthread_mutex_unlock(&w->mu);
}

/* Reads the counter and publishes it. */
static int publish(struct change_watch *w, struct dam *dam, struct dam_err *err)
{
	int64_t n;
	int rc;

	if ((rc = library_change_counter(dam, &n, err)) < 0)
		return rc;
	publish_value(w, n);
	return 0;
}

/* A slot for a new peer (npeers grown to include it), or MAX_PEERS when
 * every slot holds a live one. Under w->mu. */
static int peer_slot(struct change_watch *w)
{
	uint64_t now = time_mono_ms();

	if (w->npeers < MAX_PEERS) {
		w->peers[w->npeers].node[0] = '\0';
		return w->npeers++;
	}
	for (int i = 0; i < w->npeers; i++)
		if (now - w->peers[i].seen_ms >= PEER_LIVE_MS)
			return i;
	return MAX_PEERS;
}

/* Keeps a peer's acknowledgement (this node's own comes back too). */
static void note_peer(const char *node, int64_t counter, void *arg)
{
	struct change_watch *w = arg;
	int i;

	if (!strcmp(node, w->node))
		return;
	pthread_mutex_lock(&w->mu);
	for (i = 0; i < w->npeers && strcmp(w->peers[i].node, node); i++)
		;
	if (i == w->npeers) /* new: a free slot, or one of a node gone (restarts name anew) */
		i = peer_slot(w);
	if (i < w->npeers && strcmp(w->peers[i].node, node)) {
		snprintf(w->peers[i].node, sizeof w->peers[i].node, "%s", node);
		w->peers[i].counter = -1;
	}
	if (i < w->npeers) {
		if (counter > w->peers[i].counter)
			w->peers[i].counter = counter;
		w->peers[i].seen_ms = time_mono_ms();
		pthread_cond_broadcast(&w->moved);
	}
	pthread_mutex_unlock(&w->mu);
}

/* Tells the peers what this node has published, when it moved or a beat
 * is due (so they know it is alive), and takes in theirs. */
static int acknowledge(struct change_watch *w, struct dam *dam, int64_t *told, uint64_t *told_ms,
		       struct dam_err *err)
{
	int64_t n = atomic_load(&w->feed.counter);
	int rc;

	db_heard_each(dam->db, note_peer, w);
	if (n == *told && time_mono_ms() - *told_ms < CHANGE_WATCH_BEAT_MS)
		return 0;
	if ((rc = db_announce_heard(dam->db, w->node, n, err)) < 0)
		return rc;
	*told = n;
	*told_ms = time_mono_ms();
	return 0;
}

/* Listens and publishes until stopped or the connection fails. */
static int watch_connected(struct change_watch *w, struct dam *dam, struct dam_err *err)
{
	uint64_t last = 0, told_ms = 0;
	int64_t told = -1;
	int rc;

	while (!atomic_load(&w->stop)) {
		if ((rc = db_wait_change(dam->db, CHANGE_WATCH_POLL_MS, err)) < 0)
			return rc;
		atomic_store(&w->feed.fd, db_wait_fd(dam->db));
		/* A notification names the counter of its commit: published at
		 * once, with no round trip, so this node learns of another
		 * node's commit as soon as its own NOTIFY arrives (the writer's
		 * node waits for its watcher to hear it: change_watch_settle). */
		int64_t heard = rc == 1 && last ? db_change_heard(dam->db) : -1;
		if (heard > atomic_load(&w->feed.counter))
			publish_value(w, heard);
		/* The first call, a notification without a number, or a beat
		 * due: read the row; the round trip also proves the connection
		 * works. */
		if ((rc == 1 && heard < 0) || time_mono_ms() - last >= CHANGE_WATCH_BEAT_MS) {
			if ((rc = publish(w, dam, err)) < 0)
				return rc;
			last = time_mono_ms();
		}
		if ((rc = acknowledge(w, dam, &told, &told_ms, err)) < 0)
			return rc;
	}
	return 0;
}

static void *watch_main(void *arg)
{
	struct change_watch *w = arg;
	bool told = false;

	while (!atomic_load(&w->stop)) {
		struct dam *dam = NULL;
		struct dam_err err;
		int rc = library_open(w->root, &dam, &err) == 0 ? watch_connected(w, dam, &err) : -1;
		atomic_store(&w->feed.fd, -1);
		library_close(dam);
		if (rc == 0)
			break;
		/* Readers fall back to their own reads once feed.fresh_ms ages. */
		if (!told)
			fprintf(stderr, "dam serve: change watcher: %s (retrying every second)\n", err.msg);
		told = true;
		for (int i = 0; i < 5 && !atomic_load(&w->stop); i++)
			sleep_ms(CHANGE_WATCH_POLL_MS);
	}
	return NULL;
}

/* The condition waits on the monotonic clock: settling must not stretch
 * or shrink when the wall clock is set. */
static int sync_init(struct change_watch *w, struct dam_err *err)
{
	pthread_condattr_t a;
	int rc = 0;

	if (pthread_condattr_init(&a) != 0)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if (pthread_condattr_setclock(&a, CLOCK_MONOTONIC) != 0 || pthread_cond_init(&w->moved, &a) != 0)
		rc = dam_err_set(err, DAM_EIO, NULL, "cannot make the change watcher's condition");
	else if (pthread_mutex_init(&w->mu, NULL) != 0) {
		pthread_cond_destroy(&w->moved);
		rc = dam_err_set(err, DAM_EIO, NULL, "cannot make the change watcher's lock");
	}
	pthread_condattr_destroy(&a);
	return rc;
}

int change_watch_start(const char *root, struct change_watch **out, struct dam_err *err)
{
	struct change_watch *w = NULL;
	struct dam *probe = NULL;
	int rc;

	*out = NULL;
	if ((rc = library_open(root, &probe, err)) < 0)
		return rc;
	bool pg = !strcmp(db_engine(probe->db), "postgresql");

	library_close(probe);
	if (!pg)
		return 0;
	if (!(w = calloc(1, sizeof *w)) || !(w->root = strdup(root))) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto fail;
	}
	atomic_init(&w->feed.fd, -1);
	id_new(w->node);
	if ((rc = sync_init(w, err)) < 0)
		goto fail;
	if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		pthread_cond_destroy(&w->moved);
		pthread_mutex_destroy(&w->mu);
		rc = dam_err_set(err, DAM_EIO, NULL, "cannot start the change watcher thread");
		goto fail;
	}
	*out = w;
	return 0;
fail:
	if (w)
		free(w->root);
	free(w);
	return rc;
}

void change_watch_stop(struct change_watch *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->moved);
	pthread_mutex_destroy(&w->mu);
	free(w->root);
	free(w);
}

const struct library_change_feed *change_watch_feed(const struct change_watch *w)
{
	return w ? &w->feed : NULL;
}

bool change_watch_counter(const struct change_watch *w, int64_t *out)
{
	return library_change_feed_read(change_watch_feed(w), out);
}

int64_t change_watch_mark(struct dam *dam)
{
	struct db_version v = { 0, 0 };

	db_data_version_own(dam->db, &v);
	return v.own;
}

/* Whether this node's watcher and every live peer's have published
 * target. Under w->mu. */
static bool everyone_at(struct change_watch *w, int64_t target)
{
	uint64_t now = time_mono_ms();

	if (atomic_load(&w->feed.counter) < target)
		return false;
	for (int i = 0; i < w->npeers; i++)
		if (now - w->peers[i].seen_ms < PEER_LIVE_MS && w->peers[i].counter < target)
			return false;
	return true;
}

/* Waits for this node's watcher and its live peers to publish target,
 * until deadline (ms, monotonic). true when they did. */
static bool wait_counter(struct change_watch *w, int64_t target, int64_t deadline)
{
	struct timespec ts = time_mono_ts((uint64_t)deadline);
	bool reached;

	pthread_mutex_lock(&w->mu);
	while (!(reached = everyone_at(w, target)) && !atomic_load(&w->stop))
		if (pthread_cond_timedwait(&w->moved, &w->mu, &ts) != 0)
			break;
	reached = everyone_at(w, target);
	pthread_mutex_unlock(&w->mu);
	return reached;
}

int change_watch_settle(struct change_watch *w, struct dam *dam, int64_t mark, int timeout_ms)
{
	struct db_version v;
	int64_t start;

	if (!w || change_watch_mark(dam) == mark)
		return 1;
	start = time_mono_ms();
	/* The counter now: at or past every commit this handle made. */
	if (db_data_version(dam->db, &v, NULL) < 0)
		return 0;
	return wait_counter(w, v.others, start + timeout_ms) ? 1 : 0;
}

/*
 * rcache.c - the rendition cache (see rcache.h).
 *
 * Layout: <dir>/<ab>/<key>, <ab> the key's first two characters. Files being
 * written are <dir>/<ab>/.tmp-XXXXXX; any found at open are leftovers of a
 * run that stopped mid-write and are removed. One process owns a folder.
 *
 * In memory: the entries in a map keyed by the 64-hex key that keeps them
 * in order of use (util/lru.h), and a short list of makes in flight, each
 * with its own condition variable. One mutex guards all of it; make() and
 * the file writing run without it.
 *
 * Statistics: hits = gets served from an entry; misses = gets that found
 * none (makes + coalesced, plus failed makes' waiters); makes = make()
 * calls; coalesced = gets that waited for another thread's make();
 * evictions = entries removed to stay under the bound.
 *
 * Caching off (max_bytes 0) and entries over the bound take the same path
 * as any miss, coalescing included: the bytes stay at their temporary name
 * until every thread that waited for them has opened its own fd, then the
 * name is unlinked. So a burst of first requests still encodes once, and no
 * file outlives its readers.
 */
#include "deliver/rcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/lru.h"

#define KEY_LEN 64
#define TOUCH_EVERY_S 60
#define TMP_PREFIX ".tmp-"
#define BUCKETS_MIN 1024

struct entry {
	char key[KEY_LEN + 1];
	uint64_t size;
	time_t touched;      /* last mtime we wrote (or found at open) */
	int pins;            /* waiters yet to open it: not evictable */
	struct lru_node lru; /* in the index; lru.key = key */
};

/* One make() in flight; freed when the maker and every waiter let go. */
struct pending {
	char key[KEY_LEN + 1];
	pthread_cond_t done_cv;
	bool done;
	int refs;           /* maker + waiters */
	int rc;
	struct dam_err err; /* the maker's error, given to every waiter */
	bool kept;           /* result renamed to its final name and indexed */
	char path[PATH_MAX]; /* final name when kept, else the temp name */
	struct entry *pinned; /* the kept entry, pinned while waiters open it */
	struct pending *next;
};

struct rcache {
	char dir[PATH_MAX - KEY_LEN - 16];
	_Atomic uint64_t max_bytes; /* rcache_set_max may move it while a make runs */
	pthread_mutex_t mu;
	struct lru index;    /* entries by key, in order of use */
	struct pending *pending;
	struct rcache_stats st;
};

static bool key_ok(const char *key)
{
	if (!key || strnlen(key, KEY_LEN + 1) != KEY_LEN)
		return false;
	for (size_t i = 0; i < KEY_LEN; i++)
		if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
			return false;
	return true;
}

static void entry_path(const struct rcache *c, const char *key, char *out, size_t n)
{
	snprintf(out, n, "%s/%.2s/%s", c->dir, key, key);
}

/* ---- index: hash table + LRU list; all called with c->mu held ---- */

static struct entry *entry_of(struct lru_node *n)
{
	return n ? LRU_ENTRY(n, struct entry, lru) : NULL;
}

static struct entry *lookup(struct rcache *c, const char *key)
{
	return entry_of(lru_find(&c->index, key));
}

static void index_add(struct rcache *c, struct entry *e)
{
	e->lru.key = e->key;
	lru_add(&c->index, &e->lru);
	c->st.entries++;
	c->st.bytes += e->size;
}

/* Removes e from the index and frees it (the file is the caller's). */
static void index_del(struct rcache *c, struct entry *e)
{
	lru_remove(&c->index, &e->lru);
	c->st.entries--;
	c->st.bytes -= e->size;
	free(e);
}

/* Unlinks least recently used entries until the total fits the bound.
 * Pinned entries (a fresh result whose waiters have not opened it yet, a
 * window of microseconds) are skipped and the walk goes on to newer ones,
 * so the bound holds unless pinned entries alone exceed it; then the
 * eviction runs again when the last pin goes. */
static void evict(struct rcache *c)
{
	struct entry *e = entry_of(lru_oldest(&c->index)), *prev;
	char path[PATH_MAX];

	while (c->st.bytes > c->max_bytes && e) {
		prev = entry_of(lru_newer(&e->lru));
		if (e->pins == 0) {
			entry_path(c, e->key, path, sizeof path);
			unlink(path);
			index_del(c, e);
			c->st.evictions++;
		}
		e = prev;
	}
}

/* ---- open: scan the folder, drop temp leftovers, rebuild the LRU ---- */

struct found {
	char key[KEY_LEN + 1];
	uint64_t size;
	struct timespec mtime;
};

struct found_list {
	struct found *v;
	size_t n, alloc;
};

static int found_add(struct found_list *l, const char *key, const struct stat *st)
{
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 256;
		struct found *v = realloc(l->v, na * sizeof *v);
		if (!v)
			return DAM_ENOMEM;
		l->v = v;
		l->alloc = na;
	}
	memcpy(l->v[l->n].key, key, KEY_LEN + 1);
	l->v[l->n].size = (uint64_t)st->st_size;
	l->v[l->n].mtime = st->st_mtim;
	l->n++;
	return 0;
}

/* Oldest first; ties broken by key so the order never depends on readdir. */
static int found_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->key, y->key);
}

static bool is_fanout(const char *name)
{
	return strlen(name) == 2 &&
	       ((name[0] >= '0' && name[0] <= '9') || (name[0] >= 'a' && name[0] <= 'f')) &&
	       ((name[1] >= '0' && name[1] <= '9') || (name[1] >= 'a' && name[1] <= 'f'));
}

/* Lists one fan-out folder: entries into l, temp leftovers unlinked,
 * anything else left alone. */
static int scan_fanout(DIR *d, const char *fan, struct found_list *l)
{
	struct dirent *de;
	struct stat st;
	int rc = 0;

	while (rc == 0 && (de = readdir(d))) {
		if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX))) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (!key_ok(de->d_name) || memcmp(de->d_name, fan, 2))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		rc = found_add(l, de->d_name, &st);
	}
	return rc;
}

static int scan(struct rcache *c, struct found_list *l, struct dam_err *err)
{
	DIR *top = opendir(c->dir), *d;
	struct dirent *de;
	int fd, rc = 0;

	if (!top)
		return dam_err_errno(err, DAM_EIO, errno, "cannot list the rendition cache %s", c->dir);
	while (rc == 0 && (de = readdir(top))) {
		if (!is_fanout(de->d_name))
			continue;
		fd = openat(dirfd(top), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (!(d = fdopendir(fd))) {
			close(fd);
			continue;
		}
		rc = scan_fanout(d, de->d_name, l);
		closedir(d);
	}
	closedir(top);
	if (rc < 0)
		dam_err_set(err, rc, NULL, "out of memory scanning the rendition cache");
	return rc;
}

/* Adds the scanned files oldest first, so the newest ends at the head. */
static int rebuild(struct rcache *c, struct found_list *l, struct dam_err *err)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, found_cmp);
	for (size_t i = 0; i < l->n; i++) {
		struct entry *e = calloc(1, sizeof *e);
		if (!e)
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		memcpy(e->key, l->v[i].key, KEY_LEN + 1);
		e->size = l->v[i].size;
		e->touched = l->v[i].mtime.tv_sec;
		index_add(c, e);
	}
	evict(c);
	return 0;
}

void rcache_set_max(struct rcache *c, uint64_t max_bytes)
{
	pthread_mutex_lock(&c->mu);
	c->max_bytes = c->st.max_bytes = max_bytes;
	evict(c);
	pthread_mutex_unlock(&c->mu);
}

int rcache_open(const char *dir, uint64_t max_bytes, struct rcache **out, struct dam_err *err)
{
	struct rcache *c = NULL;
	struct found_list l = { 0 };
	int rc;

	*out = NULL;
	if (!dir || !*dir || strlen(dir) >= sizeof c->dir)
		return dam_err_set(err, DAM_EINVAL, "dir", "rendition cache folder missing or too long");
	if (!(c = calloc(1, sizeof *c)) || lru_init(&c->index, BUCKETS_MIN) < 0) {
		free(c);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	snprintf(c->dir, sizeof c->dir, "%s", dir);
	c->max_bytes = c->st.max_bytes = max_bytes;
	pthread_mutex_init(&c->mu, NULL);
	if ((rc = fs_mkdir_p(dir, err)) < 0 || (rc = scan(c, &l, err)) < 0 || (rc = rebuild(c, &l, err)) < 0) {
		rcache_close(c);
		c = NULL;
	}
	free(l.v);
	*out = c;
	return rc;
}

void rcache_close(struct rcache *c)
{
	struct entry *e, *next;

	if (!c)
		return;
	for (e = entry_of(lru_newest(&c->index)); e; e = next) {
		next = entry_of(lru_older(&e->lru));
		free(e);
	}
	lru_release(&c->index);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void rcache_stats(struct rcache *c, struct rcache_stats *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->st;
	pthread_mutex_unlock(&c->mu);
}

/* ---- get ---- */

/* Writes the made bytes to a temp file next to their final name and, when
 * kept, renames it into place. The data is fdatasync'ed before the rename:
 * not for durability (the cache is disposable and the folder is never
 * synced, so a crash may lose fresh entries), but because delayed
 * allocation lets a power loss commit the rename before the data, leaving
 * an empty or short file under a final name that we would then serve.
 * Fills p->path with the name to open. */
static int write_entry(struct rcache *c, struct pending *p, const void *data, size_t len, bool keep,
		       struct dam_err *err)
{
	char sub[PATH_MAX], final[PATH_MAX];
	int fd = -1, rc = 0, e;

	snprintf(sub, sizeof sub, "%s/%.2s", c->dir, p->key);
	if (mkdir(sub, 0700) < 0 && errno != EEXIST)
		return dam_err_errno(err, DAM_EIO, errno, "cannot create %s", sub);
	snprintf(p->path, sizeof p->path, "%s/%.2s/" TMP_PREFIX "XXXXXX", c->dir, p->key);
	if ((fd = mkostemp(p->path, O_CLOEXEC)) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot create a file in %s", sub);
	if ((e = fs_write_full(fd, data, len)) < 0) {
		rc = dam_err_errno(err, DAM_EIO, -e, "cannot write a cached rendition");
		goto out;
	}
	if (!keep)
		goto out;
	if (fdatasync(fd) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot sync a cached rendition");
		goto out;
	}
	entry_path(c, p->key, final, sizeof final);
	if (rename(p->path, final) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot rename a cached rendition into place");
		goto out;
	}
	memcpy(p->path, final, sizeof final);
out:
	close(fd);
	if (rc < 0)
		unlink(p->path);
	return rc;
}

/* Drops one reference to p; the last one unpins the entry (and evicts if
 * that was holding the total over the bound) or unlinks the temp file of a
 * result that was not kept. Called with c->mu held, after p left c->pending. */
static void pending_release(struct rcache *c, struct pending *p)
{
	if (--p->refs > 0)
		return;
	if (p->pinned) {
		if (--p->pinned->pins == 0)
			evict(c);
	} else if (p->rc == 0 && !p->kept) {
		unlink(p->path);
	}
	pthread_cond_destroy(&p->done_cv);
	free(p);
}

static void pending_unlist(struct rcache *c, struct pending *p)
{
	struct pending **pp = &c->pending;

	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
}

static struct pending *pending_find(struct rcache *c, const char *key)
{
	struct pending *p = c->pending;

	while (p && memcmp(p->key, key, KEY_LEN))
		p = p->next;
	return p;
}

static int open_ro(const char *path, int *fd, struct dam_err *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot open cached rendition %s", path);
	return 0;
}

/* Serves an existing entry. Returns 1 when served, 0 when its file has gone
 * (removed behind our back: the entry is dropped and the caller makes it
 * again), < 0 on error. Called with c->mu held; open() runs under it so that
 * eviction (which also holds it) cannot unlink the file in between. */
static int serve_hit(struct rcache *c, struct entry *e, int *fd, uint64_t *size, bool *touch,
		     struct dam_err *err)
{
	char path[PATH_MAX];
	time_t now = time(NULL);

	entry_path(c, e->key, path, sizeof path);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ENOENT && e->pins == 0) {
			index_del(c, e);
			return 0;
		}
		return dam_err_errno(err, DAM_EIO, errno, "cannot open cached rendition %s", path);
	}
	lru_use(&c->index, &e->lru);
	c->st.hits++;
	*size = e->size;
	*touch = now - e->touched >= TOUCH_EVERY_S;
	if (*touch)
		e->touched = now;
	return 1;
}

/* Waits for the make in flight for p's key and opens its result. Called and
 * returns with c->mu held. */
static int wait_for(struct rcache *c, struct pending *p, int *fd, uint64_t *size,
		    struct dam_err *err)
{
	int rc;

	p->refs++;
	c->st.misses++;
	c->st.coalesced++;
	while (!p->done)
		pthread_cond_wait(&p->done_cv, &c->mu);
	if ((rc = p->rc) < 0) {
		if (err)
			*err = p->err;
	} else if ((rc = open_ro(p->path, fd, err)) == 0) {
		struct stat st;
		*size = fstat(*fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	}
	pending_release(c, p);
	return rc;
}

/* Runs make() without the lock, writes its result and publishes it to the
 * index and to the waiters. Called and returns with c->mu held. */
static int make_and_publish(struct rcache *c, const char *key, rcache_make_fn make, void *ctx,
			    int *fd, uint64_t *size, struct dam_err *err)
{
	/* The entry is allocated up front so that nothing can fail between
	 * renaming the file into place and indexing it. */
	struct pending *p = calloc(1, sizeof *p);
	struct entry *e = calloc(1, sizeof *e);
	void *data = NULL;
	size_t len = 0;
	bool keep;
	int rc;

	if (!p || !e) {
		free(p);
		free(e);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	memcpy(p->key, key, KEY_LEN + 1);
	pthread_cond_init(&p->done_cv, NULL);
	p->refs = 1;
	p->next = c->pending;
	c->pending = p;
	c->st.misses++;
	c->st.makes++;
	pthread_mutex_unlock(&c->mu);

	/* Stage 1, unlocked: make the bytes, write them, open the result. */
	dam_err_clear(&p->err);
	rc = make(ctx, &data, &len, &p->err);
	if (rc > 0)
		rc = 0;
	if (rc < 0 && p->err.code == DAM_OK)
		dam_err_set(&p->err, rc, NULL, "making the rendition failed (%s)", dam_err_name(rc));
	if (rc == 0 && !data && len > 0)
		rc = dam_err_set(&p->err, DAM_EINVAL, NULL, "make() returned a length without data");
	uint64_t max = c->max_bytes;
	keep = max > 0 && len <= max;
	if (rc == 0)
		rc = write_entry(c, p, data, len, keep, &p->err);
	if (rc == 0 && (rc = open_ro(p->path, fd, &p->err)) < 0)
		unlink(p->path);
	free(data);

	/* Stage 2, locked: index a kept result, then wake the waiters. */
	pthread_mutex_lock(&c->mu);
	pending_unlist(c, p);
	p->rc = rc;
	p->done = true;
	p->kept = rc == 0 && keep;
	if (p->kept) {
		memcpy(e->key, key, KEY_LEN + 1);
		e->size = len;
		e->touched = time(NULL);
		index_add(c, e);
		if (p->refs > 1) {
			e->pins++;
			p->pinned = e;
		}
		evict(c);
	} else {
		free(e);
	}
	*size = len;
	if (rc < 0 && err)
		*err = p->err;
	pthread_cond_broadcast(&p->done_cv);
	pending_release(c, p);
	return rc;
}

int rcache_get(struct rcache *c, const char *key, rcache_make_fn make, void *ctx, int *fd,
	       uint64_t *size, bool *hit, struct dam_err *err)
{
	struct entry *e;
	struct pending *p;
	uint64_t sz = 0;
	bool touch = false;
	int rc;

	if (hit)
		*hit = false;
	if (fd)
		*fd = -1;
	if (!c || !make || !fd)
		return dam_err_set(err, DAM_EINVAL, NULL, "rcache_get: missing argument");
	if (!key_ok(key))
		return dam_err_set(err, DAM_EINVAL, "key", "a cache key is 64 lower-case hex characters");

	pthread_mutex_lock(&c->mu);
	if ((e = lookup(c, key)) && (rc = serve_hit(c, e, fd, &sz, &touch, err)) != 0) {
		pthread_mutex_unlock(&c->mu);
		if (rc < 0)
			return rc;
		/* Keeps the LRU order across restarts; a failure only costs order. */
		if (touch)
			futimens(*fd, NULL);
		if (hit)
			*hit = true;
		if (size)
			*size = sz;
		return 0;
	}
	if ((p = pending_find(c, key)))
		rc = wait_for(c, p, fd, &sz, err);
	else
		rc = make_and_publish(c, key, make, ctx, fd, &sz, err);
	pthread_mutex_unlock(&c->mu);
	if (rc == 0 && size)
		*size = sz;
	return rc;
}

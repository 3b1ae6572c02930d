/*
 * search_names.c - the name order for sort=name (see search_names.h).
 */
#include "core/search_names.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* More changed assets than this in one catch-up: drop the order and
 * rebuild it on the next name sort, rather than patch asset by asset. */
#define PATCH_MAX 512

/* The order a name sort shows (search_order.c's cmp_hit): case-insensitive,
 * then bytewise. */
static int name_cmp(const char *a, const char *b)
{
	int c = strcasecmp(a, b);

	return c ? c : strcmp(a, b);
}

struct named {
	uint32_t row;
	char *name;
};

static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = name_cmp(x->name, y->name);

	if (c)
		return c;
	return x->row < y->row ? 1 : x->row > y->row ? -1 : 0;
}

void search_names_release(struct search_names *sn)
{
	free(sn->rows);
	free(sn->same);
	free(sn->key);
	memset(sn, 0, sizeof *sn);
}

/* Recomputes every asset's key from the order. */
static int rekey(struct search_names *sn, struct dam_err *err)
{
	uint32_t need = 0, g = 0;

	for (uint32_t i = 0; i < sn->n; i++)
		if (sn->rows[i] >= need)
			need = sn->rows[i] + 1;
	if (need > sn->nkey) {
		uint32_t *k = realloc(sn->key, (size_t)(need + need / 8 + 64) * sizeof *k);
		if (!k)
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		sn->key = k;
		sn->nkey = need + need / 8 + 64;
	}
	if (sn->nkey) /* an empty library has no array; memset(NULL) is undefined */
		memset(sn->key, 0, (size_t)sn->nkey * sizeof *sn->key);
	for (uint32_t i = 0; i < sn->n; i++) {
		if (!sn->same[i])
			g = i;
		sn->key[sn->rows[i]] = g + 1;
	}
	return 0;
}

static int reserve(struct search_names *sn, uint32_t n, struct dam_err *err)
{
	uint32_t *r;
	uint8_t *s;

	if (n <= sn->cap)
		return 0;
	n += n / 8 + 64;
	if (!(r = realloc(sn->rows, (size_t)n * sizeof *r)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	sn->rows = r;
	if (!(s = realloc(sn->same, n)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	sn->same = s;
	sn->cap = n;
	return 0;
}

static int read_all(struct db *db, struct named **out, size_t *nout, struct dam_err *err)
{
	struct db_stmt *st;
	struct named *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if ((rc = db_query(db, &st, err, "SELECT num, name FROM assets", "")) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		if (n == cap) {
			struct named *nv = realloc(v, (cap = cap ? cap * 2 : 4096) * sizeof *nv);
			if (!nv) {
				rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
				break;
			}
			v = nv;
		}
		v[n].row = (uint32_t)db_col_int(st, 0);
		if (!(v[n].name = strdup(db_col_text(st, 1)))) {
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
			break;
		}
		n++;
	}
	db_finalize(st);
	*out = v;
	*nout = n;
	return rc < 0 ? rc : 0;
}

int search_names_build(struct search_names *sn, struct db *db, struct dam_err *err)
{
	struct named *v = NULL;
	size_t n = 0;
	int rc;

	search_names_release(sn);
	if ((rc = read_all(db, &v, &n, err)) < 0 || (rc = reserve(sn, (uint32_t)n, err)) < 0)
		goto out;
	if (n)
		qsort(v, n, sizeof *v, named_cmp);
	for (size_t i = 0; i < n; i++) {
		sn->rows[i] = v[i].row;
		sn->same[i] = i && !strcmp(v[i].name, v[i - 1].name);
	}
	sn->n = (uint32_t)n;
	if ((rc = rekey(sn, err)) < 0)
		goto out;
	sn->built = true;
out:
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	if (rc < 0)
		search_names_release(sn);
	return rc;
}

/* The current name of an asset; *out NULL when there is no such asset.
 * Caller frees *out. */
static int name_of(struct db *db, uint32_t row, char **out, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = db_query(db, &st, err, "SELECT name FROM assets WHERE num=?", "i", (int64_t)row)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW && !(*out = strdup(db_col_text(st, 0))))
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* First position whose (name, row) comes at or after the given one in the
 * order (row 0: before every asset of that name). */
static int lower_bound(const struct search_names *sn, struct db *db, const char *name, uint32_t row, uint32_t *out,
		       struct dam_err *err)
{
	uint32_t lo = 0, hi = sn->n;
	int rc = 0;

	while (lo < hi && rc == 0) {
		uint32_t mid = lo + (hi - lo) / 2;
		char *m = NULL;
		int c;
		if ((rc = name_of(db, sn->rows[mid], &m, err)) < 0)
			break;
		c = m ? name_cmp(m, name) : -1;
		if (!c && row)
			c = sn->rows[mid] > row ? -1 : sn->rows[mid] < row ? 1 : 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
		free(m);
	}
	*out = lo;
	return rc;
}

/* Drops the marked assets (key UINT32_MAX) in one pass. An asset keeps
 * "same name as before" only if every dropped asset between it and the
 * previous kept one had the same name too. */
static void drop_marked(struct search_names *sn)
{
	uint32_t w = 0;
	bool chain = true;

	for (uint32_t i = 0; i < sn->n; i++) {
		uint32_t r = sn->rows[i];
		chain = chain && sn->same[i];
		if (r < sn->nkey && sn->key[r] == UINT32_MAX)
			continue;
		sn->rows[w] = r;
		sn->same[w] = w && chain;
		w++;
		chain = true;
	}
	sn->n = w;
}

/* Inserts one asset with its current name. Sets *broken when its new
 * neighbours are not in order around it: a rename that raced with this
 * catch-up; the caller then rebuilds. */
static int insert(struct search_names *sn, struct db *db, uint32_t row, const char *name, bool *broken,
		  struct dam_err *err)
{
	char *prev = NULL, *next = NULL;
	uint32_t p;
	int rc;

	if ((rc = lower_bound(sn, db, name, row, &p, err)) < 0 || (rc = reserve(sn, sn->n + 1, err)) < 0)
		return rc;
	if ((p > 0 && (rc = name_of(db, sn->rows[p - 1], &prev, err)) < 0) ||
	    (p < sn->n && (rc = name_of(db, sn->rows[p], &next, err)) < 0))
		goto out;
	if ((p > 0 && (!prev || name_cmp(prev, name) > 0)) || (p < sn->n && (!next || name_cmp(name, next) > 0)))
		*broken = true;
	memmove(sn->rows + p + 1, sn->rows + p, (size_t)(sn->n - p) * sizeof *sn->rows);
	memmove(sn->same + p + 1, sn->same + p, sn->n - p);
	sn->rows[p] = row;
	sn->same[p] = prev && !strcmp(prev, name);
	if (p < sn->n)
		sn->same[p + 1] = next && !strcmp(next, name);
	sn->n++;
out:
	free(prev);
	free(next);
	return rc;
}

int search_names_patch(struct search_names *sn, struct db *db, const int64_t *rows, size_t n, struct dam_err *err)
{
	bool broken = false;
	int rc = 0;

	if (!sn->built || !n)
		return 0;
	if (n > PATCH_MAX) {
		search_names_release(sn);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (rows[i] >= 0 && rows[i] < sn->nkey && sn->key[rows[i]])
			sn->key[rows[i]] = UINT32_MAX;
	drop_marked(sn);
	for (size_t i = 0; i < n && rc == 0 && !broken; i++) {
		char *name = NULL;
		if (rows[i] < 0 || rows[i] >= UINT32_MAX || (rc = name_of(db, (uint32_t)rows[i], &name, err)) < 0)
			continue;
		if (name)
			rc = insert(sn, db, (uint32_t)rows[i], name, &broken, err);
		free(name);
	}
	if (rc == 0 && !broken)
		rc = rekey(sn, err);
	if (rc < 0 || broken)
		search_names_release(sn);
	return rc;
}

int search_names_locate(const struct search_names *sn, struct db *db, const char *name, double *out,
			struct dam_err *err)
{
	uint32_t p;
	char *at = NULL;
	int rc;

	if ((rc = lower_bound(sn, db, name, 0, &p, err)) < 0)
		return rc;
	if (p < sn->n && (rc = name_of(db, sn->rows[p], &at, err)) < 0)
		return rc;
	*out = at && !strcmp(at, name) ? (double)p : (double)p - 0.5;
	free(at);
	return 0;
}

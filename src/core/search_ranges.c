/* search_ranges.c - histograms of number and date fields over a result. */
#include "core/search_ranges.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fielddef.h"

struct vals {
	double *v;
	size_t n, cap;
};

/* The values of key held by assets of result. */
static int values_of(struct dam *dam, const char *key, const roaring_bitmap_t *result, struct vals *out,
		     struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err, "SELECT asset_rowid, num FROM search_numbers WHERE key=?", "s", key)) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		if (!roaring_bitmap_contains(result, (uint32_t)db_col_int(st, 0)))
			continue;
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 64;
			double *nv = realloc(out->v, cap * sizeof *nv);
			if (!nv) {
				rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
				break;
			}
			out->v = nv;
			out->cap = cap;
		}
		out->v[out->n++] = db_col_double(st, 1);
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* x as the query will read it back from "%.15g": counts and the bucket's
 * query then agree on values at a bound. */
static double round15(double x)
{
	char buf[40];

	snprintf(buf, sizeof buf, "%.15g", x);
	return strtod(buf, NULL);
}

/* The shortest of %.15g, %.16g, %.17g that reads back as x exactly. */
static void fmt_num(double x, char out[40])
{
	for (int p = 15; p <= 17; p++) {
		snprintf(out, 40, "%.*g", p, x);
		if (strtod(out, NULL) == x)
			return;
	}
}

static json_t *number_ranges(const char *key, const struct vals *vs, double lo, double hi)
{
	json_t *buckets = json_array();
	int nb = hi > lo ? SEARCH_RANGE_BUCKETS : 1;
	double w = (hi - lo) / nb;

	for (int b = 0; b < nb; b++) {
		double from = b == 0 ? lo : round15(lo + w * b), to = b + 1 == nb ? hi : round15(lo + w * (b + 1));
		size_t count = 0;
		char q[200], a[40], z[40];
		for (size_t i = 0; i < vs->n; i++)
			count += vs->v[i] >= from && (b + 1 == nb ? vs->v[i] <= to : vs->v[i] < to);
		fmt_num(from, a);
		fmt_num(to, z);
		if (b + 1 == nb)
			snprintf(q, sizeof q, "%s:%s..%s", key, a, z);
		else
			snprintf(q, sizeof q, "%s:>=%s %s:<%s", key, a, key, z);
		json_array_append_new(buckets, json_pack("{s:f,s:f,s:I,s:s}", "from", from, "to", to, "count",
							 (json_int_t)count, "q", q));
	}
	return json_pack("{s:s,s:f,s:f,s:I,s:o}", "type", "number", "min", lo, "max", hi, "count", (json_int_t)vs->n,
			 "buckets", buckets);
}

static void day_of(double ms, struct tm *tm)
{
	time_t t = (time_t)floor(ms / 1000.0);

	gmtime_r(&t, tm);
}

static void ymd(const struct tm *tm, char out[16])
{
	snprintf(out, 16, "%04d-%02d-%02d", (tm->tm_year + 1900) % 10000, (tm->tm_mon + 1) % 100, tm->tm_mday % 100);
}

/* Buckets of whole UTC days, months or years from lo's to hi's. */
static json_t *date_ranges(const char *key, const struct vals *vs, double lo, double hi)
{
	json_t *buckets = json_array();
	struct tm a, z, s, e;
	char from[16], to[16], q[200];
	int unit; /* 0 day, 1 month, 2 year */

	day_of(lo, &a);
	day_of(hi, &z);
	if (hi - lo <= 31 * 86400000.0)
		unit = 0;
	else if ((z.tm_year - a.tm_year) * 12 + z.tm_mon - a.tm_mon < 36)
		unit = 1;
	else
		unit = 2;
	s = (struct tm){ .tm_year = a.tm_year, .tm_mon = unit == 2 ? 0 : a.tm_mon, .tm_mday = unit ? 1 : a.tm_mday };
	for (int guard = 0; guard < 40; guard++) {
		time_t ts = timegm(&s), te;
		size_t count = 0;
		e = s;
		if (unit == 0)
			e.tm_mday++;
		else if (unit == 1)
			e.tm_mon++;
		else
			e.tm_year++;
		te = timegm(&e); /* normalises e, the next bucket's start */
		for (size_t i = 0; i < vs->n; i++)
			count += vs->v[i] >= ts * 1000.0 && vs->v[i] < te * 1000.0;
		ymd(&s, from);
		{
			time_t last = te - 86400;
			struct tm l;
			gmtime_r(&last, &l);
			ymd(&l, to);
		}
		if (unit == 0)
			snprintf(q, sizeof q, "%s:%s", key, from);
		else
			snprintf(q, sizeof q, "%s:%s..%s", key, from, to);
		json_array_append_new(buckets, json_pack("{s:s,s:s,s:I,s:s}", "from", from, "to", to, "count",
							 (json_int_t)count, "q", q));
		if (te * 1000.0 > hi)
			break;
		s = e;
	}
	ymd(&a, from);
	ymd(&z, to);
	return json_pack("{s:s,s:s,s:s,s:I,s:s,s:o}", "type", "date", "min", from, "max", to, "count", (json_int_t)vs->n,
			 "unit", unit == 0 ? "day" : unit == 1 ? "month" : "year", "buckets", buckets);
}

int search_ranges(struct dam *dam, const roaring_bitmap_t *result, search_range_base_fn base_of, void *arg,
		  json_t **out, struct dam_err *err)
{
	struct db_stmt *st = NULL;
	json_t *o = json_object();
	int rc;

	*out = NULL;
	if ((rc = db_query(dam->db, &st, err, "SELECT key, type FROM field_defs WHERE facetable <> 0 AND type IN (?,?) ORDER BY key",
			   "ss", field_type_name(FIELD_NUMBER), field_type_name(FIELD_DATE))) < 0)
		goto out;
	while ((rc = db_step(st, err)) == DB_ROW) {
		const char *key = db_col_text(st, 0);
		bool date = !strcmp(db_col_text(st, 1), field_type_name(FIELD_DATE));
		struct vals vs = { 0 };
		double lo = INFINITY, hi = -INFINITY;
		roaring_bitmap_t *base = base_of ? base_of(key, arg) : NULL;
		rc = values_of(dam, key, base ? base : result, &vs, err);
		if (base)
			roaring_bitmap_free(base);
		if (rc < 0) {
			free(vs.v);
			break;
		}
		for (size_t i = 0; i < vs.n; i++) {
			lo = fmin(lo, vs.v[i]);
			hi = fmax(hi, vs.v[i]);
		}
		if (vs.n)
			json_object_set_new(o, key, date ? date_ranges(key, &vs, lo, hi) : number_ranges(key, &vs, lo, hi));
		free(vs.v);
	}
out:
	db_finalize(st);
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

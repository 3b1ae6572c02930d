/*
 * fts.c - the bare FTS5 baseline: times one MATCH query on a library's
 * search_fts table, the floor the search API is compared with.
 *
 *   ./fts DB RUNS 'MATCH-EXPR' [LIMIT]
 *
 * Runs `SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rank
 * LIMIT ?` RUNS times on one connection (statement prepared each run, as the
 * server does) and prints "rows p50_ms p99_ms mean_ms".
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	sqlite3 *db;
	int runs, limit, rows = 0;
	double *t, sum = 0;

	if (argc < 4)
		return fprintf(stderr, "usage: fts DB RUNS MATCH [LIMIT]\n"), 2;
	runs = atoi(argv[2]);
	limit = argc > 4 ? atoi(argv[4]) : 50;
	t = calloc((size_t)runs, sizeof *t);
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL))
		return fprintf(stderr, "open: %s\n", sqlite3_errmsg(db)), 1;
	for (int i = 0; i < runs; i++) {
		struct timespec a, b;
		sqlite3_stmt *st;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (sqlite3_prepare_v2(db, "SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT ?", -1, &st, NULL))
			return fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db)), 1;
		sqlite3_bind_text(st, 1, argv[3], -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, limit);
		rows = 0;
		while (sqlite3_step(st) == SQLITE_ROW)
			rows++;
		sqlite3_finalize(st);
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
		sum += t[i];
	}
	qsort(t, (size_t)runs, sizeof *t, cmpd);
	printf("%d %.3f %.3f %.3f\n", rows, t[runs / 2], t[(int)(runs * 0.99) < runs ? (int)(runs * 0.99) : runs - 1], sum / runs);
	sqlite3_close(db);
	return 0;
}

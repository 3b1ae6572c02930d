/*
 * gensim.c - writes synthetic similarity rows (perceptual hash + colour
 * histogram) for the image and video assets of a library made by gen.c,
 * straight into the `similarity` table, one transaction per 50,000 rows.
 * Deterministic (seeded PRNG); INSERT OR REPLACE, so running it twice gives
 * the same table.
 *
 *   cc -O2 -o gensim gensim.c -lsqlite3 && ./gensim LIB/dam.db
 *
 * One row per version of an image/video asset (current and old versions:
 * the engine must only compare current ones). Hashes: 80 % independent
 * random 64-bit values; 20 % belong to clusters of 2-12 near-duplicates
 * (a cluster base hash with 0-8 bits flipped) whose histograms are the
 * base histogram plus small noise. Histograms: 64 bins (4x4x4 sRGB), a few
 * dominant bins plus noise, normalised to sum 1 like media_analyze's.
 * Prints the ids of three cluster members and of a lone asset, for the
 * benchmark to query.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BINS 64

static uint64_t rs = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}
static int rn(int n) { return (int)(rnd() % (uint64_t)n); }
static float rf(void) { return (float)(rnd() % 1000000) / 1000000.0f; }

static void hist_random(float *h)
{
	float s = 0;
	for (int i = 0; i < BINS; i++)
		h[i] = rf() * 0.02f;
	for (int k = 0, n = 2 + rn(4); k < n; k++)
		h[rn(BINS)] += 0.2f + rf();
	for (int i = 0; i < BINS; i++)
		s += h[i];
	for (int i = 0; i < BINS; i++)
		h[i] /= s;
}

static void hist_near(const float *base, float *h)
{
	float s = 0;
	for (int i = 0; i < BINS; i++)
		s += (h[i] = base[i] * (0.9f + 0.2f * rf()) + rf() * 0.005f);
	for (int i = 0; i < BINS; i++)
		h[i] /= s;
}

static uint64_t flip(uint64_t x, int bits)
{
	for (int i = 0; i < bits; i++)
		x ^= 1ull << rn(64);
	return x;
}

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "gensim: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

int main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *sel, *ins;
	uint64_t base = 0;
	float bh[BINS], h[BINS];
	int left = 0, n = 0, shown = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: gensim LIB/dam.db\n");
		return 2;
	}
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		die(db, "open");
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA busy_timeout=60000", 0, 0, 0);
	if (sqlite3_prepare_v2(db,
			       "SELECT v.rowid, a.rowid, a.id, v.id = a.current_version_id FROM versions v"
			       " JOIN assets a ON a.id = v.asset_id WHERE a.kind IN ('image','video') ORDER BY v.rowid",
			       -1, &sel, 0) != SQLITE_OK)
		die(db, "select");
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO similarity(version_rowid, asset_rowid, phash, hist) VALUES (?,?,?,?)",
			       -1, &ins, 0) != SQLITE_OK)
		die(db, "insert");
	sqlite3_exec(db, "BEGIN", 0, 0, 0);
	while (sqlite3_step(sel) == SQLITE_ROW) {
		int64_t vrow = sqlite3_column_int64(sel, 0), arow = sqlite3_column_int64(sel, 1);
		uint64_t ph;
		int in_cluster;

		if (!left && rn(100) < 4) { /* start a cluster: ~20 % of rows end up in one */
			left = 2 + rn(11);
			base = rnd();
			hist_random(bh);
		}
		in_cluster = left > 0;
		if (in_cluster) {
			ph = flip(base, rn(9));
			hist_near(bh, h);
			left--;
		} else {
			ph = rnd();
			hist_random(h);
		}
		sqlite3_bind_int64(ins, 1, vrow);
		sqlite3_bind_int64(ins, 2, arow);
		sqlite3_bind_int64(ins, 3, (int64_t)ph);
		sqlite3_bind_blob(ins, 4, h, sizeof h, SQLITE_TRANSIENT);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die(db, "insert row");
		sqlite3_reset(ins);
		if (in_cluster && left == 0 && shown < 3 && sqlite3_column_int(sel, 3) && arow > 500000) {
			printf("cluster_asset=%s phash=%016llx\n", (const char *)sqlite3_column_text(sel, 2), (unsigned long long)ph);
			shown++;
		}
		if (!in_cluster && shown == 3 && sqlite3_column_int(sel, 3)) {
			printf("lone_asset=%s\n", (const char *)sqlite3_column_text(sel, 2));
			shown++;
		}
		if (++n % 50000 == 0) {
			sqlite3_exec(db, "COMMIT; BEGIN", 0, 0, 0);
			fprintf(stderr, "%d rows\n", n);
		}
	}
	sqlite3_exec(db, "COMMIT", 0, 0, 0);
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	printf("similarity_rows=%d\n", n);
	sqlite3_close(db);
	return 0;
}

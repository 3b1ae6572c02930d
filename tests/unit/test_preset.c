/* test_preset.c - the delivery path's preset cache: built once, and never
 * staler than its documented bounds (a change in this process: at once;
 * in another process: within PRESET_RECHECK_MS; a configuration reload: at
 * once). */
#include "testutil.h"

#include <time.h>

#include "core/library.h"
#include "deliver/preset.h"
#include "util/timeutil.h"

struct fx {
	char *dir;
	struct dam *a, *b; /* two handles: two threads of one process */
	struct preset_cache *c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct dam_err err;

	f->dir = tu_tempdir();
	assert_int_equal(library_init(f->dir, &err), 0);
	assert_int_equal(library_open(f->dir, &f->a, &err), 0);
	assert_int_equal(library_open(f->dir, &f->b, &err), 0);
	library_set_actor(f->a, "test");
	library_set_actor(f->b, "test");
	assert_int_equal(preset_cache_new(&f->c, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	preset_cache_free(f->c);
	library_close(f->a);
	library_close(f->b);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The cached spec of name, or "" when the cache says it does not exist. */
static const char *cached(struct fx *f, struct dam *dam, const char *name)
{
	static struct preset p;
	struct dam_err err;
	int rc = preset_cache_get(f->c, dam, name, &p, NULL, &err);

	if (rc == DAM_ENOTFOUND)
		return "";
	assert_int_equal(rc, 0);
	return p.spec;
}

/* What another process does to the presets table: the same statements
 * preset_put() runs, on this handle's connection, without telling this
 * process (no preset_put(), so no in-process notification). */
static void change_elsewhere(struct dam *dam, const char *name, const char *spec)
{
	struct dam_err err;

	assert_true(db_run(dam->db, &err,
			   "INSERT INTO presets(name, spec, description, ahead, updated_at) VALUES (?,?,'',1,0)"
			   " ON CONFLICT(name) DO UPDATE SET spec=excluded.spec",
			   "ss", name, spec) >= 0);
	assert_true(db_run(dam->db, &err,
			   "INSERT INTO library(key, value) VALUES ('presets_version', '1')"
			   " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1", "") >= 0);
}

static void test_builtins_and_unknown(void **state)
{
	struct fx *f = *state;
	struct preset p;
	struct dam_err err;

	assert_string_equal(cached(f, f->a, "tmall"), "w_800,h_800,fit_contain,bg_ffffff,f_jpeg,q_90");
	assert_int_equal(preset_cache_get(f->c, f->a, "tmall", &p, NULL, &err), 0);
	assert_string_equal(p.source, "builtin");
	assert_true(p.ahead);
	assert_string_equal(cached(f, f->a, "web-640"), "w_640,f_auto,q_80");
	assert_int_equal(preset_cache_get(f->c, f->a, "nope", &p, NULL, &err), DAM_ENOTFOUND);
	assert_string_equal(err.field, "preset");
	assert_non_null(strstr(err.msg, "nope"));
	/* the first and the last name of the sorted set are found too */
	assert_string_equal(cached(f, f->a, "amazon"), "w_2000,h_2000,fit_contain,bg_ffffff,f_jpeg,q_90,budget_10m");
	assert_string_equal(cached(f, f->a, "web-960"), "w_960,f_auto,q_80");
}

/* preset_put()/preset_delete() through any handle of this process are seen
 * by the very next lookup, whichever handle asks. */
static void test_change_in_this_process_is_seen_at_once(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	bool created;

	assert_string_equal(cached(f, f->a, "hero"), "");
	assert_int_equal(preset_put(f->b, "hero", "w_300,f_webp", "", true, &created, &err), 0);
	assert_true(created);
	assert_string_equal(cached(f, f->a, "hero"), "w_300,f_webp");
	assert_int_equal(preset_put(f->b, "hero", "w_200,f_png", "", true, &created, &err), 0);
	assert_string_equal(cached(f, f->a, "hero"), "w_200,f_png");
	/* an override of a built-in, and its deletion */
	assert_int_equal(preset_put(f->a, "jd", "w_500,h_500,fit_contain,f_jpeg", "", true, &created, &err), 0);
	assert_string_equal(cached(f, f->b, "jd"), "w_500,h_500,fit_contain,f_jpeg");
	assert_int_equal(preset_delete(f->b, "jd", &err), 0);
	assert_string_equal(cached(f, f->a, "jd"), "w_800,h_800,fit_contain,bg_ffffff,f_jpeg,q_90");
	assert_int_equal(preset_delete(f->b, "hero", &err), 0);
	assert_string_equal(cached(f, f->a, "hero"), "");
}

/* A change made by another process is picked up within PRESET_RECHECK_MS:
 * the cache may still answer the old spec before that, never after. */
static void test_change_elsewhere_is_seen_within_the_bound(void **state)
{
	struct fx *f = *state;
	uint64_t t0;

	change_elsewhere(f->b, "xproc", "w_120,f_png");
	assert_string_equal(cached(f, f->a, "xproc"), "w_120,f_png"); /* first build reads it */
	t0 = time_now_ms();
	change_elsewhere(f->b, "xproc", "w_90,f_png");
	while (strcmp(cached(f, f->a, "xproc"), "w_90,f_png")) {
		assert_true(time_now_ms() - t0 <= PRESET_RECHECK_MS + 200);
		sleep_ms(20);
	}
	/* and stays at the new value */
	sleep_ms(PRESET_RECHECK_MS + 50);
	assert_string_equal(cached(f, f->a, "xproc"), "w_90,f_png");
}

/* Between rechecks the database is not read: a change that did not bump
 * presets_version (nothing in dam makes one) stays invisible, which shows
 * that the cache is what answers. */
static void test_cache_answers_between_rechecks(void **state)
{
	struct fx *f = *state;
	struct dam_err err;

	assert_string_equal(cached(f, f->a, "tmall"), "w_800,h_800,fit_contain,bg_ffffff,f_jpeg,q_90");
	assert_true(db_run(f->b->db, &err,
			   "INSERT INTO presets(name, spec, description, ahead, updated_at) VALUES ('quiet','w_10,f_png','',1,0)",
			   "") >= 0);
	assert_string_equal(cached(f, f->a, "quiet"), "");
	sleep_ms(PRESET_RECHECK_MS + 50);
	assert_string_equal(cached(f, f->a, "quiet"), ""); /* version unchanged: no rebuild */
	change_elsewhere(f->b, "other", "w_20,f_png");
	sleep_ms(PRESET_RECHECK_MS + 50);
	assert_string_equal(cached(f, f->a, "quiet"), "w_10,f_png");
}

/* A handle whose dam.conf presets differ (a reload) rebuilds at once. */
static void test_config_change_rebuilds(void **state)
{
	struct fx *f = *state;
	struct config_preset *cp = &f->a->cfg.presets[f->a->cfg.npresets];
	struct preset p;
	struct dam_err err;
	int rc;

	assert_string_equal(cached(f, f->a, "hero"), "");
	snprintf(cp->name, sizeof cp->name, "hero");
	snprintf(cp->spec, sizeof cp->spec, "w_1600,h_900,fit_cover,f_webp");
	cp->description[0] = '\0';
	f->a->cfg.npresets++;
	assert_string_equal(cached(f, f->a, "hero"), "w_1600,h_900,fit_cover,f_webp");
	snprintf(cp->spec, sizeof cp->spec, "w_800,h_450,fit_cover,f_webp");
	assert_string_equal(cached(f, f->a, "hero"), "w_800,h_450,fit_cover,f_webp");
	/* the formats are part of it too: the same spec, no longer allowed */
	snprintf(f->a->cfg.formats, sizeof f->a->cfg.formats, "jpeg,png");
	rc = preset_cache_get(f->c, f->a, "hero", &p, NULL, &err);
	assert_true(rc < 0 && rc != DAM_ENOTFOUND);
	assert_non_null(strstr(err.msg, "[preset hero]"));
}

/* Issue 11, point 3: presets changed in dam.conf have no row to trigger
 * on; preset_sync names each unstored preset for a CDN purge when the
 * fingerprint moved, and nothing when it did not. */
static void test_config_change_queues_purges(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	int64_t n = -1;

	assert_int_equal(preset_sync(f->a, NULL, &err), 0);
	assert_true(db_run(f->a->db, &err, "DELETE FROM purge_outbox", "") >= 0);
	assert_int_equal(db_query_int(f->a->db, &n, &err, "SELECT count(*) FROM purge_outbox", ""), 0);
	assert_int_equal(n, 0);
	assert_int_equal(preset_sync(f->a, NULL, &err), 0); /* unchanged: nothing */
	assert_int_equal(db_query_int(f->a->db, &n, &err, "SELECT count(*) FROM purge_outbox", ""), 0);
	assert_int_equal(n, 0);

	/* a new dam.conf preset: only it is named, not the unchanged built-ins */
	snprintf(f->a->cfg.presets[0].name, sizeof f->a->cfg.presets[0].name, "hero");
	snprintf(f->a->cfg.presets[0].spec, sizeof f->a->cfg.presets[0].spec, "w_1600,f_jpeg");
	f->a->cfg.npresets = 1;
	assert_int_equal(preset_sync(f->a, NULL, &err), 0);
	assert_int_equal(db_query_int(f->a->db, &n, &err, "SELECT count(*) FROM purge_outbox", ""), 0);
	assert_int_equal(n, 1);
	assert_int_equal(db_query_int(f->a->db, &n, &err,
				      "SELECT count(*) FROM purge_outbox WHERE surrogate_key = 'preset-hero'", ""),
			 0);
	assert_int_equal(n, 1);

	/* its definition changed: named again; then removed: named again */
	snprintf(f->a->cfg.presets[0].spec, sizeof f->a->cfg.presets[0].spec, "w_1200,f_jpeg");
	assert_int_equal(preset_sync(f->a, NULL, &err), 0);
	f->a->cfg.npresets = 0;
	assert_int_equal(preset_sync(f->a, NULL, &err), 0);
	assert_int_equal(db_query_int(f->a->db, &n, &err,
				      "SELECT count(*) FROM purge_outbox WHERE surrogate_key = 'preset-hero'", ""),
			 0);
	assert_int_equal(n, 3);
	assert_int_equal(db_query_int(f->a->db, &n, &err, "SELECT count(*) FROM purge_outbox", ""), 0);
	assert_int_equal(n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_builtins_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_change_queues_purges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_in_this_process_is_seen_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_elsewhere_is_seen_within_the_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_answers_between_rechecks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_change_rebuilds, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

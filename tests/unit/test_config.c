/* dam.conf's keys: where each lives (shared or node), config_set and
 * config_get round trips, and the node-only load a library uses once the
 * shared settings are in the database (core/settings_load.h). */
#include "testutil.h"

#include "util/config.h"

static void test_scopes(void **state)
{
	(void)state;
	assert_int_equal(config_key_scope("limits", "max_pixels"), CONFIG_SHARED);
	assert_int_equal(config_key_scope("worker", "lease"), CONFIG_SHARED);
	assert_int_equal(config_key_scope("delivery", "presets_only"), CONFIG_SHARED);
	assert_int_equal(config_key_scope("preset hero", "spec"), CONFIG_SHARED);
	assert_int_equal(config_key_scope("library", "name"), CONFIG_SHARED);
	assert_int_equal(config_key_scope("database", "url"), CONFIG_NODE);
	assert_int_equal(config_key_scope("store", "bucket"), CONFIG_NODE);
	assert_int_equal(config_key_scope("worker", "processes"), CONFIG_NODE);
	assert_int_equal(config_key_scope("delivery", "cache_mb"), CONFIG_NODE);
	assert_int_equal(config_key_scope("delivery", "hot_cache_mb"), CONFIG_NODE);
	/* unknown keys and the refused secrets live nowhere */
	assert_int_equal(config_key_scope("limits", "max_pixel"), -1);
	assert_int_equal(config_key_scope("store", "secret"), -1);
	assert_int_equal(config_key_scope("database", "password"), -1);
	assert_int_equal(config_key_scope("preset hero", "colour"), -1);
}

/* Counts config_each_shared's entries and checks each reads back. */
static int count_entry(void *ctx, const char *section, const char *key, const char *value)
{
	(void)value;
	assert_int_equal(config_key_scope(section, key), CONFIG_SHARED);
	(*(int *)ctx)++;
	return 0;
}

static void test_set_get(void **state)
{
	struct dam_config cfg;
	struct dam_err err = { 0 };
	char v[64];
	int n = 0;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "limits", "max_pixels", "1000", &err), 0);
	assert_int_equal(cfg.max_pixels, 1000);
	assert_int_equal(config_set(&cfg, "delivery", "purge_method", "purge", &err), 0);
	assert_string_equal(cfg.purge_method, "PURGE");
	assert_int_equal(config_set(&cfg, "delivery", "presets_only", "yes", &err), 0);
	assert_int_equal(config_set(&cfg, "preset promo", "spec", "w_123,f_png", &err), 0);
	assert_int_equal(config_get(&cfg, "delivery", "presets_only", v, sizeof v), 0);
	assert_string_equal(v, "true");
	assert_int_equal(config_get(&cfg, "preset promo", "spec", v, sizeof v), 0);
	assert_string_equal(v, "w_123,f_png");
	assert_int_equal(config_set(&cfg, "limits", "max_pixels", "lots", &err), DAM_EINVAL);
	assert_non_null(strstr(err.msg, "[limits] max_pixels"));
	assert_int_equal(cfg.max_pixels, 1000);
	assert_int_equal(config_set(&cfg, "limits", "nope", "1", &err), DAM_EINVAL);
	assert_non_null(strstr(err.msg, "unknown key"));
	assert_int_equal(config_set(&cfg, "store", "secret", "s3cr3t", &err), DAM_EINVAL);

	/* every shared entry, given back through config_set, gives the same cfg */
	config_each_shared(&cfg, count_entry, &n);
	assert_int_equal(n, 24 + 2); /* 24 shared keys, spec and description of promo */
}

static int copy_entry(void *ctx, const char *section, const char *key, const char *value)
{
	return config_set(ctx, section, key, value, NULL);
}

static void test_round_trip(void **state)
{
	struct dam_config cfg, back;

	(void)state;
	config_defaults(&cfg);
	config_set(&cfg, "limits", "max_pixels", "1000", NULL);
	config_set(&cfg, "worker", "lease", "7", NULL);
	config_set(&cfg, "delivery", "formats", "jpeg,png", NULL);
	config_set(&cfg, "preset promo", "spec", "w_123,f_png", NULL);
	config_set(&cfg, "preset promo", "description", "Promo", NULL);
	config_defaults(&back);
	assert_int_equal(config_each_shared(&cfg, copy_entry, &back), 0);
	assert_memory_equal(&cfg, &back, sizeof cfg);
}

static void test_node_mode(void **state)
{
	char *dir = tu_tempdir(), path[512];
	struct dam_config cfg;
	struct dam_err err = { 0 };
	FILE *f;

	(void)state;
	snprintf(path, sizeof path, "%s/dam.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[limits]\nmax_pixels = 1000\n[delivery]\ncache_mb = 7\n[preset promo]\nspec = w_1\n", f);
	fclose(f);
	config_defaults(&cfg);
	config_set(&cfg, "limits", "max_pixels", "500", NULL); /* as if from the database */
	assert_int_equal(config_load_mode(path, &cfg, CONFIG_LOAD_NODE, &err), 0);
	assert_int_equal(cfg.max_pixels, 500);  /* shared: the database's stands */
	assert_int_equal(cfg.cache_mb, 7);      /* node: dam.conf's */
	assert_int_equal(cfg.npresets, 0);      /* presets are shared */
	/* a bad shared key is refused in node mode too */
	f = fopen(path, "a");
	fputs("[limits]\nmax_dimension = huge\n", f);
	fclose(f);
	assert_int_equal(config_load_mode(path, &cfg, CONFIG_LOAD_NODE, &err), DAM_EINVAL);
	assert_non_null(strstr(err.msg, "dam.conf: bad value for [limits] max_dimension"));
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_set_get),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_node_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

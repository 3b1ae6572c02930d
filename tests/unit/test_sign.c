#include "testutil.h"

#include <sodium.h>

#include "core/library.h"
#include "deliver/sign.h"
#include "util/id.h"

#define PATH "w_800,h_800,fit_cover/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

struct fx {
	char *dir;
	char lib[4200];
	struct dam *dam;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	f->dir = tu_tempdir();
	snprintf(f->lib, sizeof f->lib, "%s/lib", f->dir);
	assert_int_equal(library_init(f->lib, NULL), 0);
	assert_int_equal(library_open(f->lib, &f->dam, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	library_close(f->dam);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static int64_t count(struct fx *f, const char *sql)
{
	int64_t n = -1;

	assert_int_equal(db_query_int(f->dam->db, &n, NULL, sql, ""), 0);
	return n;
}

static struct sign_keys *load(struct fx *f)
{
	struct sign_keys *k = NULL;
	struct dam_err err = { 0 };

	if (sign_keys_load(f->dam->db, &k, &err) != 0)
		fail_msg("sign_keys_load: %s", err.msg);
	assert_non_null(k);
	return k;
}

static bool verify(const struct sign_keys *k, const char *path, const char *sig)
{
	return sign_verify(k, path, strlen(path), sig);
}

/* The signature of path under a known key, computed independently. */
static void expected_sig(const unsigned char key[32], const char *path, char out[SIGN_LEN + 1])
{
	unsigned char mac[32];
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)path, strlen(path));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, SIGN_LEN + 1, mac, 16, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void test_first_key_and_sign(void **state)
{
	struct fx *f = *state;
	struct sign_keys *k, *k2;
	char sig[SIGN_LEN + 1], again[SIGN_LEN + 1], want[SIGN_LEN + 1];
	struct db_stmt *st;
	size_t len;

	assert_int_equal(count(f, "SELECT count(*) FROM delivery_keys"), 0);
	k = load(f);
	assert_int_equal(count(f, "SELECT count(*) FROM delivery_keys"), 1);
	/* a second load does not make another */
	k2 = load(f);
	assert_int_equal(count(f, "SELECT count(*) FROM delivery_keys"), 1);

	sign_path(k, PATH, strlen(PATH), sig);
	assert_int_equal(strlen(sig), SIGN_LEN);
	for (int i = 0; i < SIGN_LEN; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", sig[i]));
	sign_path(k2, PATH, strlen(PATH), again);
	assert_string_equal(sig, again); /* deterministic, same key */

	/* the stored key really is HMAC-SHA256 over the path, cut to 16 bytes */
	assert_int_equal(db_query(f->dam->db, &st, NULL, "SELECT secret, created_at FROM delivery_keys", ""), 0);
	assert_int_equal(db_step(st, NULL), DB_ROW);
	const unsigned char *secret = db_col_blob(st, 0, &len);
	assert_int_equal(len, 32);
	expected_sig(secret, PATH, want);
	assert_string_equal(sig, want);
	int64_t created = db_col_int(st, 1);
	assert_true(created > 1700000000 && created < 4000000000); /* unix seconds, not ms */
	db_finalize(st);

	assert_true(verify(k, PATH, sig));
	assert_true(verify(k2, PATH, sig));
	sign_keys_free(k);
	sign_keys_free(k2);
	sign_keys_free(NULL);
}

static void test_tamper(void **state)
{
	struct fx *f = *state;
	struct sign_keys *k = load(f);
	char sig[SIGN_LEN + 1], bad[SIGN_LEN + 2], path[200];
	const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	sign_path(k, PATH, strlen(PATH), sig);
	/* every one-character change of the signature fails */
	for (int i = 0; i < SIGN_LEN; i++) {
		for (const char *c = alphabet; *c; c++) {
			if (*c == sig[i])
				continue;
			memcpy(bad, sig, sizeof sig);
			bad[i] = *c;
			if (verify(k, PATH, bad))
				fail_msg("tampered signature %s (position %d) verified", bad, i);
		}
	}
	/* every one-character change of the path fails */
	for (size_t i = 0; i < strlen(PATH); i++) {
		snprintf(path, sizeof path, "%s", PATH);
		path[i] = path[i] == 'x' ? 'y' : 'x';
		assert_false(verify(k, path, sig));
	}
	/* other paths, lengths and shapes */
	assert_false(verify(k, PATH "/", sig));
	assert_false(verify(k, "w_800,h_800,fit_cover/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", sig));
	assert_false(sign_verify(k, PATH, strlen(PATH) - 1, sig));
	assert_false(verify(k, "", sig));
	memcpy(bad, sig, sizeof sig);
	bad[SIGN_LEN - 1] = '\0';
	assert_false(verify(k, PATH, bad)); /* 21 characters */
	snprintf(bad, sizeof bad, "%sA", sig);
	assert_false(verify(k, PATH, bad)); /* 23 characters */
	memcpy(bad, sig, sizeof sig);
	bad[3] = '+'; /* standard base64, not base64url */
	assert_false(verify(k, PATH, bad));
	bad[3] = '=';
	assert_false(verify(k, PATH, bad));
	assert_false(verify(k, PATH, ""));
	assert_false(sign_verify(k, PATH, strlen(PATH), NULL));
	assert_false(sign_verify(NULL, PATH, strlen(PATH), sig));
	/* binary paths are signed by length, not up to a NUL */
	char bin[3] = { 'a', '\0', 'b' };
	sign_path(k, bin, 3, sig);
	assert_true(sign_verify(k, bin, 3, sig));
	assert_false(sign_verify(k, bin, 1, sig));
	sign_keys_free(k);
}

static void test_rotate_and_retire(void **state)
{
	struct fx *f = *state;
	struct sign_keys *k1 = load(f), *k2, *k3;
	char old_sig[SIGN_LEN + 1], new_sig[SIGN_LEN + 1], id2[DAM_ID_LEN + 1], id1[DAM_ID_LEN + 1];
	char small[8];
	struct dam_err err;
	json_t *list = NULL;

	sign_path(k1, PATH, strlen(PATH), old_sig);
	assert_int_equal(sign_keys_list(f->dam->db, &list, NULL), 0);
	snprintf(id1, sizeof id1, "%s", json_string_value(json_object_get(json_array_get(list, 0), "id")));
	json_decref(list);

	assert_int_equal(sign_key_rotate(f->dam, small, sizeof small, &err), DAM_EINVAL);
	assert_int_equal(sign_key_rotate(f->dam, id2, sizeof id2, &err), 0);
	assert_true(id_valid(id2));
	assert_string_not_equal(id1, id2);
	assert_int_equal(count(f, "SELECT count(*) FROM delivery_keys"), 2);

	/* the old snapshot does not know the new key; a reload signs with it */
	k2 = load(f);
	sign_path(k2, PATH, strlen(PATH), new_sig);
	assert_string_not_equal(old_sig, new_sig);
	assert_true(verify(k2, PATH, old_sig)); /* old links keep working */
	assert_true(verify(k2, PATH, new_sig));
	assert_false(verify(k1, PATH, new_sig));

	/* rotate without asking for the id */
	assert_int_equal(sign_key_rotate(f->dam, NULL, 0, NULL), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM delivery_keys WHERE retired_at IS NULL"), 3);

	/* retire the first key: its signatures stop verifying after a reload */
	assert_int_equal(sign_key_retire(f->dam, id1, &err), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM delivery_keys WHERE retired_at IS NOT NULL"), 1);
	k3 = load(f);
	assert_false(verify(k3, PATH, old_sig));
	assert_true(verify(k3, PATH, new_sig));
	assert_true(verify(k1, PATH, old_sig)); /* a snapshot is immutable */
	/* retiring twice changes nothing */
	assert_int_equal(sign_key_retire(f->dam, id1, &err), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM delivery_keys WHERE retired_at IS NOT NULL"), 1);

	/* unknown ids */
	assert_int_equal(sign_key_retire(f->dam, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", &err), DAM_ENOTFOUND);
	assert_int_equal(sign_key_retire(f->dam, "nope", &err), DAM_ENOTFOUND);
	assert_int_equal(sign_key_retire(f->dam, NULL, &err), DAM_ENOTFOUND);

	/* retire down to one; the last active key cannot go */
	assert_int_equal(sign_key_retire(f->dam, id2, &err), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM delivery_keys WHERE retired_at IS NULL"), 1);
	assert_int_equal(sign_keys_list(f->dam->db, &list, NULL), 0);
	const char *last = json_string_value(json_object_get(json_array_get(list, 2), "id"));
	assert_int_equal(sign_key_retire(f->dam, last, &err), DAM_EINVAL);
	assert_int_equal(err.code, DAM_EINVAL);
	assert_non_null(strstr(err.msg, "last active delivery key"));
	assert_int_equal(count(f, "SELECT count(*) FROM delivery_keys WHERE retired_at IS NULL"), 1);
	json_decref(list);

	sign_keys_free(k1);
	sign_keys_free(k2);
	sign_keys_free(k3);
}

static void test_list(void **state)
{
	struct fx *f = *state;
	struct sign_keys *k = load(f);
	char id2[DAM_ID_LEN + 1];
	json_t *list = NULL, *row;
	char *dump;
	size_t i;

	assert_int_equal(sign_key_rotate(f->dam, id2, sizeof id2, NULL), 0);
	assert_int_equal(sign_keys_list(f->dam->db, &list, NULL), 0);
	assert_int_equal(json_array_size(list), 2);
	/* oldest first; only the newest active key signs */
	row = json_array_get(list, 0);
	assert_false(json_is_true(json_object_get(row, "signing")));
	assert_true(json_is_null(json_object_get(row, "retired_at")));
	assert_true(json_is_string(json_object_get(row, "created_at")));
	row = json_array_get(list, 1);
	assert_string_equal(json_string_value(json_object_get(row, "id")), id2);
	assert_true(json_is_true(json_object_get(row, "signing")));
	json_array_foreach(list, i, row) {
		assert_int_equal(json_object_size(row), 4);
		assert_null(json_object_get(row, "secret"));
	}
	/* no secret bytes in any encoding */
	dump = json_dumps(list, JSON_COMPACT);
	assert_null(strstr(dump, "secret"));
	free(dump);
	json_decref(list);

	/* retire the newer key: the older one signs again, and shows retired_at */
	assert_int_equal(sign_key_retire(f->dam, id2, NULL), 0);
	assert_int_equal(sign_keys_list(f->dam->db, &list, NULL), 0);
	assert_true(json_is_true(json_object_get(json_array_get(list, 0), "signing")));
	row = json_array_get(list, 1);
	assert_false(json_is_true(json_object_get(row, "signing")));
	assert_true(json_is_string(json_object_get(row, "retired_at")));
	json_decref(list);
	sign_keys_free(k);
}

static void test_survives_reload(void **state)
{
	struct fx *f = *state;
	struct sign_keys *k = load(f);
	char sig[SIGN_LEN + 1], sig2[SIGN_LEN + 1], id2[DAM_ID_LEN + 1];

	sign_path(k, PATH, strlen(PATH), sig);
	sign_keys_free(k);
	assert_int_equal(sign_key_rotate(f->dam, id2, sizeof id2, NULL), 0);
	library_close(f->dam);
	assert_int_equal(library_open(f->lib, &f->dam, NULL), 0);

	k = load(f);
	assert_true(verify(k, PATH, sig));
	sign_path(k, PATH, strlen(PATH), sig2);
	assert_string_not_equal(sig, sig2);
	sign_keys_free(k);
	assert_int_equal(count(f, "SELECT count(*) FROM delivery_keys"), 2);
}

static void test_damaged_key(void **state)
{
	struct fx *f = *state;
	struct sign_keys *k = NULL;
	struct dam_err err;

	assert_int_equal(db_run(f->dam->db, NULL, "INSERT INTO delivery_keys(id, secret, created_at) VALUES (?,?,?)",
				"sbi", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "short", (size_t)5, (int64_t)1), 1);
	assert_int_equal(sign_keys_load(f->dam->db, &k, &err), DAM_EDAMAGED);
	assert_null(k);
	assert_non_null(strstr(err.msg, "5-byte secret"));
}

/* sign_verify_key names the key that made the signature (old or new), and
 * nothing for a bad one: delivery answers carry it as key-<id> so that
 * retiring the key purges them from CDN edges (issue 11, point 3). */
static void test_verify_names_the_key(void **state)
{
	struct fx *f = *state;
	struct sign_keys *k = load(f);
	char old_sig[SIGN_LEN + 1], new_sig[SIGN_LEN + 1], id[DAM_ID_LEN + 1], first[DAM_ID_LEN + 1],
		second[DAM_ID_LEN + 1];
	struct db_stmt *st = NULL;

	sign_path(k, PATH, strlen(PATH), old_sig);
	sign_keys_free(k);
	assert_int_equal(sign_key_rotate(f->dam, second, sizeof second, NULL), 0);
	assert_int_equal(db_query(f->dam->db, &st, NULL, "SELECT id FROM delivery_keys WHERE id <> ?", "s", second), 0);
	assert_int_equal(db_step(st, NULL), DB_ROW);
	snprintf(first, sizeof first, "%s", db_col_text(st, 0));
	db_finalize(st);
	k = load(f);
	sign_path(k, PATH, strlen(PATH), new_sig);
	assert_true(sign_verify_key(k, PATH, strlen(PATH), old_sig, id));
	assert_string_equal(id, first);
	assert_true(sign_verify_key(k, PATH, strlen(PATH), new_sig, id));
	assert_string_equal(id, second);
	new_sig[3] = new_sig[3] == 'A' ? 'B' : 'A';
	assert_false(sign_verify_key(k, PATH, strlen(PATH), new_sig, id));
	assert_string_equal(id, "");
	sign_keys_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_key_and_sign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_names_the_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_and_retire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_survives_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_key, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_upload.c - resumable uploads (core/upload.c): hash state kept across
 * requests, in-flight uploads saved by an older dam, crash leftovers. */
#include "testutil.h"

#include <sodium.h>

#include "core/asset.h"
#include "core/library.h"
#include "core/upload.h"

struct fx {
	char *dir, lib[4200];
	struct dam *dam;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	f->dir = tu_tempdir();
	snprintf(f->lib, sizeof f->lib, "%s/lib", f->dir);
	assert_int_equal(library_init(f->lib, NULL), 0);
	assert_int_equal(library_open(f->lib, &f->dam, NULL), 0);
	library_set_actor(f->dam, "test:upload");
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

#define N 300007

static unsigned char *bytes(void)
{
	unsigned char *b = malloc(N);

	for (size_t i = 0; i < N; i++)
		b[i] = (unsigned char)(i * 7 + (i >> 8));
	return b;
}

static void want_hash(const unsigned char *b, char out[65])
{
	unsigned char d[32];

	crypto_hash_sha256(d, b, N);
	sodium_bin2hex(out, 65, d, 32);
}

static void finish(struct fx *f, const char *id, uint64_t at, const unsigned char *b, const char *want)
{
	struct upload_info u;
	struct dam_err err;

	assert_int_equal(upload_append(f->dam, id, NULL, at, b + at, N - at, &u, &err), 0);
	assert_non_null(u.result);
	assert_string_equal(json_string_value(json_object_get(u.result, "status")), "added");
	assert_string_equal(json_string_value(json_object_get(u.result, "hash")), want);
	upload_info_release(&u);
}

static void test_chunks_give_the_hash(void **state)
{
	struct fx *f = *state;
	unsigned char *b = bytes();
	struct upload_info u;
	struct dam_err err;
	char want[65], id[DAM_ID_LEN + 1];

	want_hash(b, want);
	assert_int_equal(upload_create(f->dam, NULL, "a.bin", N, NULL, &u, &err), 0);
	snprintf(id, sizeof id, "%s", u.id);
	assert_int_equal(upload_append(f->dam, id, NULL, 0, b, 65, &u, &err), 0);
	assert_int_equal(u.offset, 65);
	/* A stale offset is a conflict and changes nothing. */
	assert_int_equal(upload_append(f->dam, id, NULL, 0, b, 65, &u, &err), DAM_ECONFLICT);
	finish(f, id, 65, b, want);
	free(b);
}

/* An upload begun by a dam that saved libsodium's state (version 1)
 * completes with the right hash. */
static void test_v1_state_in_flight(void **state)
{
	struct fx *f = *state;
	unsigned char *b = bytes();
	crypto_hash_sha256_state v1;
	struct upload_info u;
	struct dam_err err;
	char want[65], id[DAM_ID_LEN + 1];

	want_hash(b, want);
	assert_int_equal(upload_create(f->dam, NULL, "old.bin", N, NULL, &u, &err), 0);
	snprintf(id, sizeof id, "%s", u.id);
	assert_int_equal(upload_append(f->dam, id, NULL, 0, b, 100001, &u, &err), 0);
	/* What the older dam would have saved for these bytes. */
	crypto_hash_sha256_init(&v1);
	crypto_hash_sha256_update(&v1, b, 100001);
	assert_int_equal(db_run(f->dam->db, &err, "UPDATE uploads SET hash_state=? WHERE id=?", "bs", &v1,
				(size_t)sizeof v1, id), 1);
	finish(f, id, 100001, b, want);
	free(b);
}

/* A crash after the bytes were synced but before the row recorded them
 * leaves bytes past the offset; the client resends from the recorded
 * offset and the upload completes with the right hash. */
static void test_crash_leftover_cut(void **state)
{
	struct fx *f = *state;
	unsigned char *b = bytes();
	struct upload_info u;
	struct dam_err err;
	char want[65], id[DAM_ID_LEN + 1], path[4400];
	FILE *fp;

	want_hash(b, want);
	assert_int_equal(upload_create(f->dam, NULL, "c.bin", N, NULL, &u, &err), 0);
	snprintf(id, sizeof id, "%s", u.id);
	assert_int_equal(upload_append(f->dam, id, NULL, 0, b, 5000, &u, &err), 0);
	snprintf(path, sizeof path, "%s/objects/tmp/part-%s", f->lib, id);
	assert_non_null(fp = fopen(path, "ab"));
	assert_int_equal(fwrite("not acknowledged", 1, 16, fp), 16);
	fclose(fp);
	assert_int_equal(upload_get(f->dam, id, NULL, &u, &err), 0);
	assert_int_equal(u.offset, 5000);
	upload_info_release(&u);
	finish(f, id, 5000, b, want);
	free(b);
}

/* asset_doc_get (the cached GET document) is never stale: a change through
 * this handle or another connection shows at the next call, inside a
 * request or not, and its ETag is asset_etag's. */
static void test_asset_doc_never_stale(void **state)
{
	struct fx *f = *state;
	unsigned char *b = bytes();
	const char *k[] = { "title" }, *v1[] = { "first" }, *v2[] = { "second" }, *v3[] = { "third" };
	struct upload_info u;
	struct asset_doc d;
	struct dam *other;
	struct dam_err err;
	char id[DAM_ID_LEN + 1], asset[DAM_ID_LEN + 1], etag[ASSET_ETAG_LEN + 1];

	assert_int_equal(upload_create(f->dam, NULL, "d.bin", N, NULL, &u, &err), 0);
	snprintf(id, sizeof id, "%s", u.id);
	assert_int_equal(upload_append(f->dam, id, NULL, 0, b, N, &u, &err), 0);
	snprintf(asset, sizeof asset, "%s", json_string_value(json_object_get(u.result, "asset_id")));
	upload_info_release(&u);
	assert_int_equal(library_open(f->lib, &other, NULL), 0);
	library_set_actor(other, "test:other");

	assert_int_equal(asset_set_fields(f->dam, asset, k, v1, 1, &err), 0);
	assert_int_equal(asset_doc_get(f->dam, asset, &d, &err), 0);
	assert_non_null(strstr(d.json, "\"first\""));
	assert_string_equal(d.id, asset);
	assert_int_equal(asset_etag(f->dam, asset, etag, &err), 0);
	assert_string_equal(d.etag, etag);
	assert_int_equal(asset_doc_get(f->dam, asset, &d, &err), 0); /* from the cache */
	assert_string_equal(d.etag, etag);
	/* Changed by another connection. */
	assert_int_equal(asset_set_fields(other, asset, k, v2, 1, &err), 0);
	assert_int_equal(asset_doc_get(f->dam, asset, &d, &err), 0);
	assert_non_null(strstr(d.json, "\"second\""));
	assert_string_not_equal(d.etag, etag);
	/* Inside a request, by this handle: seen at once. */
	library_request_begin(f->dam);
	assert_int_equal(asset_doc_get(f->dam, asset, &d, &err), 0);
	assert_int_equal(asset_set_fields(f->dam, asset, k, v3, 1, &err), 0);
	assert_int_equal(asset_doc_get(f->dam, asset, &d, &err), 0);
	assert_non_null(strstr(d.json, "\"third\""));
	library_request_end(f->dam);
	/* A prefix resolves to the same document; an unknown id is 404. */
	asset[8] = '\0';
	assert_int_equal(asset_doc_get(f->dam, asset, &d, &err), 0);
	assert_non_null(strstr(d.json, "\"third\""));
	assert_int_equal(asset_doc_get(f->dam, "0123456789ab", &d, &err), DAM_ENOTFOUND);
	library_close(other);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chunks_give_the_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_state_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_leftover_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_asset_doc_never_stale, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: restoring a version (core/version.h) and zip downloads
 * (core/zip.h). */
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <jansson.h>

#include "core/asset.h"
#include "core/audit.h"
#include "core/ingest.h"
#include "core/library.h"
#include "core/version.h"
#include "core/zip.h"

struct fx {
	char *dir;
	struct dam *dam;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char lib[4200];

	f->dir = tu_tempdir();
	snprintf(lib, sizeof lib, "%s/lib", f->dir);
	assert_int_equal(library_init(lib, NULL), 0);
	assert_int_equal(library_open(lib, &f->dam, NULL), 0);
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

/* Ingests text as file `name`; as a new version of `of` when not NULL. */
static void put(struct fx *f, const char *name, const char *text, const char *of, char id[DAM_ID_LEN + 1])
{
	struct ingest_opts o = { .new_version_of = of };
	struct ingest_result r;
	char path[4200];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(ingest_file(f->dam, path, &o, &r), 0);
	assert_int_equal(r.status, of ? INGEST_VERSION : INGEST_ADDED);
	if (id)
		memcpy(id, r.asset_id, sizeof r.asset_id);
}

static json_t *version_n(json_t *asset, int n)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(asset, "versions"), i, v)
		if (json_integer_value(json_object_get(v, "number")) == n)
			return v;
	return NULL;
}

static void test_restore(void **state)
{
	struct fx *f = *state;
	struct version_restored out;
	struct dam_err err;
	char id[DAM_ID_LEN + 1];
	json_t *a;

	put(f, "one.txt", "the first words\n", NULL, id);
	put(f, "two.txt", "the second words\n", id, NULL);
	assert_int_equal(version_restore(f->dam, id, 1, &out, &err), 0);
	assert_int_equal(out.number, 3);
	assert_int_equal(out.from, 1);
	assert_int_equal(asset_get(f->dam, id, &a, &err), 0);
	assert_string_equal(json_string_value(json_object_get(a, "current_version_id")), out.version_id);
	assert_string_equal(json_string_value(json_object_get(version_n(a, 3), "hash")),
			    json_string_value(json_object_get(version_n(a, 1), "hash")));
	assert_string_equal(json_string_value(json_object_get(version_n(a, 3), "filename")), "one.txt");
	json_decref(a);

	/* refusals: the current version, an unknown one, a deleted asset */
	assert_int_equal(version_restore(f->dam, id, 3, &out, &err), DAM_ECONFLICT);
	assert_string_equal(err.field, "number");
	assert_int_equal(version_restore(f->dam, id, 9, &out, &err), DAM_ENOTFOUND);
	assert_int_equal(version_restore(f->dam, "0123456789", 1, &out, &err), DAM_ENOTFOUND);
	assert_int_equal(asset_delete(f->dam, id, &err), 0);
	assert_int_equal(version_restore(f->dam, id, 2, &out, &err), DAM_ECONFLICT);

	/* reference counts and the audit chain stay right */
	{
		struct audit_problem p;
		assert_true(audit_verify(f->dam, &p, &err) >= 0);
	}
}

/* Entry names and bytes of a zip read back with libarchive. */
static int read_zip(int fd, char names[][256], char data[][64], int max)
{
	struct archive *ar = archive_read_new();
	struct archive_entry *e;
	int n = 0;

	archive_read_support_format_zip(ar);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(archive_read_open_fd(ar, fd, 65536), ARCHIVE_OK);
	while (n < max && archive_read_next_header(ar, &e) == ARCHIVE_OK) {
		la_ssize_t got;
		snprintf(names[n], 256, "%s", archive_entry_pathname(e));
		got = archive_read_data(ar, data[n], 63);
		assert_true(got >= 0);
		data[n][got] = '\0';
		n++;
	}
	archive_read_free(ar);
	return n;
}

static void test_zip(void **state)
{
	struct fx *f = *state;
	char a[DAM_ID_LEN + 1], b[DAM_ID_LEN + 1], c[DAM_ID_LEN + 1], names[4][256], data[4][64];
	struct zip_item *items;
	struct dam_err err;
	uint64_t size;
	int n, fd;

	put(f, "shoe.jpg", "alpha\n", NULL, a);
	{
		/* same name, other bytes (another folder) */
		char sub[4200];
		snprintf(sub, sizeof sub, "%s/x", f->dir);
		mkdir(sub, 0755);
	}
	put(f, "x/shoe.jpg", "beta\n", NULL, b);
	put(f, "notes.txt", "gamma\n", NULL, c);
	{
		const char *ids[] = { a, b, c, a };
		assert_int_equal(zip_plan(f->dam, ids, 4, true, &items, &n, &err), 0);
	}
	assert_int_equal(n, 3); /* the repeat is dropped */
	assert_string_equal(items[0].name, "shoe.jpg");
	assert_string_equal(items[1].name, "shoe.jpg"); /* made unique while writing */
	assert_string_equal(items[2].name, "notes.txt");
	assert_int_equal(zip_write(f->dam, items, n, NULL, NULL, &fd, &size, NULL, &err), 0);
	assert_true(size > 0);
	assert_int_equal(read_zip(fd, names, data, 4), 3);
	assert_string_equal(names[1], "shoe (2).jpg");
	assert_string_equal(data[0], "alpha\n");
	assert_string_equal(data[1], "beta\n");
	assert_string_equal(data[2], "gamma\n");
	close(fd);
	free(items);

	/* refusals */
	{
		const char *none[] = { "01a20000-0000-7000-8000-000000000000" };
		assert_int_equal(zip_plan(f->dam, none, 1, true, &items, &n, &err), DAM_ENOTFOUND);
		assert_string_equal(err.field, "ids");
		assert_int_equal(zip_plan(f->dam, none, 0, true, &items, &n, &err), DAM_EINVAL);
		assert_int_equal(asset_delete(f->dam, c, &err), 0);
		none[0] = c;
		assert_int_equal(zip_plan(f->dam, none, 1, true, &items, &n, &err), DAM_ENOTFOUND);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * sign.c - signed delivery URLs (see sign.h, docs/delivery.md "Signing").
 *
 * A signature is HMAC-SHA256(secret, path) cut to its first 16 bytes and
 * written as 22 characters of unpadded base64url. Verification decodes the
 * signature (a non-canonical encoding does not decode) and compares it with
 * every active key's MAC in constant time, without stopping at the first
 * match, so timing tells nothing about which key or which bytes matched.
 *
 * Keys are ordered newest first by (created_at, id): ids are UUIDv7, so
 * two keys made in the same second still order by creation.
 */
#include "deliver/sign.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"

#include "util/id.h"
#include "util/timeutil.h"

#define SECRET_LEN crypto_auth_hmacsha256_KEYBYTES /* 32 */
#define MAC_LEN 16

struct sign_key {
	char id[DAM_ID_LEN + 1];
	unsigned char secret[SECRET_LEN];
};

struct sign_keys {
	int n;
	struct sign_key *keys; /* keys[0] signs */
};

static const char active_sql[] =
	"SELECT id, secret FROM delivery_keys WHERE retired_at IS NULL"
	" ORDER BY created_at DESC, id DESC";

static int64_t now_s(void)
{
	return (int64_t)(time_now_ms() / 1000);
}

static int sodium_ready(struct dam_err *err)
{
	if (sodium_init() < 0)
		return dam_err_set(err, DAM_EIO, NULL, "libsodium failed to start");
	return 0;
}

/* Inserts a new random key. Writes its id to id (DAM_ID_LEN + 1 bytes). */
static int key_insert(struct db *db, char id[DAM_ID_LEN + 1], struct dam_err *err)
{
	unsigned char secret[SECRET_LEN];
	int rc;

	crypto_auth_hmacsha256_keygen(secret);
	id_new(id);
	rc = db_run(db, err, "INSERT INTO delivery_keys(id, secret, created_at) VALUES (?,?,?)", "sbi",
		    id, (const void *)secret, (size_t)sizeof secret, now_s());
	sodium_memzero(secret, sizeof secret);
	return rc < 0 ? rc : 0;
}

/* Makes the first key unless another connection made one meanwhile: the
 * write transaction serialises processes starting at the same moment. */
static int ensure_key(struct db *db, struct dam_err *err)
{
	char id[DAM_ID_LEN + 1];
	int64_t n = 0;
	int rc;

	if ((rc = db_begin(db, err)) < 0)
		return rc;
	rc = db_query_int(db, &n, err, "SELECT count(*) FROM delivery_keys WHERE retired_at IS NULL", "");
	if (rc == 0 && n == 0)
		rc = key_insert(db, id, err);
	if (rc < 0) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

/* Reads the active keys into a new snapshot; *out->n may be 0. */
static int read_keys(struct db *db, struct sign_keys **out, struct dam_err *err)
{
	struct sign_keys *k = calloc(1, sizeof *k);
	struct db_stmt *st = NULL;
	int rc;

	*out = NULL;
	if (!k)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory loading delivery keys");
	if ((rc = db_query(db, &st, err, active_sql, "")) < 0)
		goto out;
	while ((rc = db_step(st, err)) == DB_ROW) {
		const char *id = db_col_text(st, 0);
		size_t len = 0;
		const void *secret = db_col_blob(st, 1, &len);
		struct sign_key *grown;
		if (len != SECRET_LEN || !id_valid(id)) {
			rc = dam_err_set(err, DAM_EDAMAGED, NULL,
					 "delivery key %.40s is damaged (%zu-byte secret, expected %d)", id,
					 len, SECRET_LEN);
			goto out;
		}
		/* realloc would leave copies of secrets in freed memory */
		if (!(grown = calloc((size_t)k->n + 1, sizeof *grown))) {
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory loading delivery keys");
			goto out;
		}
		if (k->n) {
			memcpy(grown, k->keys, (size_t)k->n * sizeof *grown);
			sodium_memzero(k->keys, (size_t)k->n * sizeof *grown);
		}
		free(k->keys);
		k->keys = grown;
		memcpy(k->keys[k->n].id, id, DAM_ID_LEN + 1);
		memcpy(k->keys[k->n].secret, secret, SECRET_LEN);
		k->n++;
	}
out:
	db_finalize(st);
	if (rc < 0) {
		sign_keys_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int sign_keys_load(struct db *db, struct sign_keys **out, struct dam_err *err)
{
	int rc;

	*out = NULL;
	if ((rc = sodium_ready(err)) < 0 || (rc = read_keys(db, out, err)) < 0)
		return rc;
	if ((*out)->n > 0)
		return 0;
	sign_keys_free(*out);
	*out = NULL;
	if ((rc = ensure_key(db, err)) < 0 || (rc = read_keys(db, out, err)) < 0)
		return rc;
	if ((*out)->n == 0) { /* retired between the two statements */
		sign_keys_free(*out);
		*out = NULL;
		return dam_err_set(err, DAM_ECONFLICT, NULL, "the delivery keys changed while loading");
	}
	return 0;
}

void sign_keys_free(struct sign_keys *k)
{
	if (!k)
		return;
	if (k->keys) {
		sodium_memzero(k->keys, (size_t)k->n * sizeof *k->keys);
		free(k->keys);
	}
	free(k);
}

/* Key changes are audited in the same transaction: who could sign links,
 * and when links stopped working, must be provable later. */
static int rotate_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	return key_insert(dam->db, ctx, err);
}

int sign_key_rotate(struct dam *dam, char *id_out, size_t id_len, struct dam_err *err)
{
	char id[DAM_ID_LEN + 1] = "";
	int rc;

	if (id_out && id_len < sizeof id)
		return dam_err_set(err, DAM_EINVAL, NULL, "the key id needs %zu bytes", sizeof id);
	/* the row names the key that key_insert makes into id */
	if ((rc = sodium_ready(err)) < 0 ||
	    (rc = audit_tx(dam, "delivery_key.created", "delivery_key", id, rotate_rows, id, err)) < 0)
		return rc;
	if (id_out)
		memcpy(id_out, id, sizeof id);
	return 0;
}

static int retire_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	struct db *db = dam->db;
	const char *id = rec->object_id;
	struct db_stmt *st = NULL;
	bool retired = false;
	int64_t active = 0;
	int rc;

	if ((rc = db_query(db, &st, err, "SELECT retired_at IS NOT NULL FROM delivery_keys WHERE id = ?",
			   "s", id)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_DONE)
		rc = dam_err_set(err, DAM_ENOTFOUND, "id", "no delivery key %s", id);
	else if (rc == DB_ROW)
		retired = db_col_int(st, 0) != 0;
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (retired) { /* retiring twice changes nothing */
		rec->action = NULL;
		return 0;
	}
	rc = db_query_int(db, &active, err, "SELECT count(*) FROM delivery_keys WHERE retired_at IS NULL", "");
	if (rc == 0 && active <= 1)
		rc = dam_err_set(err, DAM_EINVAL, "id",
				 "key %s is the last active delivery key; rotate first, then retire it", id);
	if (rc == 0)
		rc = db_run(db, err, "UPDATE delivery_keys SET retired_at = ? WHERE id = ?", "is", now_s(), id);
	return rc < 0 ? rc : 0;
}

int sign_key_retire(struct dam *dam, const char *id, struct dam_err *err)
{
	if (!id || !id_valid(id))
		return dam_err_set(err, DAM_ENOTFOUND, "id", "no delivery key %.40s", id ? id : "");
	return audit_tx(dam, "delivery_key.retired", "delivery_key", id, retire_rows, NULL, err);
}

static json_t *time_s_json(struct db_stmt *st, int col)
{
	return db_col_is_null(st, col) ? json_null() : time_json(db_col_int(st, col) * 1000);
}

int sign_keys_list(struct db *db, json_t **out, struct dam_err *err)
{
	struct db_stmt *st = NULL;
	json_t *arr = json_array();
	int rc;

	*out = NULL;
	if (!arr)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory listing delivery keys");
	/* Oldest first; the signing key is the newest active one. */
	if ((rc = db_query(db, &st, err,
			   "SELECT id, created_at, retired_at, id = (SELECT id FROM delivery_keys"
			   "   WHERE retired_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1)"
			   " FROM delivery_keys ORDER BY created_at, id", "")) < 0)
		goto out;
	while ((rc = db_step(st, err)) == DB_ROW) {
		json_t *row = json_pack("{s:s,s:o,s:o,s:b}", "id", db_col_text(st, 0), "created_at",
					time_s_json(st, 1), "retired_at", time_s_json(st, 2), "signing",
					(int)db_col_int(st, 3));
		if (!row || json_array_append_new(arr, row) < 0) {
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory listing delivery keys");
			goto out;
		}
	}
out:
	db_finalize(st);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

static void mac16(const struct sign_key *key, const char *path, size_t len, unsigned char out[MAC_LEN])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256(mac, (const unsigned char *)path, len, key->secret);
	memcpy(out, mac, MAC_LEN);
	sodium_memzero(mac, sizeof mac);
}

void sign_path(const struct sign_keys *k, const char *path, size_t len, char out[SIGN_LEN + 1])
{
	unsigned char mac[MAC_LEN];

	mac16(&k->keys[0], path, len, mac);
	sodium_bin2base64(out, SIGN_LEN + 1, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool sign_verify_key(const struct sign_keys *k, const char *path, size_t len, const char *sig,
		     char key_id[DAM_ID_LEN + 1])
{
	unsigned char want[MAC_LEN], got[MAC_LEN];
	size_t n = 0;
	const char *end = NULL;
	int ok = 0, which = 0;

	if (key_id)
		key_id[0] = '\0';
	if (!k || !sig || strnlen(sig, SIGN_LEN + 1) != SIGN_LEN)
		return false;
	if (sodium_base642bin(got, sizeof got, sig, SIGN_LEN, NULL, &n, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != MAC_LEN || end != sig + SIGN_LEN)
		return false;
	for (int i = 0; i < k->n; i++) {
		int eq, mask;
		mac16(&k->keys[i], path, len, want);
		eq = sodium_memcmp(want, got, MAC_LEN) == 0;
		mask = -eq; /* all ones on a match: no branch on which key */
		which = (which & ~mask) | (i & mask);
		ok |= eq;
	}
	sodium_memzero(want, sizeof want);
	if (ok && key_id)
		memcpy(key_id, k->keys[which].id, sizeof k->keys[which].id);
	return ok;
}

bool sign_verify(const struct sign_keys *k, const char *path, size_t len, const char *sig)
{
	return sign_verify_key(k, path, len, sig, NULL);
}

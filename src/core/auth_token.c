/*
 * auth_token.c - API tokens: "dam_" + 43 base64url characters (32 random
 * bytes). Only the SHA-256 of the whole secret string is stored, so a
 * database dump gives nobody a usable token. The effective role is
 * recomputed at every check as min(token role, user's current role).
 */
#include "core/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define TOKEN_PREFIX "dam_"
#define TOKEN_LEN 47 /* "dam_" + 43 */
#define LABEL_MAX 200
/* last_used_at is written at most this often, so a busy token does not
 * turn every API request into a write. */
#define LAST_USED_EVERY_MS 60000

static const char bad_token[] = "invalid or expired token";

struct token_insert {
	const char *id;
	const struct auth__user *u;
	const char *label, *hash;
	enum role role;
	int64_t now;
	uint64_t expires_at_ms;
};

static int token_insert_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct token_insert *c = ctx;
	int rc = db_run(dam->db, err,
			"INSERT INTO tokens(id, user_id, label, hash, role, created_at, expires_at) VALUES (?,?,?,?,?,?,?)",
			c->expires_at_ms ? "sssssii" : "sssssin", /* 'n': NULL, never expires */
			c->id, c->u->id, c->label, c->hash, role_name(c->role), c->now, (int64_t)c->expires_at_ms);

	if (rc < 0)
		return rc;
	rec->after = json_pack("{s:s,s:s,s:s,s:I}", "user", c->u->username, "label", c->label, "role",
			       role_name(c->role), "expires_at", (json_int_t)c->expires_at_ms);
	return 0;
}

int token_create(struct dam *dam, const char *username, const char *label, enum role role,
		 uint64_t expires_at_ms, char id_out[DAM_ID_LEN + 1], char secret_out[64],
		 struct dam_err *err)
{
	struct auth__user u;
	unsigned char raw[32];
	char secret[64] = "", hash[65], id[DAM_ID_LEN + 1];
	uint64_t now = time_now_ms();
	struct token_insert ins;
	int rc;

	if (!label)
		label = "";
	if (strlen(label) > LABEL_MAX || !utf8_valid(label, strlen(label)) || utf8_has_control(label, strlen(label))) {
		rc = dam_err_set(err, DAM_EINVAL, "label", "a label is at most %d bytes of UTF-8 without control characters",
				 LABEL_MAX);
		goto out;
	}
	if (expires_at_ms && expires_at_ms <= now) {
		rc = dam_err_set(err, DAM_EINVAL, "expires", "the expiry is in the past");
		goto out;
	}
	if ((rc = auth__user_get(dam, username, &u, err)) < 0)
		goto out;
	if (u.disabled) {
		rc = dam_err_set(err, DAM_ECONFLICT, "username", "user %s is disabled", u.username);
		goto out;
	}
	if (role == ROLE_NONE)
		role = u.role;
	if (role < ROLE_VIEWER || role > u.role) {
		rc = dam_err_set(err, DAM_EINVAL, "role", "a token's role cannot exceed its user's role (%s)",
				 role_name(u.role));
		goto out;
	}
	if ((rc = sodium_init()) < 0) {
		rc = dam_err_set(err, DAM_EIO, NULL, "libsodium failed to start");
		goto out;
	}
	randombytes_buf(raw, sizeof raw);
	memcpy(secret, TOKEN_PREFIX, 4);
	sodium_bin2base64(secret + 4, sizeof secret - 4, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	auth__sha256_hex(secret, strlen(secret), hash);
	id_new(id);
	ins = (struct token_insert){ id, &u, label, hash, role, (int64_t)now, expires_at_ms };
	if ((rc = audit_tx(dam, "token.create", "token", id, token_insert_rows, &ins, err)) < 0)
		goto out;
	if (id_out)
		memcpy(id_out, id, sizeof id);
	memcpy(secret_out, secret, sizeof secret);
out:
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(secret, sizeof secret);
	return rc < 0 ? rc : 0;
}

int token_list(struct dam *dam, const char *username, json_t **out, struct dam_err *err)
{
	struct auth__user u;
	struct db_stmt *st;
	json_t *arr = NULL;
	int64_t now = (int64_t)time_now_ms();
	int rc;

	*out = NULL;
	if (username && (rc = auth__user_get(dam, username, &u, err)) < 0)
		return rc;
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT t.id, u.username, t.label, t.role, t.created_at, t.expires_at, t.last_used_at,"
			   " t.revoked_at IS NOT NULL, t.expires_at IS NOT NULL AND t.expires_at <= ?, t.user_id, u.disabled"
			   " FROM tokens t JOIN users u ON u.id = t.user_id"
			   " WHERE CAST(? AS TEXT) IS NULL OR t.user_id = ? ORDER BY t.id",
			   "iss", now, username ? u.id : NULL, username ? u.id : NULL)) < 0)
		return rc;
	arr = json_array();
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:b,s:b,s:b}",
			"id", db_col_text(st, 0), "user", db_col_text(st, 1), "user_id", db_col_text(st, 9),
			"label", db_col_text(st, 2), "role", db_col_text(st, 3), "created_at", time_json(db_col_int(st, 4)),
			"expires_at", time_json(db_col_int(st, 5)), "last_used_at", time_json(db_col_int(st, 6)),
			"revoked", (int)db_col_int(st, 7), "expired", (int)db_col_int(st, 8),
			"user_disabled", (int)db_col_int(st, 10)));
	db_finalize(st);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

int token_owner(struct dam *dam, const char *token_id, char user_id_out[DAM_ID_LEN + 1], struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err, "SELECT user_id FROM tokens WHERE id=?", "s", token_id)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW)
		snprintf(user_id_out, DAM_ID_LEN + 1, "%s", db_col_text(st, 0));
	db_finalize(st);
	if (rc == DB_DONE)
		return dam_err_set(err, DAM_ENOTFOUND, "id", "no token %.40s", token_id);
	return rc < 0 ? rc : 0;
}

/* audit_tx change of token_revoke: ctx is the owner's id. */
static int revoke_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	int rc = db_run(dam->db, err, "UPDATE tokens SET revoked_at=? WHERE id=? AND revoked_at IS NULL", "is",
			(int64_t)time_now_ms(), rec->object_id);

	if (rc == 0)
		return dam_err_set(err, DAM_ECONFLICT, "id", "token %s is already revoked", rec->object_id);
	rec->before = json_pack("{s:s}", "user_id", (const char *)ctx);
	return rc < 0 ? rc : 0;
}

int token_revoke(struct dam *dam, const char *token_id, struct dam_err *err)
{
	char owner[DAM_ID_LEN + 1];
	int rc;

	if ((rc = token_owner(dam, token_id, owner, err)) < 0)
		return rc;
	return audit_tx(dam, "token.revoke", "token", token_id, revoke_rows, owner, err);
}

/*
 * Verified tokens, per library handle (so per connection and thread: no
 * lock). An entry holds what the check query answered and the database
 * version read just before that query. It answers again only while the
 * version is unchanged, i.e. nothing was committed since by anyone: then
 * the query would answer the same, except for time, which the entry bounds
 * by the token's expiry and by when last_used_at is next due. Any commit
 * (a revoke, a user disabled or demoted, but also an unrelated upload)
 * sends the next check back to the query.
 */
#define TOKEN_CACHE_N 8

struct token_cache {
	struct tc_entry {
		char hash[65];
		struct actor actor;
		struct db_version version;
		int64_t expires_at; /* 0: never */
		int64_t last_used;
		uint64_t used;
	} e[TOKEN_CACHE_N];
	uint64_t tick;
};

static void *token_cache_create(void)
{
	return calloc(1, sizeof(struct token_cache));
}

/* Wiped first: the entries name who may act with which token hash. */
static void token_cache_destroy(void *cache)
{
	sodium_memzero(cache, sizeof(struct token_cache));
	free(cache);
}

/* The handle frees it (library_close); see struct library_cache_kind. */
static const struct library_cache_kind token_cache_kind = {
	"verified tokens", token_cache_create, token_cache_destroy,
};

static struct tc_entry *cache_find(struct dam *dam, const char *hash, const struct db_version *v, int64_t now)
{
	struct token_cache *c = library__cache(dam, &token_cache_kind);

	for (int i = 0; c && i < TOKEN_CACHE_N; i++) {
		struct tc_entry *e = &c->e[i];
		if (!e->hash[0] || memcmp(e->hash, hash, 64))
			continue;
		if (e->version.others != v->others || e->version.own != v->own ||
		    (e->expires_at && now >= e->expires_at) || now - e->last_used >= LAST_USED_EVERY_MS)
			return NULL;
		e->used = ++c->tick;
		return e;
	}
	return NULL;
}

static void cache_store(struct dam *dam, const char *hash, const struct actor *a, const struct db_version *v,
			int64_t expires_at, int64_t last_used)
{
	struct token_cache *c = library__cache(dam, &token_cache_kind);
	struct tc_entry *e = NULL;

	if (!c)
		return;
	for (int i = 0; i < TOKEN_CACHE_N && !e; i++)
		if (!memcmp(c->e[i].hash, hash, 64))
			e = &c->e[i];
	for (int i = 0; i < TOKEN_CACHE_N && !e; i++)
		if (!c->e[i].hash[0])
			e = &c->e[i];
	if (!e) {
		e = &c->e[0];
		for (int i = 1; i < TOKEN_CACHE_N; i++)
			if (c->e[i].used < e->used)
				e = &c->e[i];
	}
	memcpy(e->hash, hash, 65);
	e->actor = *a;
	e->version = *v;
	e->expires_at = expires_at;
	e->last_used = last_used;
	e->used = ++c->tick;
}

int auth_token_check(struct dam *dam, const char *secret, struct actor *actor, struct dam_err *err)
{
	struct db_stmt *st;
	struct db_version ver;
	struct tc_entry *hit;
	char hash[65], token_id[DAM_ID_LEN + 1] = "";
	int64_t now = (int64_t)time_now_ms(), last_used = 0, expires_at = 0;
	enum role trole = ROLE_NONE, urole = ROLE_NONE;
	bool ok = false, have_ver;
	int rc;

	memset(actor, 0, sizeof *actor);
	if (!secret || strlen(secret) != TOKEN_LEN || strncmp(secret, TOKEN_PREFIX, 4))
		return dam_err_set(err, DAM_EPERM, NULL, "%s", bad_token);
	auth__sha256_hex(secret, TOKEN_LEN, hash);
	/* Read before the query, so a commit racing with it changes the
	 * version the entry is checked against. */
	have_ver = library__data_version(dam, &ver, NULL) == 0;
	if (have_ver && (hit = cache_find(dam, hash, &ver, now))) {
		*actor = hit->actor;
		return 0;
	}
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT t.id, t.role, t.user_id, u.username, u.role, coalesce(t.last_used_at, 0),"
			   " coalesce(t.expires_at, 0)"
			   " FROM tokens t JOIN users u ON u.id = t.user_id"
			   " WHERE t.hash=? AND t.revoked_at IS NULL AND u.disabled=0"
			   " AND (t.expires_at IS NULL OR t.expires_at > ?)", "si", hash, now)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		snprintf(token_id, sizeof token_id, "%s", db_col_text(st, 0));
		trole = role_parse(db_col_text(st, 1));
		urole = role_parse(db_col_text(st, 4));
		auth__actor_user(actor, db_col_text(st, 2), db_col_text(st, 3), trole < urole ? trole : urole);
		memcpy(actor->token_id, token_id, sizeof token_id);
		last_used = db_col_int(st, 5);
		expires_at = db_col_int(st, 6);
		ok = actor->role != ROLE_NONE;
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (!ok) {
		memset(actor, 0, sizeof *actor);
		return dam_err_set(err, DAM_EPERM, NULL, "%s", bad_token);
	}
	if (now - last_used >= LAST_USED_EVERY_MS) {
		/* Best effort: a busy database must not refuse a valid token. This
		 * commit changes the version, and a version read after it could
		 * hide a revocation committed since the query: nothing is
		 * remembered this time; the next check queries again. */
		struct dam_err ignored;
		db_run(dam->db, &ignored, "UPDATE tokens SET last_used_at=? WHERE id=?", "is", now, token_id);
	} else if (have_ver) {
		cache_store(dam, hash, actor, &ver, expires_at, last_used);
	}
	return 0;
}

/*
 * auth.c - roles, the policy auth_can(), and user accounts.
 *
 * Tokens live in auth_token.c, sessions and login in auth_session.c.
 * Passwords are hashed outside the write transaction: Argon2id takes ~0.1 s
 * and 64 MB on purpose, and the write lock should not be held meanwhile.
 */
#include "core/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/audit.h"
#include "util/timeutil.h"

#define PASSWORD_MIN 10
#define PASSWORD_MAX 1024
#define GENERATED_LEN 20

/* ---- roles and policy ---- */

const char *role_name(enum role r)
{
	switch (r) {
	case ROLE_VIEWER: return "viewer";
	case ROLE_CONTRIBUTOR: return "contributor";
	case ROLE_EDITOR: return "editor";
	case ROLE_ADMIN: return "admin";
	case ROLE_NONE: break;
	}
	return "none";
}

enum role role_parse(const char *s)
{
	static const enum role all[] = { ROLE_VIEWER, ROLE_CONTRIBUTOR, ROLE_EDITOR, ROLE_ADMIN };

	for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++)
		if (!strcasecmp(s, role_name(all[i])))
			return all[i];
	return ROLE_NONE;
}

/* The least role allowed each action. Contributors may also edit assets
 * they created (see auth_can). */
static const enum role min_role[] = {
	[AUTH_ASSET_READ] = ROLE_VIEWER,
	[AUTH_ASSET_DOWNLOAD] = ROLE_VIEWER,
	[AUTH_TOKENS_OWN] = ROLE_VIEWER,
	[AUTH_ASSET_CREATE] = ROLE_CONTRIBUTOR,
	[AUTH_ASSET_EDIT] = ROLE_EDITOR,
	[AUTH_ASSET_DELETE] = ROLE_EDITOR,
	[AUTH_JOBS_READ] = ROLE_EDITOR,
	[AUTH_JOBS_MANAGE] = ROLE_ADMIN,
	[AUTH_USERS_MANAGE] = ROLE_ADMIN,
	[AUTH_METRICS_READ] = ROLE_ADMIN,
	[AUTH_SCHEMA_MANAGE] = ROLE_ADMIN,
	/* A link publishes the asset to anyone holding it, so it is an
	 * editor's decision, like changing what the asset says. */
	[AUTH_DELIVERY_LINK] = ROLE_EDITOR,
	[AUTH_DELIVERY_MANAGE] = ROLE_ADMIN,
	/* The trail names every user and what they did. */
	[AUTH_AUDIT_READ] = ROLE_ADMIN,
};

bool auth_can(const struct actor *actor, enum auth_action action, const struct auth_object *obj)
{
	if (!actor || (unsigned)action >= sizeof min_role / sizeof min_role[0])
		return false;
	if (actor->kind == ACTOR_SYSTEM)
		return true;
	if (actor->kind != ACTOR_USER || !actor->user_id[0] || actor->role < ROLE_VIEWER ||
	    actor->role > ROLE_ADMIN)
		return false;
	if (min_role[action] != ROLE_NONE && actor->role >= min_role[action])
		return true;
	return action == AUTH_ASSET_EDIT && actor->role == ROLE_CONTRIBUTOR && obj && obj->created_by &&
	       !strcmp(obj->created_by, actor->user_id);
}

bool auth_csrf_equal(const char *a, const char *b)
{
	size_t n;

	if (!a || !b || (n = strlen(a)) != strlen(b) || n == 0)
		return false;
	return sodium_memcmp(a, b, n) == 0;
}

void auth_actor_name(const struct actor *a, char out[128])
{
	if (a && a->kind == ACTOR_USER)
		snprintf(out, 128, "user:%.120s", a->username);
	else
		snprintf(out, 128, "%s", a && a->kind == ACTOR_SYSTEM ? "system" : "anonymous");
}

/* ---- shared helpers ---- */

void auth__sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, p, n);
	sodium_bin2hex(out, 65, d, sizeof d);
}

void auth__actor_user(struct actor *a, const char *user_id, const char *username, enum role role)
{
	memset(a, 0, sizeof *a);
	a->kind = ACTOR_USER;
	snprintf(a->user_id, sizeof a->user_id, "%s", user_id);
	snprintf(a->username, sizeof a->username, "%s", username);
	a->role = role;
}

static bool username_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == n;
}

int auth__user_get(struct dam *dam, const char *username, struct auth__user *u, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	memset(u, 0, sizeof *u);
	if (!username_valid(username))
		return dam_err_set(err, DAM_ENOTFOUND, "username", "no user %.64s", username ? username : "");
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT id, username, password_hash, role, disabled FROM users WHERE username=?",
			   "s", username)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		snprintf(u->id, sizeof u->id, "%s", db_col_text(st, 0));
		snprintf(u->username, sizeof u->username, "%s", db_col_text(st, 1));
		snprintf(u->hash, sizeof u->hash, "%s", db_col_text(st, 2));
		u->role = role_parse(db_col_text(st, 3));
		u->disabled = db_col_int(st, 4) != 0;
	}
	db_finalize(st);
	if (rc == DB_DONE)
		return dam_err_set(err, DAM_ENOTFOUND, "username", "no user %s", username);
	return rc < 0 ? rc : 0;
}

/* ---- passwords ---- */

static int password_check(const char *pw, struct dam_err *err)
{
	size_t n = pw ? strlen(pw) : 0;

	if (n < PASSWORD_MIN || n > PASSWORD_MAX)
		return dam_err_set(err, DAM_EINVAL, "password", "a password has %d to %d bytes", PASSWORD_MIN,
				   PASSWORD_MAX);
	return 0;
}

static int password_hash(const char *pw, char out[128], struct dam_err *err)
{
	_Static_assert(crypto_pwhash_STRBYTES <= 128, "hash buffer too small");
	if (sodium_init() < 0 || crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
						   crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return dam_err_set(err, DAM_ENOMEM, "password", "could not hash the password (out of memory)");
	return 0;
}

/* 20 characters from an alphabet without look-alikes (0/O, 1/l/I): about
 * 117 bits. */
void auth_password_generate(char out[32])
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

	for (int i = 0; i < GENERATED_LEN; i++)
		out[i] = alphabet[randombytes_uniform((uint32_t)(sizeof alphabet - 1))];
	out[GENERATED_LEN] = '\0';
}

/* ---- users ---- */

struct user_insert {
	const char *id, *username, *hash;
	enum role role;
};

static int user_insert_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct user_insert *c = ctx;
	int64_t now = (int64_t)time_now_ms();
	int rc = db_run(dam->db, err,
			"INSERT INTO users(id, username, password_hash, role, created_at, updated_at) VALUES (?,?,?,?,?,?)",
			"ssssii", c->id, c->username, c->hash, role_name(c->role), now, now);

	if (rc == DAM_ECONFLICT)
		return dam_err_set(err, DAM_EEXIST, "username", "user %s already exists", c->username);
	rec->after = json_pack("{s:s,s:s}", "username", c->username, "role", role_name(c->role));
	return rc < 0 ? rc : 0;
}

int user_add(struct dam *dam, const char *username, const char *password, enum role role,
	     char id_out[DAM_ID_LEN + 1], char *generated_out, struct dam_err *err)
{
	char hash[128], gen[32] = "", id[DAM_ID_LEN + 1];
	struct user_insert ins;
	int rc;

	if (!username_valid(username)) {
		rc = dam_err_set(err, DAM_EINVAL, "username",
				 "invalid username \"%.64s\": use 1-64 of A-Z a-z 0-9 . _ @ -", username ? username : "");
		goto out;
	}
	if (role < ROLE_VIEWER || role > ROLE_ADMIN) {
		rc = dam_err_set(err, DAM_EINVAL, "role", "role is one of viewer, contributor, editor, admin");
		goto out;
	}
	if (!password) {
		if (!generated_out) {
			rc = dam_err_set(err, DAM_EINVAL, "password", "no password given and nowhere to show one");
			goto out;
		}
		auth_password_generate(gen);
		password = gen;
	} else if ((rc = password_check(password, err)) < 0) {
		goto out;
	}
	if ((rc = password_hash(password, hash, err)) < 0)
		goto out;
	id_new(id);
	ins = (struct user_insert){ id, username, hash, role };
	if ((rc = audit_tx(dam, "user.add", "user", id, user_insert_rows, &ins, err)) < 0)
		goto out;
	if (id_out)
		memcpy(id_out, id, sizeof id);
	if (gen[0])
		memcpy(generated_out, gen, sizeof gen);
out:
	sodium_memzero(gen, sizeof gen);
	sodium_memzero(hash, sizeof hash);
	return rc < 0 ? rc : 0;
}

struct user_update {
	const struct auth__user *u;
	const char *sql, *value;
	bool end_sessions;
	const json_t *before, *after; /* borrowed */
};

static int user_update_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct user_update *c = ctx;
	int rc = db_run(dam->db, err, c->sql, "sis", c->value, (int64_t)time_now_ms(), c->u->id);

	if (rc >= 0 && c->end_sessions)
		rc = db_run(dam->db, err, "DELETE FROM sessions WHERE user_id=?", "s", c->u->id);
	rec->before = json_incref((json_t *)c->before);
	rec->after = json_incref((json_t *)c->after);
	return rc < 0 ? rc : 0;
}

/* Runs one UPDATE of a user (plus optional session cleanup) and its audit
 * row in one transaction. */
static int user_change(struct dam *dam, const struct auth__user *u, const char *action, const char *sql,
		       const char *value, bool end_sessions, const json_t *before, const json_t *after,
		       struct dam_err *err)
{
	struct user_update c = { u, sql, value, end_sessions, before, after };

	return audit_tx(dam, action, "user", u->id, user_update_rows, &c, err);
}

/* Refuses to take away the last enabled admin, which would leave nobody
 * able to manage users over HTTP. */
static int keep_an_admin(struct dam *dam, const struct auth__user *u, struct dam_err *err)
{
	int64_t n = 0;
	int rc;

	if (u->role != ROLE_ADMIN || u->disabled)
		return 0;
	if ((rc = db_query_int(dam->db, &n, err,
			       "SELECT count(*) FROM users WHERE role='admin' AND disabled=0 AND id!=?", "s", u->id)) < 0)
		return rc;
	if (n == 0)
		return dam_err_set(err, DAM_ECONFLICT, "username", "%s is the last enabled admin", u->username);
	return 0;
}

int user_set_password(struct dam *dam, const char *username, const char *password, struct dam_err *err)
{
	struct auth__user u;
	char hash[128] = "";
	int rc;

	if ((rc = password_check(password, err)) < 0 || (rc = auth__user_get(dam, username, &u, err)) < 0 ||
	    (rc = password_hash(password, hash, err)) < 0)
		goto out;
	/* A new password ends the browser sessions opened with the old one. */
	rc = user_change(dam, &u, "user.password",
			 "UPDATE users SET password_hash=?, updated_at=? WHERE id=?", hash, true, NULL, NULL, err);
out:
	sodium_memzero(hash, sizeof hash);
	sodium_memzero(u.hash, sizeof u.hash);
	return rc < 0 ? rc : 0;
}

int user_set_role(struct dam *dam, const char *username, enum role role, struct dam_err *err)
{
	struct auth__user u;
	json_t *before, *after;
	int rc;

	if (role < ROLE_VIEWER || role > ROLE_ADMIN)
		return dam_err_set(err, DAM_EINVAL, "role", "role is one of viewer, contributor, editor, admin");
	if ((rc = auth__user_get(dam, username, &u, err)) < 0)
		return rc;
	if (u.role == role)
		return 0;
	if ((rc = keep_an_admin(dam, &u, err)) < 0)
		return rc;
	before = json_pack("{s:s}", "role", role_name(u.role));
	after = json_pack("{s:s}", "role", role_name(role));
	rc = user_change(dam, &u, "user.role", "UPDATE users SET role=?, updated_at=? WHERE id=?",
			 role_name(role), false, before, after, err);
	json_decref(before);
	json_decref(after);
	return rc < 0 ? rc : 0;
}

int user_set_disabled(struct dam *dam, const char *username, bool disabled, struct dam_err *err)
{
	struct auth__user u;
	int rc;

	if ((rc = auth__user_get(dam, username, &u, err)) < 0)
		return rc;
	if (u.disabled == disabled)
		return 0;
	if (disabled && (rc = keep_an_admin(dam, &u, err)) < 0)
		return rc;
	/* Sessions end now; tokens are refused while the user is disabled (the
	 * check joins users), and work again if the user is enabled. */
	rc = user_change(dam, &u, disabled ? "user.disable" : "user.enable",
			 "UPDATE users SET disabled=CAST(? AS INTEGER), updated_at=? WHERE id=?", disabled ? "1" : "0", disabled,
			 NULL, NULL, err);
	return rc < 0 ? rc : 0;
}

int user_list(struct dam *dam, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	json_t *arr = json_array();
	int rc;

	*out = NULL;
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT id, username, role, disabled, created_at, last_login_at FROM users"
			   " ORDER BY lower(username)", "")) < 0)
		goto out;
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:b,s:o,s:o}", "id", db_col_text(st, 0),
						     "username", db_col_text(st, 1), "role", db_col_text(st, 2),
						     "disabled", (int)db_col_int(st, 3), "created_at",
						     time_json(db_col_int(st, 4)), "last_login_at", time_json(db_col_int(st, 5))));
	db_finalize(st);
out:
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

int user_count(struct dam *dam, int64_t *n, struct dam_err *err)
{
	return db_query_int(dam->db, n, err, "SELECT count(*) FROM users", "");
}

int auth_bootstrap_admin(struct dam *dam, char username_out[64], char password_out[64], bool *created,
			 struct dam_err *err)
{
	char gen[64] = "";
	int64_t n = 0;
	int rc;

	*created = false;
	username_out[0] = password_out[0] = '\0';
	if ((rc = user_count(dam, &n, err)) < 0 || n > 0)
		goto out;
	rc = user_add(dam, "admin", NULL, ROLE_ADMIN, NULL, gen, err);
	if (rc == DAM_EEXIST) { /* another process bootstrapped first */
		dam_err_clear(err);
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	*created = true;
	snprintf(username_out, 64, "%s", "admin");
	snprintf(password_out, 64, "%s", gen);
out:
	sodium_memzero(gen, sizeof gen);
	return rc < 0 ? rc : 0;
}

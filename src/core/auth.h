/*
 * auth.h - accounts, API tokens, browser sessions, and the one policy
 * function every permission decision goes through: auth_can().
 *
 * Passwords are hashed with Argon2id (libsodium crypto_pwhash_str). API
 * tokens and session ids are 32 random bytes shown once; only their SHA-256
 * is stored. Every change here writes its audit row in the same transaction.
 *
 * Ownership: strings written into caller buffers; JSON returned is owned by
 * the caller (json_decref). Thread-safety: as the struct dam handle (one
 * thread at a time per handle).
 */
#ifndef DAM_CORE_AUTH_H
#define DAM_CORE_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/library.h"
#include "util/id.h"

enum role {
	ROLE_NONE = 0,
	ROLE_VIEWER = 1,      /* find, view, download */
	ROLE_CONTRIBUTOR = 2, /* + upload; edit tags/fields of assets they created */
	ROLE_EDITOR = 3,      /* + edit any asset, delete, restore */
	ROLE_ADMIN = 4,       /* + users, tokens of others, jobs, metrics */
};

/* "viewer", "contributor", "editor", "admin"; parse returns ROLE_NONE when unknown. */
const char *role_name(enum role r);
enum role role_parse(const char *s);

enum actor_kind { ACTOR_ANONYMOUS = 0, ACTOR_USER, ACTOR_SYSTEM };

/* Who is asking. Filled by auth_token_check / auth_session_check. */
struct actor {
	enum actor_kind kind;
	char user_id[DAM_ID_LEN + 1];
	char username[128];
	enum role role;          /* effective role (a token's role never exceeds its user's) */
	char token_id[DAM_ID_LEN + 1];   /* set when authenticated by API token */
	char session_id[DAM_ID_LEN + 1]; /* set when authenticated by session cookie */
	char csrf[65];           /* the session's CSRF token (cookie auth only) */
};

enum auth_action {
	AUTH_ASSET_READ,      /* list, search, view metadata */
	AUTH_ASSET_DOWNLOAD,  /* originals and renditions */
	AUTH_ASSET_CREATE,    /* upload new assets and new versions */
	AUTH_ASSET_EDIT,      /* tags and fields */
	AUTH_ASSET_DELETE,    /* soft delete and restore */
	AUTH_JOBS_READ,
	AUTH_JOBS_MANAGE,     /* retry, cancel */
	AUTH_USERS_MANAGE,    /* users, roles, other users' tokens */
	AUTH_TOKENS_OWN,      /* create/list/revoke one's own tokens */
	AUTH_METRICS_READ,
	AUTH_SCHEMA_MANAGE,   /* field definitions, vocabularies, templates, name patterns, languages */
	AUTH_DELIVERY_LINK,   /* make signed delivery and share links, set focal points */
	AUTH_DELIVERY_MANAGE, /* channel presets and signing keys */
	AUTH_AUDIT_READ,      /* the whole audit trail (an asset's own history is AUTH_ASSET_READ) */
};

/* What the action is on; NULL for actions on the library as a whole.
 * Later issues add territories, collections and partner scopes here. */
struct auth_object {
	const char *type;       /* "asset", "job", "user" ... */
	const char *id;
	const char *created_by; /* user id of the asset's creator, if known */
};

/* The policy. Anonymous actors may do nothing here (signed delivery URLs
 * are checked elsewhere). */
bool auth_can(const struct actor *actor, enum auth_action action, const struct auth_object *obj);

/* ---- users ---- */

/* Usernames: 1-64 of [A-Za-z0-9._@-], case-insensitively unique.
 * Passwords: 10-1024 bytes. If password is NULL a random one (20 chars) is
 * generated and written to generated_out (at least 32 bytes) to show once. */
int user_add(struct dam *dam, const char *username, const char *password, enum role role,
	     char id_out[DAM_ID_LEN + 1], char *generated_out, struct dam_err *err);
/* A new password also ends the user's browser sessions (tokens stay). */
int user_set_password(struct dam *dam, const char *username, const char *password,
		      struct dam_err *err);
/* Setting the role a user already has is a no-op (no audit row).
 * DAM_ECONFLICT when it would demote the last enabled admin. */
int user_set_role(struct dam *dam, const char *username, enum role role, struct dam_err *err);
/* Disabling ends the user's sessions and tokens at once (sessions are
 * deleted; tokens are refused while disabled and work again after enabling).
 * No-op when already in that state; DAM_ECONFLICT for the last enabled admin. */
int user_set_disabled(struct dam *dam, const char *username, bool disabled, struct dam_err *err);
/* [{id, username, role, disabled, created_at, last_login_at}] */
int user_list(struct dam *dam, json_t **out, struct dam_err *err);
/* Number of users (0 on a fresh library: serve creates the first admin). */
int user_count(struct dam *dam, int64_t *n, struct dam_err *err);

/* ---- API tokens ---- */

/* Creates a token for username with role (ROLE_NONE = the user's role; may
 * not exceed it) and optional expiry (0 = never). The secret ("dam_" + 43
 * base64url chars) is written to secret_out (at least 64 bytes), shown once. */
int token_create(struct dam *dam, const char *username, const char *label, enum role role,
		 uint64_t expires_at_ms, char id_out[DAM_ID_LEN + 1], char secret_out[64],
		 struct dam_err *err);
/* [{id, user, user_id, label, role, created_at, expires_at, last_used_at,
 * revoked, expired, user_disabled}] (never the secret or its hash),
 * all users' when username is NULL. */
int token_list(struct dam *dam, const char *username, json_t **out, struct dam_err *err);
int token_revoke(struct dam *dam, const char *token_id, struct dam_err *err);
/* Checks a bearer secret: 0 and *actor filled, or DAM_EPERM (unknown,
 * revoked, expired, user disabled) with a message that does not say which.
 * Verified tokens are remembered per library handle with the database's
 * version (db_data_version): a remembered answer is used only while nothing
 * at all was committed to the database since it was read, and never past
 * the token's expiry, so revoking a token, disabling or demoting its user
 * takes effect at the next request, as without the cache. */
int auth_token_check(struct dam *dam, const char *secret, struct actor *actor, struct dam_err *err);

/* ---- sessions and login ---- */

/*
 * Login throttling, three counters of failed logins inside window_s:
 * - per (account, address): max_failures locks that account out for that
 *   address only (an attacker guessing one account locks only themself out);
 * - per account, from any address: account_failures (higher) locks the
 *   account everywhere (a distributed guess at one account);
 * - per address, across accounts: from address_free failures on, each
 *   attempt from the address must wait 2^(n - address_free) s (n its
 *   failures in the window, capped at address_delay_max_s) after its last
 *   failure: a slowdown for everyone behind that address, never a lockout.
 * Refused attempts are not counted and check no password. An IPv6 address
 * counts as its /64, an IPv4-mapped one as its IPv4 address.
 */
struct auth_limits {
	int idle_s;           /* session idle expiry; default 2 h */
	int absolute_s;       /* session absolute expiry; default 12 h */
	int max_failures;     /* per (account, address) before that pair is refused; default 5 */
	int window_s;         /* counting window, and the longest lockout; default 15 min */
	int account_failures; /* per account from all addresses before it is refused; default 20 */
	int address_free;     /* failures per address (any accounts) before its delay starts; default 10 */
	int address_delay_max_s; /* the longest delay for an address; default 60 s */
};
void auth_limits_default(struct auth_limits *l);

/*
 * Logs in: on success creates a session and writes its secret (cookie value,
 * 64 hex chars) to session_out and fills *actor (with csrf). Failures:
 * DAM_EPERM "invalid username or password" (the same words and about the
 * same time whether or not the user exists), DAM_ELIMIT "too many failed
 * logins, try again in N s" when throttled (see struct auth_limits;
 * *retry_after_s set to N). A success clears the (account, address)
 * counter only. client_addr may be NULL (then only the account counts).
 */
int auth_login(struct dam *dam, const struct auth_limits *lim, const char *username,
	       const char *password, const char *client_addr, char session_out[65],
	       struct actor *actor, int *retry_after_s, struct dam_err *err);
/* Checks a session cookie value; refreshes its idle timer. DAM_EPERM when
 * unknown or expired. */
int auth_session_check(struct dam *dam, const struct auth_limits *lim, const char *secret,
		       struct actor *actor, struct dam_err *err);
int auth_logout(struct dam *dam, const char *secret, struct dam_err *err);

/* ---- helpers for the front-ends ---- */

/* Constant-time comparison of two CSRF tokens (64 hex chars each); false
 * when either is NULL or the lengths differ. */
bool auth_csrf_equal(const char *a, const char *b);

/* First-admin bootstrap: when the library has no users, creates "admin"
 * with a generated password (shown once), sets *created and writes both into
 * the buffers; otherwise *created = false and the buffers are "". */
int auth_bootstrap_admin(struct dam *dam, char username_out[64], char password_out[64],
			 bool *created, struct dam_err *err);

/* Writes a new random password (20 characters from an alphabet without
 * look-alikes such as 0/O and 1/l, about 117 bits) into out. */
void auth_password_generate(char out[32]);

/* The name to record as the audit actor for a ("user:<username>",
 * "system", "anonymous"); pass it to library_set_actor(). */
void auth_actor_name(const struct actor *a, char out[128]);

/* The user id owning a token (so a front-end can let users revoke only their
 * own tokens unless auth_can(AUTH_USERS_MANAGE)). DAM_ENOTFOUND if none. */
int token_owner(struct dam *dam, const char *token_id, char user_id_out[DAM_ID_LEN + 1],
		struct dam_err *err);

/* ---- internal, shared by auth*.c ---- */

struct auth__user {
	char id[DAM_ID_LEN + 1];
	char username[65];
	char hash[128]; /* crypto_pwhash_STRBYTES */
	enum role role;
	bool disabled;
};
/* Looks a user up by name (case-insensitive). DAM_ENOTFOUND when absent. */
int auth__user_get(struct dam *dam, const char *username, struct auth__user *u, struct dam_err *err);
/* Lower-case hex SHA-256 of (p, n). */
void auth__sha256_hex(const void *p, size_t n, char out[65]);
/* Fills *a for an authenticated user (other fields zeroed). */
void auth__actor_user(struct actor *a, const char *user_id, const char *username, enum role role);

#endif

/*
 * auth_session.c - login, browser sessions and login throttling.
 *
 * A session secret is 32 random bytes; the cookie carries them as 64 hex
 * characters and the database only their SHA-256. Each session has its own
 * random CSRF token. Sessions end after idle_s without use or absolute_s
 * after login, whichever comes first, and at once when the user is
 * disabled, changes password or logs out.
 *
 * Throttling counts failed logins in login_failures under three keys: the
 * account ("user:" + lower-cased name, whether or not it exists), the pair
 * ("pair:" + address + " " + lower-cased name) and the client address
 * ("addr:" + address). The pair and the account are locks: after
 * max_failures (pair) or account_failures (account) failures inside
 * window_s, attempts are refused until the oldest of them leaves the
 * window. The address is a brake, not a lock: one office shares one
 * address behind NAT, so an attacker there must not lock colleagues out;
 * its failures across accounts only make each next attempt wait an
 * exponentially growing, capped delay after its last failure (the answer
 * says how long; the server thread never sleeps). Refused attempts are not
 * counted, so an attacker cannot extend a lockout forever. A success clears
 * only its pair: the account and address counters decay with the window,
 * so logging in with one known account does not buy guesses at others.
 */
#include "core/auth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "util/timeutil.h"

/* The idle timer is refreshed at most this often (one write a minute per
 * active session, not one per request). */
#define SEEN_EVERY_MS 60000
#define KEY_MAX 224

static const char bad_login[] = "invalid username or password";
static const char bad_session[] = "not logged in or session expired";

void auth_limits_default(struct auth_limits *l)
{
	l->idle_s = 2 * 3600;
	l->absolute_s = 12 * 3600;
	l->max_failures = 5;
	l->window_s = 15 * 60;
	/* Four addresses' worth of pair lockouts: the owner's own typos from a
	 * laptop, a phone and a desk never reach it, while a botnet gets at
	 * most 20 guesses per account per 15 min (about 2,000 a day). */
	l->account_failures = 20;
	/* An office of a hundred behind one NAT makes a few typos an hour;
	 * ten failures in 15 min from one address are already unusual. */
	l->address_free = 10;
	/* One guess a minute at most from a spraying address (1,440 a day,
	 * each account still held by its own counters); a colleague behind
	 * the same address waits at most this long. */
	l->address_delay_max_s = 60;
}

/* Non-positive fields mean "the default". */
static void limits_of(const struct auth_limits *in, struct auth_limits *out)
{
	struct auth_limits d;

	auth_limits_default(&d);
	*out = d;
	if (!in)
		return;
	if (in->idle_s > 0)
		out->idle_s = in->idle_s;
	if (in->absolute_s > 0)
		out->absolute_s = in->absolute_s;
	if (in->max_failures > 0)
		out->max_failures = in->max_failures;
	if (in->window_s > 0)
		out->window_s = in->window_s;
	if (in->account_failures > 0)
		out->account_failures = in->account_failures;
	if (in->address_free > 0)
		out->address_free = in->address_free;
	if (in->address_delay_max_s > 0)
		out->address_delay_max_s = in->address_delay_max_s;
}

/* ---- the dummy hash: unknown users cost the same Argon2id work ---- */

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[128];

static void dummy_make(void)
{
	unsigned char pw[16];

	if (sodium_init() < 0)
		return;
	randombytes_buf(pw, sizeof pw);
	if (crypto_pwhash_str(dummy_hash, (const char *)pw, sizeof pw, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
}

static void dummy_verify(const char *password)
{
	pthread_once(&dummy_once, dummy_make);
	if (dummy_hash[0] && crypto_pwhash_str_verify(dummy_hash, password, strlen(password)) == 0)
		return; /* a random 16-byte password: never */
}

/* ---- throttling ---- */

/* The keys one attempt counts under: account, pair, address (the last
 * empty without an address). */
struct throttle_keys {
	char user[KEY_MAX], pair[KEY_MAX], addr[KEY_MAX];
};

static void lower_from(char *s, size_t from)
{
	for (size_t i = from; s[i]; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
}

/* The address as throttling sees it: an IPv6 address stands for its /64,
 * since one subscriber or host usually holds a whole /64 and could
 * otherwise take a fresh address for every guess. IPv4 (and anything
 * unparsable) is kept as given. */
static void throttle_addr(const char *addr, char out[INET6_ADDRSTRLEN + 4])
{
	unsigned char a6[16];
	char txt[INET6_ADDRSTRLEN];

	snprintf(out, INET6_ADDRSTRLEN + 4, "%.*s", INET6_ADDRSTRLEN - 1, addr && *addr ? addr : "");
	if (!strchr(out, ':') || inet_pton(AF_INET6, out, a6) != 1)
		return;
	/* an IPv4-mapped address is that IPv4 address */
	if (!memcmp(a6, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		inet_ntop(AF_INET, a6 + 12, txt, sizeof txt);
		snprintf(out, INET6_ADDRSTRLEN + 4, "%s", txt);
		return;
	}
	memset(a6 + 8, 0, 8);
	inet_ntop(AF_INET6, a6, txt, sizeof txt);
	snprintf(out, INET6_ADDRSTRLEN + 4, "%s/64", txt);
}

static void throttle_keys(const char *username, const char *client_addr, struct throttle_keys *k)
{
	char addr[INET6_ADDRSTRLEN + 4];
	int n;

	throttle_addr(client_addr, addr);
	snprintf(k->user, KEY_MAX, "user:%.128s", username);
	lower_from(k->user, 5);
	n = snprintf(k->pair, KEY_MAX, "pair:%s ", *addr ? addr : "-");
	snprintf(k->pair + n, KEY_MAX - (size_t)n, "%.128s", username);
	lower_from(k->pair, (size_t)n);
	if (*addr)
		snprintf(k->addr, KEY_MAX, "addr:%s", addr);
	else
		k->addr[0] = '\0';
}

static int ceil_s(int64_t ms)
{
	int64_t s = (ms + 999) / 1000;

	return s < 1 ? 1 : (int)s;
}

/* A lock: seconds until key has fewer than max failures in the window
 * (0 = now). */
static int lock_wait(struct dam *dam, const struct auth_limits *l, const char *key, int max, int64_t now,
		     int *wait, struct dam_err *err)
{
	int64_t at = 0;
	int rc;

	*wait = 0;
	/* The max-th newest failure inside the window: once it leaves the
	 * window, fewer than max remain. */
	rc = db_query_int(dam->db, &at, err,
			  "SELECT at FROM login_failures WHERE key=? AND at>? ORDER BY at DESC LIMIT 1 OFFSET ?", "sii",
			  key, now - (int64_t)l->window_s * 1000, (int64_t)(max - 1));
	if (rc == DAM_ENOTFOUND) {
		dam_err_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	*wait = ceil_s(at + (int64_t)l->window_s * 1000 - now);
	return 0;
}

static int address_delay_s(const struct auth_limits *l, int64_t failures)
{
	int64_t steps = failures - l->address_free, d;

	if (steps < 0)
		return 0;
	/* 2^steps, without overflowing the shift */
	d = steps >= 30 ? INT32_MAX : (int64_t)1 << steps;
	return d > l->address_delay_max_s ? l->address_delay_max_s : (int)d;
}

/* The brake: seconds until the address may try again, from its failures
 * in the window and the last of them (0 = now). */
static int address_wait(struct dam *dam, const struct auth_limits *l, const char *key, int64_t now, int *wait,
			struct dam_err *err)
{
	struct db_stmt *st;
	int64_t n = 0, last = 0;
	int rc, delay;

	*wait = 0;
	if (!*key)
		return 0;
	if ((rc = db_query(dam->db, &st, err, "SELECT count(*), coalesce(max(at), 0) FROM login_failures WHERE key=? AND at>?",
			   "si", key, now - (int64_t)l->window_s * 1000)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		n = db_col_int(st, 0);
		last = db_col_int(st, 1);
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	delay = address_delay_s(l, n);
	if (delay && last + (int64_t)delay * 1000 > now)
		*wait = ceil_s(last + (int64_t)delay * 1000 - now);
	return 0;
}

/* The longest wait of the three (0: the attempt may check its password). */
static int throttle_wait(struct dam *dam, const struct auth_limits *l, const struct throttle_keys *k, int *wait,
			 struct dam_err *err)
{
	int64_t now = (int64_t)time_now_ms();
	int w[3] = { 0, 0, 0 }, rc;

	if ((rc = lock_wait(dam, l, k->pair, l->max_failures, now, &w[0], err)) < 0 ||
	    (rc = lock_wait(dam, l, k->user, l->account_failures, now, &w[1], err)) < 0 ||
	    (rc = address_wait(dam, l, k->addr, now, &w[2], err)) < 0)
		return rc;
	*wait = w[0] > w[1] ? w[0] : w[1];
	if (w[2] > *wait)
		*wait = w[2];
	return 0;
}

/* Printable ASCII only, for the event's JSON (the name may be any bytes). */
static void printable(const char *s, char *out, size_t n)
{
	size_t i = 0;

	for (; s && s[i] && i + 1 < n; i++)
		out[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}

/* Counts a failure against its three keys and records a login_failed
 * event. Best effort: the login fails either way. */
static void failure_record(struct dam *dam, const struct auth_limits *l, const struct throttle_keys *k,
			   const char *username, const char *addr, const char *user_id)
{
	struct dam_err e;
	char id[DAM_ID_LEN + 1], name[65], where[65];
	int64_t now = (int64_t)time_now_ms();
	json_t *data;
	char *txt;
	int rc;

	printable(username, name, sizeof name);
	printable(addr, where, sizeof where);
	data = json_pack("{s:s,s:s}", "username", name, "address", where);
	txt = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	id_new(id);
	if ((rc = db_begin(dam->db, &e)) < 0)
		goto out;
	rc = db_run(dam->db, &e, "INSERT INTO login_failures(key, at) VALUES (?,?)", "si", k->user, now);
	if (rc >= 0)
		rc = db_run(dam->db, &e, "INSERT INTO login_failures(key, at) VALUES (?,?)", "si", k->pair, now);
	if (rc >= 0 && k->addr[0])
		rc = db_run(dam->db, &e, "INSERT INTO login_failures(key, at) VALUES (?,?)", "si", k->addr, now);
	if (rc >= 0)
		rc = db_run(dam->db, &e, "DELETE FROM login_failures WHERE at<=?", "i",
			    now - (int64_t)l->window_s * 1000);
	if (rc >= 0)
		rc = db_run(dam->db, &e,
			    "INSERT INTO events(id, at, actor, kind, object_id, data) VALUES (?,?,'anonymous','login_failed',?,?)",
			    "siss", id, now, user_id, txt);
	if (rc < 0)
		db_rollback(dam->db);
	else
		db_commit(dam->db, &e);
out:
	free(txt);
	json_decref(data);
}

/* ---- sessions ---- */

static bool secret_decode(const char *secret, unsigned char raw[32])
{
	if (!secret || strlen(secret) != 64 || strspn(secret, "0123456789abcdef") != 64)
		return false;
	return sodium_hex2bin(raw, 32, secret, 64, NULL, NULL, NULL) == 0;
}

static int session_hash(const char *secret, char hash[65])
{
	unsigned char raw[32];

	if (!secret_decode(secret, raw))
		return -1;
	auth__sha256_hex(raw, sizeof raw, hash);
	sodium_memzero(raw, sizeof raw);
	return 0;
}

/* The actor of login and logout audit rows is the user themself; the
 * caller's actor is saved and put back afterwards. */
static void actor_swap(struct dam *dam, const char *username, char saved[128])
{
	char who[128];

	memcpy(saved, dam->actor, 128);
	snprintf(who, sizeof who, "user:%s", username);
	library_set_actor(dam, who);
}

struct session_insert {
	const char *id, *user_id, *hash, *csrf, *newhash, *pair_key;
	int64_t now, expires_at;
};

/* The session's row and the login's side effects: last login, a rehashed
 * password, the pair's failures forgiven, expired sessions gone. */
static int session_insert_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct session_insert *c = ctx;
	int rc = db_run(dam->db, err,
			"INSERT INTO sessions(id, user_id, hash, csrf, created_at, last_seen_at, expires_at)"
			" VALUES (?,?,?,?,?,?,?)", "ssssiii", c->id, c->user_id, c->hash, c->csrf, c->now, c->now,
			c->expires_at);

	if (rc >= 0)
		rc = db_run(dam->db, err, "UPDATE users SET last_login_at=? WHERE id=?", "is", c->now, c->user_id);
	if (rc >= 0 && c->newhash[0])
		rc = db_run(dam->db, err, "UPDATE users SET password_hash=? WHERE id=?", "ss", c->newhash, c->user_id);
	if (rc >= 0)
		rc = db_run(dam->db, err, "DELETE FROM login_failures WHERE key=?", "s", c->pair_key);
	if (rc >= 0)
		rc = db_run(dam->db, err, "DELETE FROM sessions WHERE expires_at<=?", "i", c->now);
	return rc < 0 ? rc : 0;
}

static int session_create(struct dam *dam, const struct auth_limits *l, const struct auth__user *u,
			  const char *pair_key, bool rehash, const char *password, char session_out[65],
			  struct actor *actor, struct dam_err *err)
{
	unsigned char raw[32], csrf_raw[32];
	char secret[65], csrf[65], hash[65], id[DAM_ID_LEN + 1], saved[128], newhash[128] = "";
	int64_t now = (int64_t)time_now_ms();
	struct session_insert ins;
	int rc;

	if (rehash && crypto_pwhash_str(newhash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
					crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		newhash[0] = '\0'; /* keep the old hash; it still verifies */
	randombytes_buf(raw, sizeof raw);
	randombytes_buf(csrf_raw, sizeof csrf_raw);
	sodium_bin2hex(secret, sizeof secret, raw, sizeof raw);
	sodium_bin2hex(csrf, sizeof csrf, csrf_raw, sizeof csrf_raw);
	auth__sha256_hex(raw, sizeof raw, hash);
	id_new(id);
	actor_swap(dam, u->username, saved);
	ins = (struct session_insert){ id, u->id, hash, csrf, newhash, pair_key, now,
				       now + (int64_t)l->absolute_s * 1000 };
	if ((rc = audit_tx(dam, "session.login", "session", id, session_insert_rows, &ins, err)) < 0)
		goto out;
	memcpy(session_out, secret, sizeof secret);
	if (actor) {
		auth__actor_user(actor, u->id, u->username, u->role);
		memcpy(actor->session_id, id, sizeof id);
		memcpy(actor->csrf, csrf, sizeof csrf);
	}
out:
	library_set_actor(dam, saved);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(newhash, sizeof newhash);
	return rc < 0 ? rc : 0;
}

int auth_login(struct dam *dam, const struct auth_limits *lim, const char *username, const char *password,
	       const char *client_addr, char session_out[65], struct actor *actor, int *retry_after_s,
	       struct dam_err *err)
{
	struct auth_limits l;
	struct auth__user u;
	struct throttle_keys k;
	const char *pw = password ? password : "";
	bool found = false, ok = false, rehash = false;
	int rc, wait = 0;

	if (retry_after_s)
		*retry_after_s = 0;
	if (actor)
		memset(actor, 0, sizeof *actor);
	session_out[0] = '\0';
	memset(&u, 0, sizeof u);
	limits_of(lim, &l);
	if (sodium_init() < 0)
		return dam_err_set(err, DAM_EIO, NULL, "libsodium failed to start");
	throttle_keys(username ? username : "", client_addr, &k);
	if ((rc = throttle_wait(dam, &l, &k, &wait, err)) < 0)
		return rc;
	if (wait) {
		if (retry_after_s)
			*retry_after_s = wait;
		return dam_err_set(err, DAM_ELIMIT, NULL, "too many failed logins, try again in %d s", wait);
	}
	rc = auth__user_get(dam, username, &u, err);
	if (rc < 0 && rc != DAM_ENOTFOUND)
		return rc;
	dam_err_clear(err);
	found = rc == 0;
	/* Same Argon2id work whether or not the user exists or is disabled. */
	if (found && strlen(pw) <= 1024) {
		ok = crypto_pwhash_str_verify(u.hash, pw, strlen(pw)) == 0 && !u.disabled && u.role != ROLE_NONE;
		rehash = ok && crypto_pwhash_str_needs_rehash(u.hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
							      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
	} else {
		dummy_verify(pw);
	}
	if (!ok) {
		failure_record(dam, &l, &k, username, client_addr, found ? u.id : NULL);
		rc = dam_err_set(err, DAM_EPERM, NULL, "%s", bad_login);
	} else {
		rc = session_create(dam, &l, &u, k.pair, rehash, pw, session_out, actor, err);
	}
	sodium_memzero(u.hash, sizeof u.hash);
	return rc < 0 ? rc : 0;
}

/* Best effort removal of an expired session. */
static void session_drop(struct dam *dam, const char *id)
{
	struct dam_err e;

	db_run(dam->db, &e, "DELETE FROM sessions WHERE id=?", "s", id);
}

int auth_session_check(struct dam *dam, const struct auth_limits *lim, const char *secret, struct actor *actor,
		       struct dam_err *err)
{
	struct auth_limits l;
	struct db_stmt *st;
	char hash[65], id[DAM_ID_LEN + 1] = "";
	int64_t now = (int64_t)time_now_ms(), created = 0, seen = 0, expires = 0;
	bool found = false, disabled = false;
	int rc;

	memset(actor, 0, sizeof *actor);
	limits_of(lim, &l);
	if (session_hash(secret, hash) < 0)
		return dam_err_set(err, DAM_EPERM, NULL, "%s", bad_session);
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT s.id, s.user_id, s.csrf, s.created_at, s.last_seen_at, s.expires_at,"
			   " u.username, u.role, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id"
			   " WHERE s.hash=?", "s", hash)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		found = true;
		snprintf(id, sizeof id, "%s", db_col_text(st, 0));
		auth__actor_user(actor, db_col_text(st, 1), db_col_text(st, 6), role_parse(db_col_text(st, 7)));
		memcpy(actor->session_id, id, sizeof id);
		snprintf(actor->csrf, sizeof actor->csrf, "%s", db_col_text(st, 2));
		created = db_col_int(st, 3);
		seen = db_col_int(st, 4);
		expires = db_col_int(st, 5);
		disabled = db_col_int(st, 8) != 0;
	}
	db_finalize(st);
	if (rc < 0) {
		memset(actor, 0, sizeof *actor);
		return rc;
	}
	/* Absolute expiry: the one fixed at login, or a shorter configured one. */
	if (found && (now >= expires || now >= created + (int64_t)l.absolute_s * 1000 ||
		      now >= seen + (int64_t)l.idle_s * 1000)) {
		session_drop(dam, id);
		found = false;
	}
	if (!found || disabled || actor->role == ROLE_NONE) {
		memset(actor, 0, sizeof *actor);
		return dam_err_set(err, DAM_EPERM, NULL, "%s", bad_session);
	}
	if (now - seen >= SEEN_EVERY_MS) {
		struct dam_err ignored;
		db_run(dam->db, &ignored, "UPDATE sessions SET last_seen_at=? WHERE id=?", "is", now, id);
	}
	return 0;
}

static int session_delete_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	int rc = db_run(dam->db, err, "DELETE FROM sessions WHERE id=?", "s", rec->object_id);

	return rc < 0 ? rc : 0;
}

int auth_logout(struct dam *dam, const char *secret, struct dam_err *err)
{
	struct db_stmt *st;
	char hash[65], id[DAM_ID_LEN + 1] = "", username[65] = "", saved[128];
	int rc;

	if (session_hash(secret, hash) < 0)
		return dam_err_set(err, DAM_ENOTFOUND, NULL, "no such session");
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT s.id, u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash=?",
			   "s", hash)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		snprintf(id, sizeof id, "%s", db_col_text(st, 0));
		snprintf(username, sizeof username, "%s", db_col_text(st, 1));
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (!id[0])
		return dam_err_set(err, DAM_ENOTFOUND, NULL, "no such session");
	actor_swap(dam, username, saved);
	rc = audit_tx(dam, "session.logout", "session", id, session_delete_rows, NULL, err);
	library_set_actor(dam, saved);
	return rc < 0 ? rc : 0;
}

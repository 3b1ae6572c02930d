#include "testutil.h"

#include <sodium.h>

#include "core/audit.h"
#include "core/auth.h"
#include "core/library.h"
#include "util/timeutil.h"

#define PW "correct horse battery"

struct fx {
	char *dir;
	struct dam *dam;
	struct auth_limits lim;
	char admin[DAM_ID_LEN + 1], editor[DAM_ID_LEN + 1], contrib[DAM_ID_LEN + 1], viewer[DAM_ID_LEN + 1];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char lib[4200];

	/* the controllable clock: stopped, moved only by time_test_shift_ms */
	time_test_freeze(time_now_ms());
	f->dir = tu_tempdir();
	snprintf(lib, sizeof lib, "%s/lib", f->dir);
	assert_int_equal(library_init(lib, NULL), 0);
	assert_int_equal(library_open(lib, &f->dam, NULL), 0);
	library_set_actor(f->dam, "test:auth");
	f->lim = (struct auth_limits){ .idle_s = 3600, .absolute_s = 7200, .max_failures = 3, .window_s = 60,
				       .account_failures = 6, .address_free = 4, .address_delay_max_s = 8 };
	assert_int_equal(user_add(f->dam, "root", PW, ROLE_ADMIN, f->admin, NULL, NULL), 0);
	assert_int_equal(user_add(f->dam, "Ed", PW, ROLE_EDITOR, f->editor, NULL, NULL), 0);
	assert_int_equal(user_add(f->dam, "con", PW, ROLE_CONTRIBUTOR, f->contrib, NULL, NULL), 0);
	assert_int_equal(user_add(f->dam, "view", PW, ROLE_VIEWER, f->viewer, NULL, NULL), 0);
	*state = f;
	return 0;
}

/* Every test ends with an intact audit chain. */
static int teardown(void **state)
{
	struct fx *f = *state;
	struct audit_problem p;

	assert_true(audit_verify(f->dam, &p, NULL) > 0);
	library_close(f->dam);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	time_test_freeze(0);
	return 0;
}

static int login(struct fx *f, const char *user, const char *pw, const char *addr, char sess[65],
		 struct actor *a, int *retry, struct dam_err *err)
{
	return auth_login(f->dam, &f->lim, user, pw, addr, sess, a, retry, err);
}

static int64_t count(struct fx *f, const char *sql, const char *arg)
{
	int64_t n = -1;

	assert_int_equal(db_query_int(f->dam->db, &n, NULL, sql, "s", arg), 0);
	return n;
}

static void test_users_validate(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	char gen[32] = "";
	int64_t n = 0;
	json_t *list;

	assert_int_equal(user_add(f->dam, "bad name", PW, ROLE_VIEWER, NULL, NULL, &err), DAM_EINVAL);
	assert_int_equal(user_add(f->dam, "", PW, ROLE_VIEWER, NULL, NULL, &err), DAM_EINVAL);
	assert_int_equal(user_add(f->dam, "shorty", "short", ROLE_VIEWER, NULL, NULL, &err), DAM_EINVAL);
	assert_int_equal(user_add(f->dam, "x", PW, ROLE_NONE, NULL, NULL, &err), DAM_EINVAL);
	assert_int_equal(user_add(f->dam, "ED", PW, ROLE_VIEWER, NULL, NULL, &err), DAM_EEXIST);
	assert_int_equal(user_add(f->dam, "gen.user@x", NULL, ROLE_VIEWER, NULL, gen, &err), 0);
	assert_int_equal(strlen(gen), 20);
	assert_int_equal(user_count(f->dam, &n, NULL), 0);
	assert_int_equal(n, 5);
	assert_int_equal(user_list(f->dam, &list, NULL), 0);
	assert_int_equal(json_array_size(list), 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "username")), "con");
	json_decref(list);
	assert_int_equal(role_parse("editor"), ROLE_EDITOR);
	assert_int_equal(role_parse("root"), ROLE_NONE);
	assert_string_equal(role_name(ROLE_CONTRIBUTOR), "contributor");
	/* nothing secret in the audit trail */
	assert_int_equal(user_set_password(f->dam, "view", "another password", NULL), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE ifnull(before,'') || ifnull(after,'') LIKE ?",
			       "%argon2%"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE action=?", "user.password"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM users WHERE password_hash LIKE ?", "$argon2id$%"), 5);
}

static void test_login_password(void **state)
{
	struct fx *f = *state;
	struct dam_err err, err2;
	struct actor a;
	char sess[65], dummy[128];
	int retry = -1;

	assert_int_equal(login(f, "ed", PW, "10.0.0.1", sess, &a, &retry, &err), 0);
	assert_int_equal(strlen(sess), 64);
	assert_int_equal(a.kind, ACTOR_USER);
	assert_int_equal(a.role, ROLE_EDITOR);
	assert_string_equal(a.user_id, f->editor);
	assert_string_equal(a.username, "Ed");
	assert_int_equal(strlen(a.csrf), 64);
	assert_true(a.session_id[0]);
	assert_int_equal(retry, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE action='session.login' AND actor=?", "user:Ed"), 1);
	assert_string_equal(f->dam->actor, "test:auth"); /* restored */
	assert_int_equal(count(f, "SELECT count(*) FROM users WHERE last_login_at IS NOT NULL AND id=?", f->editor), 1);

	assert_int_equal(login(f, "ed", "wrong password", "10.0.0.1", sess, &a, &retry, &err), DAM_EPERM);
	assert_int_equal(a.kind, ACTOR_ANONYMOUS);
	assert_int_equal(login(f, "nobody", "wrong password", "10.0.0.1", sess, &a, &retry, &err2), DAM_EPERM);
	assert_string_equal(err.msg, "invalid username or password");
	assert_string_equal(err.msg, err2.msg);
	assert_int_equal(login(f, NULL, NULL, NULL, sess, &a, &retry, &err2), DAM_EPERM);
	assert_string_equal(err.msg, err2.msg);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind=?", "login_failed"), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE data LIKE ?", "%\"username\":\"nobody\"%"), 1);

	/* a hash made with weaker parameters is upgraded at the next login */
	assert_int_equal(crypto_pwhash_str(dummy, PW, strlen(PW), crypto_pwhash_OPSLIMIT_MIN,
					   crypto_pwhash_MEMLIMIT_MIN), 0);
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE users SET password_hash=? WHERE id=?", "ss", dummy, f->viewer), 1);
	assert_int_equal(login(f, "view", PW, NULL, sess, &a, NULL, &err), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM users WHERE password_hash=?", dummy), 0);
	assert_int_equal(login(f, "view", PW, NULL, sess, &a, NULL, &err), 0);
}

#define BAD "nope nope nope"

/* One attacker guessing one account from one address locks only that
 * (account, address) pair: the owner elsewhere still gets in. */
static void test_throttle_pair(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	struct actor a;
	char sess[65];
	int retry = 0;

	/* a success clears its pair's counter */
	for (int i = 0; i < 2; i++)
		assert_int_equal(login(f, "con", BAD, "192.0.2.50", sess, &a, &retry, &err), DAM_EPERM);
	assert_int_equal(login(f, "con", PW, "192.0.2.50", sess, &a, &retry, &err), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(login(f, "con", BAD, "192.0.2.50", sess, &a, &retry, &err), DAM_EPERM);
	/* (four failures from the address: it waits its 1 s; the pair, had it
	 * kept four failures, would be locked for the whole minute) */
	assert_int_equal(login(f, "con", PW, "192.0.2.50", sess, &a, &retry, &err), DAM_ELIMIT);
	assert_int_equal(retry, 1);
	time_test_shift_ms(1000);
	assert_int_equal(login(f, "con", PW, "192.0.2.50", sess, &a, &retry, &err), 0);

	/* three failures from one address, case-insensitively one account */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(login(f, i % 2 ? "ED" : "ed", BAD, "192.0.2.1", sess, &a, &retry, &err), DAM_EPERM);
		assert_int_equal(retry, 0);
	}
	assert_int_equal(login(f, "Ed", PW, "192.0.2.1", sess, &a, &retry, &err), DAM_ELIMIT);
	assert_int_equal(retry, 60); /* until the first failure leaves the 60 s window */
	assert_non_null(strstr(err.msg, "too many failed logins"));
	assert_int_equal(sess[0], '\0');
	/* refused attempts are not counted */
	assert_int_equal(count(f, "SELECT count(*) FROM login_failures WHERE key=?", "pair:192.0.2.1 ed"), 3);
	/* the owner, from another address, gets in; so does anyone else from the attacker's */
	assert_int_equal(login(f, "Ed", PW, "198.51.100.7", sess, &a, &retry, &err), 0);
	assert_int_equal(retry, 0);
	assert_int_equal(login(f, "view", PW, "192.0.2.1", sess, &a, &retry, &err), 0);
	/* an unknown account is throttled the same way */
	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, "ghost", BAD, "192.0.2.2", sess, &a, &retry, &err), DAM_EPERM);
	assert_int_equal(login(f, "ghost", BAD, "192.0.2.2", sess, &a, &retry, &err), DAM_ELIMIT);
	/* once the window has passed, the pair may try again */
	time_test_shift_ms(61000);
	assert_int_equal(login(f, "Ed", PW, "192.0.2.1", sess, &a, &retry, &err), 0);
	assert_int_equal(retry, 0);
}

/* An IPv6 client counts as its /64 (one host can take any address in it),
 * and an IPv4-mapped address as its IPv4 address. */
static void test_throttle_ipv6(void **state)
{
	struct fx *f = *state;
	const char *same64[] = { "2001:db8:1:2::a", "2001:DB8:1:2::b", "2001:db8:1:2:ffff:ffff:ffff:ffff" };
	struct dam_err err;
	struct actor a;
	char sess[65];
	int retry = 0;

	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, "ed", BAD, same64[i], sess, &a, &retry, &err), DAM_EPERM);
	assert_int_equal(login(f, "ed", PW, "2001:db8:1:2:1234::1", sess, &a, &retry, &err), DAM_ELIMIT);
	assert_int_equal(retry, 60);
	assert_int_equal(count(f, "SELECT count(*) FROM login_failures WHERE key=?", "pair:2001:db8:1:2::/64 ed"), 3);
	/* the next /64 is another address */
	assert_int_equal(login(f, "ed", PW, "2001:db8:1:3::1", sess, &a, &retry, &err), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, "con", BAD, "192.0.2.9", sess, &a, &retry, &err), DAM_EPERM);
	assert_int_equal(login(f, "con", PW, "::ffff:192.0.2.9", sess, &a, &retry, &err), DAM_ELIMIT);
}

/* A flood at one account from many addresses locks the account itself. */
static void test_throttle_account(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	struct actor a;
	char sess[65], addr[32];
	int retry = 0;

	for (int i = 0; i < 6; i++) {
		snprintf(addr, sizeof addr, "192.0.2.%d", 100 + i);
		assert_int_equal(login(f, "view", BAD, addr, sess, &a, &retry, &err), DAM_EPERM);
	}
	assert_int_equal(login(f, "VIEW", PW, "198.51.100.20", sess, &a, &retry, &err), DAM_ELIMIT);
	assert_int_equal(retry, 60);
	/* other accounts from those addresses are not touched */
	assert_int_equal(login(f, "con", PW, "192.0.2.100", sess, &a, &retry, &err), 0);
	time_test_shift_ms(61000);
	assert_int_equal(login(f, "view", PW, "198.51.100.20", sess, &a, &retry, &err), 0);
}

/* The office: an attacker behind the office's one NAT address tries many
 * accounts. The address gets an exponentially growing delay, capped, that
 * colleagues there only wait out; it never locks them out. */
static void test_throttle_office(void **state)
{
	struct fx *f = *state;
	const char *office = "203.0.113.9";
	const int want[] = { 1, 2, 4, 8, 8 }; /* address_free 4, cap 8 s */
	struct dam_err err;
	struct actor a;
	char sess[65], name[32];
	int retry = 0, n = 0;

	for (; n < 4; n++) {
		snprintf(name, sizeof name, "guess%d", n);
		assert_int_equal(login(f, name, BAD, office, sess, &a, &retry, &err), DAM_EPERM);
	}
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++, n++) {
		/* anyone at the office waits the delay, even with the right password */
		assert_int_equal(login(f, "view", PW, office, sess, &a, &retry, &err), DAM_ELIMIT);
		assert_int_equal(retry, want[i]);
		assert_non_null(strstr(err.msg, "try again in"));
		/* nobody elsewhere does */
		assert_int_equal(login(f, "view", PW, "198.51.100.30", sess, &a, &retry, &err), 0);
		/* just before the delay is over: still waiting; then the next guess */
		time_test_shift_ms((int64_t)want[i] * 1000 - 300);
		assert_int_equal(login(f, "con", PW, office, sess, &a, &retry, &err), DAM_ELIMIT);
		assert_int_equal(retry, 1);
		time_test_shift_ms(300);
		snprintf(name, sizeof name, "guess%d", n);
		assert_int_equal(login(f, name, BAD, office, sess, &a, &retry, &err), DAM_EPERM);
	}
	/* a colleague whose account is not throttled gets in once the delay is
	 * over, though the address has 9 failures in the window */
	time_test_shift_ms(8000);
	assert_int_equal(login(f, "con", PW, office, sess, &a, &retry, &err), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM login_failures WHERE key=?", "addr:203.0.113.9"), 9);
	/* a success there does not clear the address's counter */
	assert_int_equal(login(f, "guess99", BAD, office, sess, &a, &retry, &err), DAM_EPERM);
	assert_int_equal(login(f, "view", PW, office, sess, &a, &retry, &err), DAM_ELIMIT);
	assert_int_equal(retry, 8);
	/* the window forgets: failures older than 60 s no longer slow anyone */
	time_test_shift_ms(61000);
	assert_int_equal(login(f, "view", PW, office, sess, &a, &retry, &err), 0);
	assert_int_equal(retry, 0);
}

static void test_tokens(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	struct actor a;
	char id[DAM_ID_LEN + 1], id2[DAM_ID_LEN + 1], secret[64], secret2[64], owner[DAM_ID_LEN + 1];
	json_t *list;
	char *dump, keep, pattern[80];

	assert_int_equal(token_create(f->dam, "ed", "ci", ROLE_NONE, 0, id, secret, &err), 0);
	assert_int_equal(strlen(secret), 47);
	assert_memory_equal(secret, "dam_", 4);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), 0);
	assert_int_equal(a.kind, ACTOR_USER);
	assert_int_equal(a.role, ROLE_EDITOR);
	assert_string_equal(a.token_id, id);
	assert_string_equal(a.user_id, f->editor);
	assert_int_equal(a.session_id[0], '\0');
	assert_int_equal(count(f, "SELECT count(*) FROM tokens WHERE last_used_at IS NOT NULL AND id=?", id), 1);
	assert_int_equal(token_owner(f->dam, id, owner, NULL), 0);
	assert_string_equal(owner, f->editor);

	/* wrong secrets */
	keep = secret[10];
	secret[10] = keep == 'A' ? 'B' : 'A';
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), DAM_EPERM);
	assert_int_equal(a.kind, ACTOR_ANONYMOUS);
	assert_int_equal(auth_token_check(f->dam, "dam_short", &a, &err), DAM_EPERM);
	assert_int_equal(auth_token_check(f->dam, NULL, &a, &err), DAM_EPERM);

	/* role never above the user's */
	assert_int_equal(token_create(f->dam, "ed", "x", ROLE_ADMIN, 0, id2, secret2, &err), DAM_EINVAL);
	assert_int_equal(token_create(f->dam, "ed", "x", ROLE_NONE, time_now_ms() - 1000, id2, secret2, &err),
			 DAM_EINVAL);
	assert_int_equal(token_create(f->dam, "nobody", "x", ROLE_NONE, 0, id2, secret2, &err), DAM_ENOTFOUND);
	assert_int_equal(token_create(f->dam, "ed", "reader", ROLE_VIEWER, time_now_ms() + 3600000, id2, secret2,
				      &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret2, &a, &err), 0);
	assert_int_equal(a.role, ROLE_VIEWER);

	/* demoting the user caps the token at check time */
	secret[10] = keep;
	assert_int_equal(user_set_role(f->dam, "ed", ROLE_CONTRIBUTOR, &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), 0);
	assert_int_equal(a.role, ROLE_CONTRIBUTOR);
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE action='user.role' AND before LIKE ?",
			       "%editor%"), 1);

	/* expired */
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE tokens SET expires_at=? WHERE id=?", "is",
				(int64_t)time_now_ms() - 1, id2), 1);
	assert_int_equal(auth_token_check(f->dam, secret2, &a, &err), DAM_EPERM);

	/* listed without secrets */
	assert_int_equal(token_list(f->dam, "ED", &list, &err), 0);
	assert_int_equal(json_array_size(list), 2);
	dump = json_dumps(list, 0);
	assert_null(strstr(dump, secret + 4));
	assert_null(strstr(dump, secret2 + 4));
	assert_non_null(strstr(dump, "\"expired\": true"));
	free(dump);
	json_decref(list);
	assert_int_equal(token_list(f->dam, "view", &list, &err), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	snprintf(pattern, sizeof pattern, "%%%s%%", secret + 4);
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE ifnull(after,'') LIKE ?", pattern), 0);

	/* revoked */
	assert_int_equal(token_revoke(f->dam, id, &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), DAM_EPERM);
	assert_int_equal(token_revoke(f->dam, id, &err), DAM_ECONFLICT);
	assert_int_equal(token_revoke(f->dam, "no-such-token", &err), DAM_ENOTFOUND);
}

/* Statements a check ran (cache hits + prepares). */
static uint64_t stmts(struct dam *dam)
{
	struct db_cache_stats c;

	db_cache_stats(dam->db, &c);
	return c.hits + c.prepares;
}

/* Verified tokens are remembered, but revoking, disabling, demoting or
 * expiring takes effect at the very next check, whether the change was made
 * through this handle or another connection (another thread, or the CLI in
 * another process). */
static void test_token_cache_revocation(void **state)
{
	struct fx *f = *state;
	char id[DAM_ID_LEN + 1], secret[64], id2[DAM_ID_LEN + 1], secret2[64], lib[4200];
	struct dam *other;
	struct dam_err err;
	struct actor a;
	uint64_t n;

	snprintf(lib, sizeof lib, "%s/lib", f->dir);
	assert_int_equal(library_open(lib, &other, NULL), 0);
	library_set_actor(other, "test:other");
	assert_int_equal(token_create(f->dam, "ed", "c", ROLE_NONE, 0, id, secret, &err), 0);
	assert_int_equal(token_create(f->dam, "ed", "d", ROLE_NONE, time_now_ms() + 1500, id2, secret2, &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), 0); /* first use: writes last_used_at */
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), 0); /* remembered from here */
	n = stmts(f->dam);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), 0);
	assert_int_equal(stmts(f->dam) - n, 1); /* the version only, no token query */
	assert_int_equal(a.role, ROLE_EDITOR);
	assert_string_equal(a.token_id, id);

	/* Demoted by another connection: the next check sees it. */
	assert_int_equal(user_set_role(other, "ed", ROLE_VIEWER, &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), 0);
	assert_int_equal(a.role, ROLE_VIEWER);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), 0);
	/* Disabled, then enabled, by another connection. */
	assert_int_equal(user_set_disabled(other, "ed", true, &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), DAM_EPERM);
	assert_int_equal(user_set_disabled(other, "ed", false, &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), 0);
	/* Revoked by another connection. */
	assert_int_equal(token_revoke(other, id, &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), DAM_EPERM);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), DAM_EPERM);

	/* Revoked through the same handle (this connection's own commit). */
	{
		char id3[DAM_ID_LEN + 1], secret3[64];
		assert_int_equal(token_create(f->dam, "ed", "e", ROLE_NONE, 0, id3, secret3, &err), 0);
		assert_int_equal(auth_token_check(f->dam, secret3, &a, &err), 0);
		assert_int_equal(auth_token_check(f->dam, secret3, &a, &err), 0);
		assert_int_equal(auth_token_check(f->dam, secret3, &a, &err), 0);
		assert_int_equal(token_revoke(f->dam, id3, &err), 0);
		assert_int_equal(auth_token_check(f->dam, secret3, &a, &err), DAM_EPERM);
	}
	assert_int_equal(auth_token_check(f->dam, secret2, &a, &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret2, &a, &err), 0);
	n = stmts(f->dam);
	assert_int_equal(auth_token_check(f->dam, secret2, &a, &err), 0);
	assert_int_equal(stmts(f->dam) - n, 1);
	/* Past its expiry a remembered token is refused, with no commit in
	 * between to change the version. */
	time_test_shift_ms(1600);
	assert_int_equal(auth_token_check(f->dam, secret2, &a, &err), DAM_EPERM);
	library_close(other);
}

static void test_disabled_user(void **state)
{
	struct fx *f = *state;
	struct dam_err err, err2;
	struct actor a;
	char id[DAM_ID_LEN + 1], secret[64], sess[65];

	assert_int_equal(token_create(f->dam, "view", NULL, ROLE_NONE, 0, id, secret, &err), 0);
	assert_int_equal(login(f, "view", PW, NULL, sess, &a, NULL, &err), 0);
	assert_int_equal(auth_session_check(f->dam, &f->lim, sess, &a, &err), 0);
	assert_int_equal(user_set_disabled(f->dam, "view", true, &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), DAM_EPERM);
	assert_int_equal(auth_session_check(f->dam, &f->lim, sess, &a, &err), DAM_EPERM);
	assert_int_equal(login(f, "view", PW, NULL, sess, &a, NULL, &err), DAM_EPERM);
	assert_int_equal(login(f, "nobody", PW, NULL, sess, &a, NULL, &err2), DAM_EPERM);
	assert_string_equal(err.msg, err2.msg);
	assert_int_equal(token_create(f->dam, "view", NULL, ROLE_NONE, 0, id, secret, &err), DAM_ECONFLICT);
	/* enabling brings tokens back; the ended session stays ended */
	assert_int_equal(user_set_disabled(f->dam, "view", false, &err), 0);
	assert_int_equal(auth_token_check(f->dam, secret, &a, &err), 0);
	assert_int_equal(auth_session_check(f->dam, &f->lim, sess, &a, &err), DAM_EPERM);
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE action IN ('user.disable','user.enable') AND object_id=?",
			       f->viewer), 2);
	/* the last enabled admin cannot be disabled or demoted */
	assert_int_equal(user_set_disabled(f->dam, "root", true, &err), DAM_ECONFLICT);
	assert_int_equal(user_set_role(f->dam, "root", ROLE_EDITOR, &err), DAM_ECONFLICT);
	assert_int_equal(user_set_role(f->dam, "ed", ROLE_ADMIN, &err), 0);
	assert_int_equal(user_set_disabled(f->dam, "root", true, &err), 0);
}

static void test_sessions(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	struct actor a, b;
	char sess[65], bad[65];
	int64_t now = (int64_t)time_now_ms();

	assert_int_equal(login(f, "con", PW, NULL, sess, &a, NULL, &err), 0);
	assert_int_equal(auth_session_check(f->dam, &f->lim, sess, &b, &err), 0);
	assert_int_equal(b.role, ROLE_CONTRIBUTOR);
	assert_string_equal(b.session_id, a.session_id);
	assert_string_equal(b.csrf, a.csrf);
	assert_true(auth_csrf_equal(a.csrf, b.csrf));
	assert_false(auth_csrf_equal(a.csrf, "abc"));
	assert_false(auth_csrf_equal(a.csrf, NULL));
	assert_int_equal(b.token_id[0], '\0');
	memcpy(bad, sess, sizeof bad);
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	assert_int_equal(auth_session_check(f->dam, &f->lim, bad, &b, &err), DAM_EPERM);
	assert_int_equal(auth_session_check(f->dam, &f->lim, "zz", &b, &err), DAM_EPERM);
	assert_int_equal(count(f, "SELECT count(*) FROM sessions WHERE hash=?", sess), 0); /* hash only */

	/* the idle timer is refreshed */
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE sessions SET last_seen_at=? WHERE id=?", "is",
				now - 120000, a.session_id), 1);
	assert_int_equal(auth_session_check(f->dam, &f->lim, sess, &b, &err), 0);
	assert_int_equal(count(f, "SELECT last_seen_at >= strftime('%s','now')*1000 - 5000 FROM sessions WHERE id=?",
			       a.session_id), 1);
	/* idle expiry */
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE sessions SET last_seen_at=? WHERE id=?", "is",
				now - 3601000, a.session_id), 1);
	assert_int_equal(auth_session_check(f->dam, &f->lim, sess, &b, &err), DAM_EPERM);
	assert_int_equal(b.kind, ACTOR_ANONYMOUS);

	/* absolute expiry, even when in use */
	assert_int_equal(login(f, "con", PW, NULL, sess, &a, NULL, &err), 0);
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE sessions SET created_at=?, last_seen_at=? WHERE id=?", "iis",
				now - 7201000, now, a.session_id), 1);
	assert_int_equal(auth_session_check(f->dam, &f->lim, sess, &b, &err), DAM_EPERM);
	assert_int_equal(login(f, "con", PW, NULL, sess, &a, NULL, &err), 0);
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE sessions SET expires_at=? WHERE id=?", "is", now - 1,
				a.session_id), 1);
	assert_int_equal(auth_session_check(f->dam, &f->lim, sess, &b, &err), DAM_EPERM);

	/* logout */
	assert_int_equal(login(f, "con", PW, NULL, sess, &a, NULL, &err), 0);
	assert_int_equal(auth_logout(f->dam, sess, &err), 0);
	assert_int_equal(auth_session_check(f->dam, &f->lim, sess, &b, &err), DAM_EPERM);
	assert_int_equal(auth_logout(f->dam, sess, &err), DAM_ENOTFOUND);
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE action='session.logout' AND actor=?", "user:con"), 1);

	/* a new password ends sessions */
	assert_int_equal(login(f, "con", PW, NULL, sess, &a, NULL, &err), 0);
	assert_int_equal(user_set_password(f->dam, "con", "a new password", &err), 0);
	assert_int_equal(auth_session_check(f->dam, &f->lim, sess, &b, &err), DAM_EPERM);
	assert_int_equal(login(f, "con", PW, NULL, sess, &a, NULL, &err), DAM_EPERM);
	assert_int_equal(login(f, "con", "a new password", NULL, sess, &a, NULL, &err), 0);
}

static void test_can_matrix(void **state)
{
	struct fx *f = *state;
	/* rows: actions; columns: viewer, contributor, editor, admin, system, anonymous */
	static const struct {
		enum auth_action action;
		bool allow[6];
	} m[] = {
		{ AUTH_ASSET_READ, { 1, 1, 1, 1, 1, 0 } },
		{ AUTH_ASSET_DOWNLOAD, { 1, 1, 1, 1, 1, 0 } },
		{ AUTH_ASSET_CREATE, { 0, 1, 1, 1, 1, 0 } },
		{ AUTH_ASSET_EDIT, { 0, 0, 1, 1, 1, 0 } }, /* on someone else's asset */
		{ AUTH_ASSET_DELETE, { 0, 0, 1, 1, 1, 0 } },
		{ AUTH_JOBS_READ, { 0, 0, 1, 1, 1, 0 } },
		{ AUTH_JOBS_MANAGE, { 0, 0, 0, 1, 1, 0 } },
		{ AUTH_USERS_MANAGE, { 0, 0, 0, 1, 1, 0 } },
		{ AUTH_TOKENS_OWN, { 1, 1, 1, 1, 1, 0 } },
		{ AUTH_METRICS_READ, { 0, 0, 0, 1, 1, 0 } },
	};
	struct actor actors[6];
	struct auth_object other = { "asset", "a1", f->admin }, own = { "asset", "a2", f->contrib };
	struct auth_object unknown = { "asset", "a3", NULL }, empty = { "asset", "a4", "" };

	auth__actor_user(&actors[0], f->viewer, "view", ROLE_VIEWER);
	auth__actor_user(&actors[1], f->contrib, "con", ROLE_CONTRIBUTOR);
	auth__actor_user(&actors[2], f->editor, "Ed", ROLE_EDITOR);
	auth__actor_user(&actors[3], f->admin, "root", ROLE_ADMIN);
	memset(&actors[4], 0, sizeof actors[4]);
	actors[4].kind = ACTOR_SYSTEM;
	memset(&actors[5], 0, sizeof actors[5]);
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		for (int r = 0; r < 6; r++) {
			if (auth_can(&actors[r], m[i].action, &other) != m[i].allow[r])
				fail_msg("action %d, actor %d: expected %d", m[i].action, r, m[i].allow[r]);
			if (m[i].action != AUTH_ASSET_EDIT && auth_can(&actors[r], m[i].action, NULL) != m[i].allow[r])
				fail_msg("action %d, actor %d without object", m[i].action, r);
		}
	/* contributors edit what they created, and nothing else */
	assert_true(auth_can(&actors[1], AUTH_ASSET_EDIT, &own));
	assert_false(auth_can(&actors[1], AUTH_ASSET_EDIT, &unknown));
	assert_false(auth_can(&actors[1], AUTH_ASSET_EDIT, &empty));
	assert_false(auth_can(&actors[1], AUTH_ASSET_EDIT, NULL));
	assert_false(auth_can(&actors[1], AUTH_ASSET_DELETE, &own));
	assert_false(auth_can(&actors[0], AUTH_ASSET_EDIT, &(struct auth_object){ "asset", "a5", f->viewer }));
	/* anonymous, NULL, or a user without a role: nothing */
	assert_false(auth_can(&actors[5], AUTH_ASSET_READ, &own));
	assert_false(auth_can(NULL, AUTH_ASSET_READ, NULL));
	actors[0].role = ROLE_NONE;
	assert_false(auth_can(&actors[0], AUTH_ASSET_READ, NULL));
	assert_false(auth_can(&actors[3], (enum auth_action)99, NULL));
}

static void test_bootstrap(void **state)
{
	struct dam *dam;
	struct actor a;
	char *dir = tu_tempdir(), lib[4200], user[64], pw[64], sess[65];
	bool created = false;
	int64_t n = -1;

	(void)state;
	snprintf(lib, sizeof lib, "%s/lib", dir);
	assert_int_equal(library_init(lib, NULL), 0);
	assert_int_equal(library_open(lib, &dam, NULL), 0);
	assert_int_equal(user_count(dam, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(auth_bootstrap_admin(dam, user, pw, &created, NULL), 0);
	assert_true(created);
	assert_string_equal(user, "admin");
	assert_true(strlen(pw) >= 20);
	assert_int_equal(auth_login(dam, NULL, "admin", pw, "127.0.0.1", sess, &a, NULL, NULL), 0);
	assert_int_equal(a.role, ROLE_ADMIN);
	assert_int_equal(auth_bootstrap_admin(dam, user, pw, &created, NULL), 0);
	assert_false(created);
	assert_string_equal(pw, "");
	assert_int_equal(user_count(dam, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_true(audit_verify(dam, NULL, NULL) > 0);
	library_close(dam);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_users_validate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_pair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_office, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_cache_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_can_matrix, setup, teardown),
		cmocka_unit_test(test_bootstrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

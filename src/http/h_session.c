/* h_session.c - browser sessions: log in, who am I, log out. */
#include <stdio.h>
#include <string.h>

#include "http/handlers.h"

static void set_cookie(const struct http_req *req, struct http_res *res, const char *value, int max_age)
{
	http_res_headerf(res, "set-cookie", "dam_session=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s", value,
			 max_age, req->tls ? "; Secure" : "");
}

static json_t *whoami(const struct actor *a)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "user_id", a->user_id, "username", a->username, "role",
			 role_name(a->role), "csrf_token", a->csrf);
}

HANDLER(h_session_create)
{
	static const char *const keys[] = { "username", "password", NULL };
	const char *user, *pass;
	struct auth_limits lim;
	struct actor actor;
	struct dam_err err;
	char session[65];
	int retry = 0;
	json_t *body;

	if (http_json_body(req, res, keys, &body) < 0)
		return;
	user = json_string_value(json_object_get(body, "username"));
	pass = json_string_value(json_object_get(body, "password"));
	if (!user || !pass) {
		http_res_error(res, 400, "invalid", "username and password (strings) are required",
			       !user ? "username" : "password");
		goto out;
	}
	server_auth_limits(srv, &lim);
	library_set_actor(dam, "anonymous");
	if (auth_login(dam, &lim, user, pass, req->client, session, &actor, &retry, &err) < 0) {
		if (err.code == DAM_ELIMIT) {
			http_res_error(res, 429, "too_many_attempts", err.msg, NULL);
			http_res_headerf(res, "retry-after", "%d", retry > 0 ? retry : 60);
		} else if (err.code == DAM_EPERM || err.code == DAM_EINVAL) {
			http_res_error(res, 401, "invalid_credentials", "invalid username or password", NULL);
		} else {
			http_res_dam_error(res, &err);
		}
		goto out;
	}
	set_cookie(req, res, session, lim.absolute_s);
	http_res_json(res, 201, whoami(&actor));
out:
	json_decref(body);
}

HANDLER(h_session_get)
{
	json_t *j = whoami(&req->actor);

	json_object_set_new(j, "authenticated_by", json_string(req->via_cookie ? "session" : "token"));
	if (!req->via_cookie)
		json_object_del(j, "csrf_token");
	http_res_json(res, 200, j);
}

HANDLER(h_session_delete)
{
	struct dam_err err;
	char sess[96] = "";
	const char *c = http_req_header(req, "cookie"), *p;

	if (!req->via_cookie) {
		http_res_error(res, 400, "no_session", "this request is not made with a session cookie", NULL);
		return;
	}
	if (c && (p = strstr(c, "dam_session="))) {
		size_t n = strcspn(p + 12, ";");
		snprintf(sess, sizeof sess, "%.*s", (int)(n < 95 ? n : 95), p + 12);
	}
	if (auth_logout(dam, sess, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	set_cookie(req, res, "", 0);
	res->status = 204;
}

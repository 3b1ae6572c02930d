/* h_accounts.c - users (admin) and API tokens (one's own; admins: all). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/handlers.h"
#include "util/timeutil.h"

/* The users list entry for username (case-insensitive), or NULL. */
static json_t *user_entry(struct dam *dam, const char *username, struct dam_err *err)
{
	json_t *list, *u, *found = NULL;
	size_t i;

	if (user_list(dam, &list, err) < 0)
		return NULL;
	json_array_foreach(list, i, u)
		if (!strcasecmp(json_string_value(json_object_get(u, "username")), username))
			found = json_incref(u);
	json_decref(list);
	if (!found)
		dam_err_set(err, DAM_ENOTFOUND, "username", "no user %s", username);
	return found;
}

/* A role member of a body: ROLE_NONE (and 400 in res) when not a role. */
static enum role body_role(json_t *body, const char *key, struct http_res *res)
{
	json_t *v = json_object_get(body, key);
	enum role r = json_is_string(v) ? role_parse(json_string_value(v)) : ROLE_NONE;

	if (r == ROLE_NONE)
		http_res_error(res, 400, "invalid", "role is one of viewer, contributor, editor, admin", key);
	return r;
}

HANDLER(h_users_list)
{
	struct dam_err err;
	json_t *list;

	if (!http_allow(req, res, AUTH_USERS_MANAGE, NULL))
		return;
	if (user_list(dam, &list, &err) < 0)
		http_res_dam_error(res, &err);
	else
		http_res_json(res, 200, json_pack("{s:o}", "items", list));
}

HANDLER(h_users_create)
{
	static const char *const keys[] = { "username", "role", "password", NULL };
	const char *name, *pass;
	char id[DAM_ID_LEN + 1], generated[64] = "";
	struct dam_err err;
	json_t *body = NULL, *u;
	enum role role;

	if (!http_allow(req, res, AUTH_USERS_MANAGE, NULL) || http_json_body(req, res, keys, &body) < 0)
		return;
	name = json_string_value(json_object_get(body, "username"));
	pass = json_string_value(json_object_get(body, "password"));
	if (!name) {
		http_res_error(res, 400, "invalid", "username (a string) is required", "username");
		goto out;
	}
	if (json_object_get(body, "password") && !pass) {
		http_res_error(res, 400, "invalid", "password must be a string; leave it out to generate one", "password");
		goto out;
	}
	if ((role = body_role(body, "role", res)) == ROLE_NONE)
		goto out;
	if (user_add(dam, name, pass && *pass ? pass : NULL, role, id, generated, &err) < 0 ||
	    !(u = user_entry(dam, name, &err))) {
		http_res_dam_error(res, &err);
		goto out;
	}
	if (*generated)
		json_object_set_new(u, "password", json_string(generated));
	http_res_json(res, 201, u);
out:
	json_decref(body);
}

HANDLER(h_user_patch)
{
	static const char *const keys[] = { "role", "disabled", "password", NULL };
	const char *name = req->params[0];
	struct dam_err err;
	json_t *body = NULL, *v, *u;
	int rc = 0;

	if (!http_allow(req, res, AUTH_USERS_MANAGE, NULL) || http_json_body(req, res, keys, &body) < 0)
		return;
	if ((v = json_object_get(body, "disabled")) && !json_is_boolean(v)) {
		http_res_error(res, 400, "invalid", "disabled is true or false", "disabled");
		goto out;
	}
	if ((v = json_object_get(body, "password")) && (!json_is_string(v) || !*json_string_value(v))) {
		http_res_error(res, 400, "invalid", "password is a non-empty string", "password");
		goto out;
	}
	if (json_object_get(body, "role")) {
		enum role role = body_role(body, "role", res);
		if (role == ROLE_NONE)
			goto out;
		rc = user_set_role(dam, name, role, &err);
	}
	if (rc == 0 && (v = json_object_get(body, "disabled")))
		rc = user_set_disabled(dam, name, json_is_true(v), &err);
	if (rc == 0 && (v = json_object_get(body, "password")))
		rc = user_set_password(dam, name, json_string_value(v), &err);
	if (rc < 0 || !(u = user_entry(dam, name, &err))) {
		http_res_dam_error(res, &err);
		goto out;
	}
	http_res_json(res, 200, u);
out:
	json_decref(body);
}

/* ---- tokens ---- */

HANDLER(h_tokens_list)
{
	char *all = http_req_query(req, "all");
	bool everyone = all && !strcmp(all, "true");
	struct dam_err err;
	json_t *list;

	free(all);
	if (!http_allow(req, res, everyone ? AUTH_USERS_MANAGE : AUTH_TOKENS_OWN, NULL))
		return;
	if (token_list(dam, everyone ? NULL : req->actor.username, &list, &err) < 0)
		http_res_dam_error(res, &err);
	else
		http_res_json(res, 200, json_pack("{s:o}", "items", list));
}

HANDLER(h_tokens_create)
{
	static const char *const keys[] = { "label", "role", "expires_in_days", "user", NULL };
	const char *user = req->actor.username, *label;
	char id[DAM_ID_LEN + 1], secret[64];
	enum role role = ROLE_NONE;
	uint64_t expires = 0;
	struct dam_err err;
	json_t *body = NULL, *v, *list, *t, *out = NULL;
	size_t i;

	if (!http_allow(req, res, AUTH_TOKENS_OWN, NULL) || http_json_body(req, res, keys, &body) < 0)
		return;
	if ((v = json_object_get(body, "user"))) {
		if (!json_is_string(v)) {
			http_res_error(res, 400, "invalid", "user is a user name", "user");
			goto out;
		}
		user = json_string_value(v);
		if (strcasecmp(user, req->actor.username) && !http_allow(req, res, AUTH_USERS_MANAGE, NULL))
			goto out;
	}
	if ((v = json_object_get(body, "label")) && !json_is_string(v)) {
		http_res_error(res, 400, "invalid", "label is a string", "label");
		goto out;
	}
	label = json_string_value(v);
	if (json_object_get(body, "role") && (role = body_role(body, "role", res)) == ROLE_NONE)
		goto out;
	if ((v = json_object_get(body, "expires_in_days"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 3650) {
			http_res_error(res, 400, "invalid", "expires_in_days is a whole number from 1 to 3650", "expires_in_days");
			goto out;
		}
		expires = time_now_ms() + (uint64_t)json_integer_value(v) * 86400000u;
	}
	if (token_create(dam, user, label, role, expires, id, secret, &err) < 0 || token_list(dam, user, &list, &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	json_array_foreach(list, i, t)
		if (!strcmp(json_string_value(json_object_get(t, "id")), id))
			out = json_incref(t);
	json_decref(list);
	if (!out)
		out = json_pack("{s:s}", "id", id);
	json_object_set_new(out, "secret", json_string(secret));
	http_res_json(res, 201, out);
out:
	json_decref(body);
}

HANDLER(h_token_delete)
{
	char owner[DAM_ID_LEN + 1];
	struct dam_err err;

	if (!http_allow(req, res, AUTH_TOKENS_OWN, NULL))
		return;
	if (token_owner(dam, req->params[0], owner, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	/* Someone else's token: admins only, and others learn nothing of it. */
	if (strcmp(owner, req->actor.user_id) && !auth_can(&req->actor, AUTH_USERS_MANAGE, NULL)) {
		http_res_error(res, 404, "not_found", "no such token", "id");
		return;
	}
	if (token_revoke(dam, req->params[0], &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	res->status = 204;
}

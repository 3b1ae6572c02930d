/*
 * sign.h - signed delivery URLs: HMAC-SHA256 (libsodium) over the URL path
 * after the signature, with several keys valid at once so keys rotate
 * without breaking links already handed out. Rotating and retiring are
 * audited.
 *
 * Keys live in the library database (table delivery_keys, migration 7): a
 * 32-byte random secret each, the newest active key signs, every active key
 * verifies; a retired key verifies nothing. The first key is made on first
 * use. A signature is the first 16 bytes of the MAC (128 bits) in unpadded
 * base64url: 22 characters.
 *
 * Ownership: sign_keys_load() gives a struct the caller frees with
 * sign_keys_free(); it is an immutable snapshot, safe to share between
 * threads; reload after rotating. Secrets are wiped on free.
 */
#ifndef DAM_DELIVER_SIGN_H
#define DAM_DELIVER_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/library.h"
#include "db/db.h"
#include "util/err.h"
#include "util/id.h"

#define SIGN_LEN 22

struct sign_keys;

/* Loads the active keys, creating the first when there is none. */
int sign_keys_load(struct db *db, struct sign_keys **out, struct dam_err *err);
void sign_keys_free(struct sign_keys *k);

/* Adds a new key that signs from now on; older keys keep verifying.
 * Writes its id (a UUIDv7) to id_out when non-NULL. */
int sign_key_rotate(struct dam *dam, char *id_out, size_t id_len, struct dam_err *err);

/* Retires key `id`: links signed with it stop working. Refuses to retire
 * the last active key (DAM_EINVAL). DAM_ENOTFOUND for an unknown id. */
int sign_key_retire(struct dam *dam, const char *id, struct dam_err *err);

/* Lists keys as a new JSON array of {"id","created_at","retired_at"|null,
 * "signing":bool} (never the secret). Caller json_decref()s. */
int sign_keys_list(struct db *db, json_t **out, struct dam_err *err);

/* Signs path[0..len) with the newest key: out gets SIGN_LEN chars + NUL. */
void sign_path(const struct sign_keys *k, const char *path, size_t len, char out[SIGN_LEN + 1]);

/* True when sig (NUL-terminated) is a valid signature of path by any
 * active key; constant time in the signature. */
bool sign_verify(const struct sign_keys *k, const char *path, size_t len, const char *sig);

/* sign_verify that also writes the id of the key that made the signature
 * to key_id (when it is valid; "" otherwise), so answers can name it for
 * a CDN purge when that key is retired. Which key matched is not visible
 * in the timing either. */
bool sign_verify_key(const struct sign_keys *k, const char *path, size_t len, const char *sig,
		     char key_id[DAM_ID_LEN + 1]);

#endif

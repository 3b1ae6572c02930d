/*
 * secret.h - reading a secret (a database password, an S3 secret key) from
 * where dam.conf says it is: an environment variable or a private file.
 * dam.conf itself never holds one (it is read by whoever may read the
 * library's settings and ends up in backups and tickets).
 *
 * Ownership: *out is the caller's, freed with secret_free() (which wipes
 * it). Thread-safe (getenv aside: nothing may setenv meanwhile).
 */
#ifndef DAM_UTIL_SECRET_H
#define DAM_UTIL_SECRET_H

#include "util/err.h"

#define SECRET_MAX 1024 /* bytes, after trailing white space is trimmed */

/* Reads the secret in the file at path: a regular file (not followed
 * through a symlink) that neither group nor others may read or write
 * (refused otherwise, with the chmod that fixes it), of at most SECRET_MAX
 * bytes; a trailing newline, CR or spaces are dropped. `what` starts each
 * error message and is its field ("s3", "database"). DAM_EINVAL or
 * DAM_EIO with a message; DAM_ENOMEM. */
int secret_from_file(const char *path, const char *what, char **out, struct dam_err *err);

/* The value of the environment variable name, copied; DAM_EINVAL when it
 * is unset, empty or longer than SECRET_MAX. */
int secret_from_env(const char *name, const char *what, char **out, struct dam_err *err);

/* Wipes and frees s (NULL: no-op). */
void secret_free(char *s);

#endif

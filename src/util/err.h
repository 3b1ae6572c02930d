/*
 * err.h - the one error convention of dam.
 *
 * Library functions return 0 (or a non-negative count) on success and a
 * negative DAM_E* code on failure; they fill an optional struct dam_err with
 * the code, a human message and, where one input is at fault, its name.
 * Library code never prints or exits: the CLI maps codes to exit statuses and
 * the HTTP layer to statuses, each in one place.
 */
#ifndef DAM_UTIL_ERR_H
#define DAM_UTIL_ERR_H

#include <stddef.h>

enum dam_errcode {
	DAM_OK = 0,
	DAM_EINVAL = -1,    /* bad input from a user, file or client */
	DAM_ENOTFOUND = -2, /* no such asset, version, blob, library ... */
	DAM_EIO = -3,       /* read/write failure of a file or blob */
	DAM_EDB = -4,       /* database failure */
	DAM_ENOMEM = -5,
	DAM_EEXIST = -6,    /* already exists (duplicate, library present) */
	DAM_EMEDIA = -7,    /* a file could not be decoded */
	DAM_ELIMIT = -8,    /* a configured limit was exceeded */
	DAM_ECONFLICT = -9, /* concurrent change, stale state */
	DAM_EVERSION = -10, /* library made by a newer dam */
	DAM_EDAMAGED = -11, /* integrity check failed */
	DAM_EPERM = -12,    /* permission denied */
	DAM_ENOSPC = -13,   /* disk full */
	DAM_EUNAVAIL = -14, /* the database cannot be reached (refused, lost): retry later */
};

#define DAM_ERR_MSG_MAX 512
#define DAM_ERR_FIELD_MAX 64

struct dam_err {
	int code;
	char msg[DAM_ERR_MSG_MAX];
	char field[DAM_ERR_FIELD_MAX];
};

/* Fills err (if not NULL) with code, the optional field name and a printf
 * message. Returns code, so callers can write `return dam_err_set(...)`. */
int dam_err_set(struct dam_err *err, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Like dam_err_set, appending ": strerror(errnum)"; maps ENOSPC/EACCES/ENOENT
 * to DAM_ENOSPC/DAM_EPERM/DAM_ENOTFOUND, everything else to `code`. */
int dam_err_errno(struct dam_err *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Resets err to DAM_OK with empty message. NULL is a no-op. */
void dam_err_clear(struct dam_err *err);

/* A stable lower-case name for a code ("invalid", "not_found", ...). */
const char *dam_err_name(int code);

#endif

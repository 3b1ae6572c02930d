#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void fill(struct dam_err *err, int code, const char *field, const char *fmt, va_list ap)
{
	err->code = code;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	snprintf(err->field, sizeof err->field, "%s", field ? field : "");
}

int dam_err_set(struct dam_err *err, int code, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	fill(err, code, field, fmt, ap);
	va_end(ap);
	return code;
}

int dam_err_errno(struct dam_err *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (errnum == ENOSPC || errnum == EDQUOT)
		code = DAM_ENOSPC;
	else if (errnum == EACCES || errnum == EPERM)
		code = DAM_EPERM;
	else if (errnum == ENOENT)
		code = DAM_ENOTFOUND;
	if (!err)
		return code;
	va_start(ap, fmt);
	fill(err, code, NULL, fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
	return code;
}

void dam_err_clear(struct dam_err *err)
{
	if (!err)
		return;
	err->code = DAM_OK;
	err->msg[0] = '\0';
	err->field[0] = '\0';
}

const char *dam_err_name(int code)
{
	switch (code) {
	case DAM_OK: return "ok";
	case DAM_EINVAL: return "invalid";
	case DAM_ENOTFOUND: return "not_found";
	case DAM_EIO: return "io";
	case DAM_EDB: return "database";
	case DAM_ENOMEM: return "out_of_memory";
	case DAM_EEXIST: return "exists";
	case DAM_EMEDIA: return "media";
	case DAM_ELIMIT: return "limit";
	case DAM_ECONFLICT: return "conflict";
	case DAM_EVERSION: return "version";
	case DAM_EDAMAGED: return "damaged";
	case DAM_EPERM: return "permission";
	case DAM_ENOSPC: return "no_space";
	case DAM_EUNAVAIL: return "database_unavailable";
	}
	return "error";
}

/*
 * banned.h - C library functions dam does not use, made compile errors.
 *
 * Every .c file of the project gets this header first, from the compiler
 * (meson.build adds `-include src/util/banned.h`), so nobody has to
 * remember to include it. Like git's banned.h, but with `#pragma GCC
 * poison` instead of macros: a forced first include comes before the
 * system headers, where a macro named strcpy would rewrite libc's own
 * declaration. So the headers that declare these functions are included
 * here, before the poison, and any later mention of a poisoned name
 * (a call, a declaration, a pointer to it) is an error. GCC and clang
 * both support the pragma.
 *
 * Why each is banned, and what to use instead:
 * - strcpy, strcat, strncpy, strncat, sprintf, vsprintf, stpcpy, gets: no
 *   bound, or a bound that silently truncates without a NUL (strncpy) or
 *   counts the wrong thing (strncat). Use snprintf(dst, sizeof dst, "%s",
 *   s), memcpy with a checked length, or struct strbuf (util/strbuf.h).
 * - strtok: keeps its position in a hidden global, so it is neither
 *   reentrant nor thread-safe. Use strtok_r, strcspn/strspn, or a parser.
 * - atoi, atol, atoll, atof: no way to tell "0" from garbage or overflow.
 *   Use strtol/strtoll/strtod with an end pointer and errno, and say what
 *   was wrong.
 * - gmtime, localtime, asctime: return a static buffer shared by every
 *   thread. Use gmtime_r/localtime_r and strftime. (ctime too, but it is
 *   not poisoned: poppler-glib's PopplerAttachment has a field of that
 *   name, and a poisoned name is an error wherever it appears.)
 */
#ifndef DAM_UTIL_BANNED_H
#define DAM_UTIL_BANNED_H

/* The declarations come first (see above). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#pragma GCC poison strcpy strcat strncpy strncat stpcpy sprintf vsprintf gets
#pragma GCC poison strtok
#pragma GCC poison atoi atol atoll atof
#pragma GCC poison gmtime localtime asctime

#endif

/* testutil.h - helpers shared by the cmocka unit tests. */
#ifndef DAM_TEST_UTIL_H
#define DAM_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>

/* The PostgreSQL server the suites on PostgreSQL give (tests/pg/run.sh
 * sets DAM_TEST_PG_URL), or NULL when unset or empty: the SQLite run. */
static inline const char *tu_pg_url(void)
{
	const char *url = getenv("DAM_TEST_PG_URL");

	return url && *url ? url : NULL;
}

/* A fresh temp folder; caller frees the string and removes the folder with
 * tu_rmrf(). */
static inline char *tu_tempdir(void)
{
	char *d = strdup("/tmp/dam-unit-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static inline void tu_rmrf(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
	assert_int_equal(system(cmd), 0);
}

/* Runs a shell command built like printf; fails the test when it fails. */
static inline void tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tu_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
}

/* Opens dir/name read-only or fails the test. Caller closes. */
static inline int tu_open_in(const char *dir, const char *name)
{
	char p[512];
	int fd;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("cannot open %s: %s", p, strerror(errno));
	return fd;
}

#endif

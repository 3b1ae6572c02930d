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

#endif

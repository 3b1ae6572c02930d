/* grow.c - see grow.h. */
#include "util/grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

int grow_array(void **p, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t n = *cap ? *cap : (first ? first : 1);
	void *np;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return DAM_ENOMEM;
		n *= 2;
	}
	if (!size || n > SIZE_MAX / size || !(np = realloc(*p, n * size)))
		return DAM_ENOMEM;
	memset((char *)np + *cap * size, 0, (n - *cap) * size);
	*p = np;
	*cap = n;
	return 0;
}

int grow__typed(void *pp, size_t *cap, size_t need, size_t size, size_t first)
{
	void *p;
	int rc;

	memcpy(&p, pp, sizeof p);
	if ((rc = grow_array(&p, cap, need, size, first)) == 0)
		memcpy(pp, &p, sizeof p);
	return rc;
}

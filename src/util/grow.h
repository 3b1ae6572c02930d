/*
 * grow.h - growing an array without losing it when memory runs out.
 *
 * `p = realloc(p, n)` loses the array (and leaks it) when realloc fails;
 * grow_array() keeps the old array and its capacity on failure, so the
 * caller's one cleanup path frees whatever it held. New room is zeroed, so
 * arrays indexed by an id (a bitmap id, a version id) read 0 for "none".
 *
 * Thread-safety: none of its own; the caller guards the array.
 */
#ifndef DAM_UTIL_GROW_H
#define DAM_UTIL_GROW_H

#include <stddef.h>

/*
 * Makes room for at least `need` elements of `size` bytes in *p, whose
 * capacity (in elements) is *cap: the capacity doubles, starting from
 * `first` (or the old capacity), until it holds `need`; elements from the
 * old capacity on are zeroed. Does nothing when *cap >= need.
 * Returns 0, or DAM_ENOMEM (overflow or no memory) with *p and *cap
 * unchanged. *p stays the caller's (free() it).
 */
int grow_array(void **p, size_t *cap, size_t need, size_t size, size_t first);

/* grow_array for a typed pointer: GROW(&v, &cap, n + 1, 64). The pointer
 * is read and written through memcpy (grow__typed), not as a void *, so
 * no aliasing rule is bent. */
#define GROW(pp, capp, need, first) grow__typed((pp), (capp), (need), sizeof **(pp), (first))
int grow__typed(void *pp, size_t *cap, size_t need, size_t size, size_t first);

#endif

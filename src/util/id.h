/*
 * id.h - UUIDv7 identifiers (RFC 9562): 48-bit Unix milliseconds, then
 * random bits, so ids sort by creation time. Text form is the canonical
 * 36-character lower-case hyphenated string.
 */
#ifndef DAM_UTIL_ID_H
#define DAM_UTIL_ID_H

#include <stdbool.h>
#include <stdint.h>

#define DAM_ID_LEN 36

/* Writes a new UUIDv7 into out (DAM_ID_LEN + 1 bytes). Monotonic within a
 * process: ids made in the same millisecond still sort in creation order.
 * Thread-safe. */
void id_new(char out[DAM_ID_LEN + 1]);

/* Same, with a given timestamp (for tests). */
void id_new_at(char out[DAM_ID_LEN + 1], uint64_t unix_ms);

/* True when s is a well-formed UUID (any version) in canonical form. */
bool id_valid(const char *s);

/* Milliseconds encoded in a UUIDv7, or 0 if s is not one. */
uint64_t id_time_ms(const char *s);

#endif

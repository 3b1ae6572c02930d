/* timeutil.h - wall-clock and monotonic time, ISO 8601 formatting. */
#ifndef DAM_UTIL_TIMEUTIL_H
#define DAM_UTIL_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

/* Unix time in milliseconds (CLOCK_REALTIME), plus the test shift below. */
uint64_t time_now_ms(void);
/*
 * The controllable clock, for tests only (never sleep to wait for time):
 * time_test_freeze(ms) stops time_now_ms() at ms (0 lets it run again);
 * time_test_shift_ms() moves it forward (or back) by delta ms. Both act on
 * the whole process and are thread-safe. A process started with
 * DAM_TEST_CLOCK_FILE=path adds the whole number of milliseconds written in
 * that file (re-read at every call; missing or empty = 0), so a black-box
 * test can move a running server's clock. Neither touches the monotonic
 * clock below.
 */
void time_test_freeze(uint64_t ms);
void time_test_shift_ms(int64_t delta);
/* Monotonic seconds, for durations and timeouts. */
double time_mono(void);
/* The same clock in milliseconds. */
uint64_t time_mono_ms(void);
/* A time_mono_ms() value as a timespec of CLOCK_MONOTONIC: the deadline of
 * a pthread_cond_timedwait on a condition set to that clock. */
struct timespec time_mono_ts(uint64_t mono_ms);
/* Formats unix ms as "2026-11-22T21:44:25.123Z" into out (>= 25 bytes). */
void time_iso8601(uint64_t unix_ms, char out[32]);
/* A JSON string of time_iso8601(ms), or JSON null when ms is 0 (a NULL
 * column reads as 0). New reference. */
struct json_t;
struct json_t *time_json(int64_t ms);

/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS[.fff]][Z]" (UTC) or a
 * duration (time_parse_duration) before now, as filters read "7d". Returns
 * 0 and *out_ms, or DAM_EINVAL. */
int time_parse(const char *s, uint64_t *out_ms);

/* A length of time: a whole number from 1 and one unit, s (seconds), m
 * (minutes), h, d or w (weeks): "90s", "10m", "2h", "7d", "2w". At most
 * 100 years. Returns 0 and *out_ms, or DAM_EINVAL. The one parser of
 * durations: filters, expiries of tokens and links, CLI and API. */
int time_parse_duration(const char *s, uint64_t *out_ms);

/* An expiry, as `dam url --expires`, `dam token create --expires` and the
 * API's links?expires= take it: a duration from now_ms ("90s", "10m",
 * "2h", "7d", "2w"), bare seconds from now_ms ("3600"), or an absolute UTC
 * date/time as time_parse ("2027-01-31", "2027-01-31T12:00:00Z"). Returns 0
 * and *out_ms, or DAM_EINVAL. A date in the past is returned as it is:
 * the caller says why it does not fit. now_ms is passed in so tests can
 * fix the clock. */
int time_parse_future(const char *s, uint64_t now_ms, uint64_t *out_ms);

#endif

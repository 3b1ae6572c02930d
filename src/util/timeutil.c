#include "util/timeutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "util/err.h"

static _Atomic int64_t test_shift;
static _Atomic uint64_t test_frozen;
static pthread_once_t clock_file_once = PTHREAD_ONCE_INIT;
static char *clock_file;

static void clock_file_find(void)
{
	const char *p = getenv("DAM_TEST_CLOCK_FILE");

	if (p && *p)
		clock_file = strdup(p);
}

/* The shift written in DAM_TEST_CLOCK_FILE, 0 when unset or unreadable. */
static int64_t clock_file_shift(void)
{
	char buf[32];
	ssize_t n;
	int fd;

	pthread_once(&clock_file_once, clock_file_find);
	if (!clock_file || (fd = open(clock_file, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

void time_test_freeze(uint64_t ms)
{
	atomic_store(&test_frozen, ms);
}

void time_test_shift_ms(int64_t delta)
{
	atomic_fetch_add(&test_shift, delta);
}

uint64_t time_now_ms(void)
{
	uint64_t now = atomic_load(&test_frozen);
	struct timespec ts;

	if (!now) {
		clock_gettime(CLOCK_REALTIME, &ts);
		now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	}
	return now + (uint64_t)atomic_load(&test_shift) + (uint64_t)clock_file_shift();
}

double time_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct timespec time_mono_ts(uint64_t mono_ms)
{
	struct timespec ts = { .tv_sec = (time_t)(mono_ms / 1000), .tv_nsec = (long)(mono_ms % 1000) * 1000000L };

	return ts;
}

void time_iso8601(uint64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", (tm.tm_year + 1900) % 10000,
		 (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100,
		 (unsigned)(ms % 1000));
}

/* Longest duration accepted: 100 years. Bounds every product below, and
 * keeps "now minus a duration" after 1970 for any date this code runs on. */
#define DURATION_MAX_MS (100ull * 366 * 86400000ull)

int time_parse_duration(const char *s, uint64_t *out)
{
	unsigned long long n = 0;
	uint64_t unit;
	size_t i = 0;

	/* Digits only (strtoull would take "+5", " 5" and "-5"). */
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (n > DURATION_MAX_MS)
			return DAM_EINVAL;
		n = n * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0 || s[i] == '\0' || s[i + 1] != '\0' || n == 0)
		return DAM_EINVAL;
	switch (s[i]) {
	case 's': unit = 1000ull; break;
	case 'm': unit = 60000ull; break;
	case 'h': unit = 3600000ull; break;
	case 'd': unit = 86400000ull; break;
	case 'w': unit = 7 * 86400000ull; break;
	default: return DAM_EINVAL;
	}
	if (n > DURATION_MAX_MS / unit)
		return DAM_EINVAL;
	*out = n * unit;
	return 0;
}

/* "7d" in a filter: that long before now. */
static int parse_relative(const char *s, uint64_t *out)
{
	uint64_t d, now = time_now_ms();

	if (time_parse_duration(s, &d) < 0 || d > now)
		return DAM_EINVAL;
	*out = now - d;
	return 0;
}

int time_parse(const char *s, uint64_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, n = 0;
	size_t len = strlen(s);

	if (len && strchr("smhdw", s[len - 1]) && len < 12 && s[0] >= '0' && s[0] <= '9' &&
	    !strchr(s, '-'))
		return parse_relative(s, out);
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return DAM_EINVAL;
	if (s[10] == 'T' || s[10] == ' ') {
		int m = 0;
		if (sscanf(s + 11, "%2d:%2d%n", &h, &mi, &m) != 2)
			return DAM_EINVAL;
		n = 11 + m;
		if (s[n] == ':') {
			if (sscanf(s + n + 1, "%2d%n", &sec, &m) != 1)
				return DAM_EINVAL;
			n += 1 + m;
			if (s[n] == '.') {
				if (sscanf(s + n + 1, "%3d%n", &ms, &m) != 1)
					return DAM_EINVAL;
				n += 1 + m;
			}
		}
		if (s[n] == 'Z')
			n++;
	}
	if (s[n] != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || y < 1970 || y > 9999)
		return DAM_EINVAL;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	{
		time_t t = timegm(&tm);
		struct tm back;
		gmtime_r(&t, &back);
		if (back.tm_mday != d) /* 2026-02-31 */
			return DAM_EINVAL;
		*out = (uint64_t)t * 1000 + (uint64_t)ms;
	}
	return 0;
}

json_t *time_json(int64_t ms)
{
	char buf[32];

	if (ms <= 0)
		return json_null();
	time_iso8601((uint64_t)ms, buf);
	return json_string(buf);
}

int time_parse_future(const char *s, uint64_t now_ms, uint64_t *out)
{
	uint64_t d;
	size_t i = 0;

	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i > 0 && s[i] == '\0') { /* bare seconds, as the API always took */
		if (i > 12)
			return DAM_EINVAL;
		d = strtoull(s, NULL, 10);
		if (d == 0 || d > DURATION_MAX_MS / 1000)
			return DAM_EINVAL;
		*out = now_ms + d * 1000;
		return 0;
	}
	if (i > 0 && time_parse_duration(s, &d) == 0) {
		*out = now_ms + d;
		return 0;
	}
	return time_parse(s, out);
}

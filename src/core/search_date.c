/*
 * search_date.c - the clock and the date values of the query language
 * (see search.h: search_clock_ms, search_date_value).
 */
#include "core/search_date.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/timeutil.h"

uint64_t search_clock_ms(void)
{
	const char *env = getenv("DAM_SEARCH_NOW");
	uint64_t ms;

	if (env && *env && time_parse(env, &ms) == 0 && ms > 0)
		return ms;
	return time_now_ms();
}

/* Two decimal digits, or -1. */
static int atoi_2(const char *p)
{
	return p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' ? (p[0] - '0') * 10 + (p[1] - '0') : -1;
}

/* "30d", "12h", "90m", "45s", "2w" as milliseconds; -1 when s is not one. */
static int64_t span_ms(const char *s)
{
	char *end;
	unsigned long long n;
	int64_t unit;

	if (!(*s >= '0' && *s <= '9'))
		return -1;
	n = strtoull(s, &end, 10);
	if (end == s || !end[0] || end[1] || n > 100ull * 366 * 24 * 60)
		return -1;
	switch (*end) {
	case 'w': unit = 7 * 86400000ll; break;
	case 'd': unit = 86400000ll; break;
	case 'h': unit = 3600000ll; break;
	case 'm': unit = 60000ll; break;
	case 's': unit = 1000ll; break;
	default: return -1;
	}
	return (int64_t)n * unit;
}

int search_date_value(const char *s, uint64_t now_ms, uint64_t *out, bool *day)
{
	size_t len = strlen(s);
	int64_t span, t;
	char abs[40];

	*day = false;
	if (!strncmp(s, "now", 3)) {
		if (!s[3])
			span = 0;
		else if ((s[3] != '+' && s[3] != '-') || (span = span_ms(s + 4)) < 0)
			return DAM_EINVAL;
		t = (int64_t)now_ms + (s[3] == '-' ? -span : span);
		if (t < 0)
			return DAM_EINVAL;
		*out = (uint64_t)t;
		return 0;
	}
	if ((span = span_ms(s)) >= 0) { /* 7d: that long ago */
		*out = (uint64_t)span > now_ms ? 0 : now_ms - (uint64_t)span;
		return 0;
	}
	/* A stored value may carry an offset (2026-01-31T10:00:00+02:00). */
	if (len > 16 && len < sizeof abs && (s[len - 6] == '+' || s[len - 6] == '-') && s[len - 3] == ':' &&
	    s[10] == 'T') {
		int oh = atoi_2(s + len - 5), om = atoi_2(s + len - 2);
		uint64_t ms;
		if (oh < 0 || om < 0)
			return DAM_EINVAL;
		memcpy(abs, s, len - 6);
		abs[len - 6] = '\0';
		if (time_parse(abs, &ms) < 0)
			return DAM_EINVAL;
		t = (int64_t)ms - (s[len - 6] == '+' ? 1 : -1) * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
		*out = t < 0 ? 0 : (uint64_t)t;
		return 0;
	}
	if (len < 10 || s[4] != '-' || time_parse(s, out) < 0)
		return DAM_EINVAL;
	*day = len == 10;
	return 0;
}

#include "util/id.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "util/timeutil.h"

static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ms;
static uint16_t last_seq;

/* Random bits come from a per-thread pool that the kernel refills 4 KiB at
 * a time (libsodium's randombytes_buf is one getrandom() system call per
 * call, which was 2.7 % of the CPU of a GET: every request gets an id). A
 * child made by fork() (the job zygote forks one per job) must not hand
 * out its parent's unused bytes again: the atfork handler empties the
 * pool of the forking thread, the only thread in the child. */
#define POOL_SIZE 4096
static __thread unsigned char rand_pool[POOL_SIZE];
static __thread size_t rand_left;
static pthread_once_t rand_once = PTHREAD_ONCE_INIT;

static void rand_forget(void)
{
	rand_left = 0;
}

static void rand_init(void)
{
	pthread_atfork(NULL, NULL, rand_forget);
}

static void rand16(unsigned char b[16])
{
	pthread_once(&rand_once, rand_init);
	if (rand_left < 16) {
		randombytes_buf(rand_pool, POOL_SIZE);
		rand_left = POOL_SIZE;
	}
	memcpy(b, rand_pool + POOL_SIZE - rand_left, 16);
	rand_left -= 16;
}

static void format(char out[DAM_ID_LEN + 1], const unsigned char b[16])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

static void build(char out[DAM_ID_LEN + 1], uint64_t ms, uint16_t seq, unsigned char b[16])
{
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | ((seq >> 8) & 0x0f));
	b[7] = (unsigned char)(seq & 0xff);
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	format(out, b);
}

void id_new_at(char out[DAM_ID_LEN + 1], uint64_t ms)
{
	unsigned char b[16];

	rand16(b);
	build(out, ms, (uint16_t)(((b[6] << 8) | b[7]) & 0x0fff), b);
}

void id_new(char out[DAM_ID_LEN + 1])
{
	uint64_t ms = time_now_ms();
	unsigned char b[16];
	uint16_t seq;

	rand16(b);
	/* rand_a (12 bits) counts within one millisecond, so ids made in a
	 * burst keep their order (RFC 9562, method 1); a clock step back
	 * reuses the last millisecond rather than going backwards. */
	pthread_mutex_lock(&id_lock);
	if (ms <= last_ms) {
		ms = last_ms;
		seq = ++last_seq;
		if (seq > 0x0fff) {
			ms = ++last_ms;
			seq = last_seq = 0;
		}
	} else {
		last_ms = ms;
		seq = last_seq = (uint16_t)(b[6] & 0x03); /* small random start */
	}
	pthread_mutex_unlock(&id_lock);
	build(out, ms, seq, b);
}

bool id_valid(const char *s)
{
	if (!s || strlen(s) != DAM_ID_LEN)
		return false;
	for (int i = 0; i < DAM_ID_LEN; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return false;
		}
	}
	return true;
}

uint64_t id_time_ms(const char *s)
{
	uint64_t ms = 0;
	int digits = 0;

	if (!id_valid(s) || s[14] != '7')
		return 0;
	for (int i = 0; digits < 12; i++) {
		char c = s[i];
		if (c == '-')
			continue;
		ms = ms * 16 + (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
		digits++;
	}
	return ms;
}

#include "http/conn_limit.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096

struct entry {
	char addr[48];
	int count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry table[SLOTS];
static int limit = 256;
static int open_total;

void conn_limit_init(int max_per_client)
{
	limit = max_per_client;
}

static void addr_of(h2o_socket_t *sock, char out[48])
{
	struct sockaddr_storage ss;
	socklen_t len = h2o_socket_getpeername(sock, (struct sockaddr *)&ss);

	out[0] = '\0';
	if (len && ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, 48);
	else if (len && ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, 48);
}

/* Open addressing on the address string; an entry at zero is reused. */
static struct entry *slot(const char *addr)
{
	unsigned h = 5381;
	struct entry *free_slot = NULL;

	for (const char *p = addr; *p; p++)
		h = h * 33 + (unsigned char)*p;
	for (unsigned i = 0; i < SLOTS; i++) {
		struct entry *e = &table[(h + i) % SLOTS];
		if (!strcmp(e->addr, addr))
			return e;
		if (e->count == 0 && !free_slot)
			free_slot = e;
		if (!e->addr[0])
			break;
	}
	if (free_slot)
		snprintf(free_slot->addr, sizeof free_slot->addr, "%s", addr);
	return free_slot;
}

static void release(void *data)
{
	struct entry *e = data;

	pthread_mutex_lock(&lock);
	if (e->count > 0)
		e->count--;
	open_total--;
	pthread_mutex_unlock(&lock);
}

int conn_limit_admit(struct server_ctx *srv, h2o_socket_t *sock)
{
	char addr[48];
	struct entry *e;
	int rc = 0;

	(void)srv;
	addr_of(sock, addr);
	pthread_mutex_lock(&lock);
	e = slot(addr);
	if (e && e->count >= limit)
		rc = -1;
	else if (e)
		e->count++, open_total++;
	pthread_mutex_unlock(&lock);
	if (rc == 0 && e) {
		sock->on_close.cb = release;
		sock->on_close.data = e;
	}
	return rc;
}

int conn_limit_open(void)
{
	int n;

	pthread_mutex_lock(&lock);
	n = open_total;
	pthread_mutex_unlock(&lock);
	return n;
}

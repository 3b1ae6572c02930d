/*
 * conn_limit.h - open connections per client address, so one address
 * cannot exhaust the server (slowloris from many sockets). Counted at accept
 * and released when h2o closes the socket.
 */
#ifndef DAM_HTTP_CONN_LIMIT_H
#define DAM_HTTP_CONN_LIMIT_H

#include <h2o.h>

struct server_ctx;

void conn_limit_init(int max_per_client);
/* 0 when admitted (the socket's close releases it), -1 when over the limit. */
int conn_limit_admit(struct server_ctx *srv, h2o_socket_t *sock);

/* Connections open now, all clients. */
int conn_limit_open(void);

#endif

/* tls.h — HTTPS for the API and the dashboard (--tls-cert, --tls-key):
 * one OpenSSL server context, loaded and checked at start, and a
 * bufferevent over it for each connection, which evhttp reads as it would
 * a plain socket's (conns.c hands it over through evhttp_set_bevcb). */
#ifndef HEARTH_TLS_H
#define HEARTH_TLS_H

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "error.h"

struct tls;

/* Loads the certificate chain and the private key (PEM) and checks they
 * belong together.  -EINVAL with a message naming the file at fault (and
 * OpenSSL's reason) when a file is missing, unreadable or not what it
 * should be. */
int tls_new(struct tls **out, const char *cert_file, const char *key_file,
	    struct hearth_error **err);
void tls_free(struct tls *t);

/* A server-side TLS bufferevent with no socket yet (evhttp sets it); it
 * closes its socket and frees its SSL when freed.  NULL when out of
 * memory. */
struct bufferevent *tls_bufferevent(struct tls *t, struct event_base *base);

/* Sends TLS's close_notify on a connection about to be closed, when its
 * handshake is done and nothing waits to be written (best effort: a
 * client gone already is no error). */
void tls_close_notify(struct bufferevent *bev);

#endif

/* auth.h — who may call hearthd.
 *
 * With a token (--token, --token-file or HEARTH_TOKEN), every API endpoint
 * and the event stream need "Authorization: Bearer <token>"; the
 * dashboard's static files and GET /healthz stay public, function URLs
 * follow their function's route_auth, and the Lambda API checks SigV4
 * signatures instead (lambda.c).  Without a token, hearthd listens only on
 * loopback addresses unless told --insecure. */
#ifndef HEARTH_AUTH_H
#define HEARTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/http.h>

#include "error.h"

/* Whether a and b are the same bytes, in a time that depends on neither
 * their contents nor the length of b (the secret): both are hashed, and
 * the digests compared with CRYPTO_memcmp. */
bool auth_equal(const void *a, size_t alen, const void *b, size_t blen);

/* 0 when req carries "Authorization: Bearer <token>"; otherwise -ENOKEY
 * (a 401) with *err saying what is missing or wrong, never echoing what
 * was sent, and the WWW-Authenticate header set on req's reply. */
int auth_bearer(struct evhttp_request *req, const char *token, struct hearth_error **err);

/* Whether a request carries the right bearer token (no error, no header):
 * for the places where a token is optional (/healthz's details). */
bool auth_bearer_ok(struct evhttp_request *req, const char *token);

/* Whether an address is a loopback one (127.0.0.0/8, ::1, ::ffff:127.x). */
bool auth_is_loopback(const struct sockaddr *sa);

/* Whether hearthd may listen on host: always when it has a token or was
 * told --insecure; otherwise only when every address host stands for is a
 * loopback one.  -EPERM with the reason and the two ways out. */
int auth_listen_check(const char *host, bool has_token, bool insecure, struct hearth_error **err);

/* Reads a token from a file: its first line, without the line break; an
 * empty one, or one with bytes that cannot go in a header, is refused. */
int auth_token_read(const char *path, char *out, size_t size, struct hearth_error **err);

/* Checks a token given on the command line or in the environment (the
 * same rules as auth_token_read's). */
int auth_token_check(const char *token, const char *from, struct hearth_error **err);

#endif

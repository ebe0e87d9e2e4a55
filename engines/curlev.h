/* curlev.h — libcurl's multi socket API driven by a libevent event_base.
 *
 * curlev owns one CURLM and the libevent events that watch curl's sockets
 * and its timer, so transfers run on hearthd's loop without blocking it.
 * The owner builds easy handles, adds them, and hears about each finished
 * transfer through the one `done` callback given to curlev_new (the easy
 * handle's CURLOPT_PRIVATE tells it which request finished).  `done` runs
 * from the loop, outside any libcurl callback, so it may add and remove
 * handles and may even call curlev_free.  A transfer is removed from the
 * multi handle before `done` runs; the easy handle stays the owner's. */
#ifndef HEARTH_CURLEV_H
#define HEARTH_CURLEV_H

#include <curl/curl.h>
#include <event2/event.h>

#include "error.h"

struct curlev;

typedef void (*curlev_done_cb)(void *arg, CURL *easy, CURLcode result);

int curlev_new(struct curlev **out, struct event_base *base, curlev_done_cb done, void *arg,
	       struct hearth_error **err);
/* Starts a transfer; it makes progress once the loop runs. */
int curlev_add(struct curlev *cm, CURL *easy, struct hearth_error **err);
/* Stops a transfer without calling `done`; harmless if not added. */
void curlev_remove(struct curlev *cm, CURL *easy);
/* Caps on parallel connections (0 = libcurl's default: unlimited). */
void curlev_set_max_connections(struct curlev *cm, long total);
/* The owner removes its easy handles first.  Safe inside `done`. */
void curlev_free(struct curlev *cm);

#endif

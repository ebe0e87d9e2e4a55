/* reqcheck.h — a request's head (its request line and header lines)
 * checked the way libevent 2.1's evhttp is going to parse it, one line at
 * a time, before evhttp sees those bytes.
 *
 * evhttp answers a request it cannot parse with its own HTML page (400,
 * 413, 417, 501) before any callback of ours runs, and 2.1 has no hook to
 * change that.  The connection layer (conns.c) sees the bytes first: it
 * hands each line here, and what evhttp would refuse is refused here
 * instead, so the client gets the same status in our JSON.  The rules are
 * those of Debian 12's libevent 2.1.12 as probed (docs/ARCHITECTURE.md,
 * "The connection layer"); they never refuse what evhttp accepts, and
 * what they miss, evhttp still answers in HTML.
 *
 * Pure: no I/O; the only allocation is evhttp's own URI parser, for the
 * rare request target that does not start with a single '/'. */
#ifndef HEARTH_REQCHECK_H
#define HEARTH_REQCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* A header value kept for the checks at the end of the head. */
struct reqcheck_value {
	char text[48];
	size_t len;
	bool seen, too_long; /* too_long: cut to text, and never a valid one */
};

struct reqcheck {
	size_t max_head, max_body; /* evhttp's limits: the same numbers */
	size_t head_bytes;	   /* of the lines taken so far, as evhttp counts: ends left out */
	unsigned lines;		   /* lines taken; the request line is the first */
	int method;		   /* enum evhttp_cmd_type; 0 when unknown */
	int major, minor;
	char unknown_method[24];
	unsigned te_count;
	struct reqcheck_value content_length, transfer_encoding, expect;
	struct reqcheck_value *last;	/* the kept header a folded line continues */
	unsigned long long body_length; /* once the head is fine: its Content-Length,
					 * for a method with a body; else 0 */
};

void reqcheck_init(struct reqcheck *rc, size_t max_head, size_t max_body);

/* One complete line of the head, without its line end ("\n" or "\r\n"),
 * NUL-terminated at line[len] and writable (it is split in place, then
 * restored).  0: more lines wanted; 1: that was the empty line
 * ending the head, and the head is fine; negative, with *err, when evhttp
 * would refuse it:
 *   -EBADMSG   (400) a malformed request line, version, target, header
 *              line, Content-Length, or Content-Length with Transfer-Encoding
 *   -EMSGSIZE  (431) the head is over max_head
 *   -E2BIG     (413) Content-Length over max_body
 *   -ENOMSG    (417) an Expect other than 100-continue on a request with a body
 *   -ENOSYS    (501) a method evhttp does not know */
int reqcheck_line(struct reqcheck *rc, char *line, size_t len, struct hearth_error **err);

/* `len` bytes of a line not complete yet: -EMSGSIZE once the head cannot
 * fit max_head any more, else 0. */
int reqcheck_partial(struct reqcheck *rc, size_t len, struct hearth_error **err);

#endif

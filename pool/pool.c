/* pool.c — see pool.h.  Until the execution issue lands this only records
 * what it is told, so the API's calls into it are already in place. */
#include "pool.h"

#include <errno.h>
#include <stdlib.h>

#include "log.h"

struct pool {
	struct event_base *base;
};

int pool_new(struct pool **out, struct event_base *base, const struct pool_config *cfg,
	     struct hearth_error **err)
{
	struct pool *p = calloc(1, sizeof(*p));

	(void)cfg;
	if (!p)
		return hearth_error_make(err, ENOMEM, "out of memory");
	p->base = base;
	*out = p;
	return 0;
}

void pool_function_changed(struct pool *p, const struct fn *f)
{
	if (p)
		log_debug("pool: function %lld at revision %lld", (long long)f->id,
			  (long long)f->revision);
}

void pool_function_removed(struct pool *p, int64_t id)
{
	if (p)
		log_debug("pool: function %lld removed", (long long)id);
}

void pool_free(struct pool *p)
{
	free(p);
}

/* loop.c — see loop.h. */
#include "loop.h"

#include <stddef.h>

struct event_base *loop_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (!cfg)
		return NULL;
	/* After this many callbacks of the default priority, the loop polls
	 * again, so backend events never wait behind a long pass. */
	event_config_set_max_dispatch_interval(cfg, NULL, LOOP_MAX_LOW_CALLBACKS,
					       LOOP_PRIO_DEFAULT);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base && event_base_priority_init(base, LOOP_PRIORITIES) < 0) {
		event_base_free(base);
		return NULL;
	}
	return base;
}

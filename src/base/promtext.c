/* promtext.c — see promtext.h. */
#include "promtext.h"

#include <inttypes.h>

int promtext_header(struct buf *out, const char *name, const char *type, const char *help,
		    struct hearth_error **err)
{
	return buf_printf(out, err, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int promtext_single(struct buf *out, const char *name, const char *type, const char *help,
		    uint64_t value, struct hearth_error **err)
{
	int r = promtext_header(out, name, type, help, err);

	return r < 0 ? r : buf_printf(out, err, "%s %" PRIu64 "\n", name, value);
}

/* promtext.h — Prometheus' text exposition format, the little of it every
 * metrics writer needs (src/invoke/metrics.c, pool/status.c). */
#ifndef HEARTH_PROMTEXT_H
#define HEARTH_PROMTEXT_H

#include <stdint.h>

#include "buf.h"
#include "error.h"

/* "# HELP name help\n# TYPE name type\n": what comes before a metric's
 * samples; type is "counter", "gauge" or "histogram". */
BUF_MUST_CHECK int promtext_header(struct buf *out, const char *name, const char *type,
				   const char *help, struct hearth_error **err);

/* A metric of one sample without labels: its header and "name value\n". */
BUF_MUST_CHECK int promtext_single(struct buf *out, const char *name, const char *type,
				   const char *help, uint64_t value, struct hearth_error **err);

#endif

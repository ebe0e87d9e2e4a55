/* log.c — see log.h.  One fprintf per line so lines never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level min_level = LOG_LVL_INFO;
static const char *const names[] = { "DEBUG", "INFO", "WARN", "ERROR" };

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const char *const lower[] = { "debug", "info", "warn", "error" };

	for (int i = 0; i < 4; i++) {
		if (strcmp(s, lower[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char ts[32], line[2048];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (lvl < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap); /* long lines are cut, by design */
	va_end(ap);
	fprintf(stderr, "%s.%03ldZ %-5s %s\n", ts, now.tv_nsec / 1000000L, names[lvl], line);
}

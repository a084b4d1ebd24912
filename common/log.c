/* log.c - stderr or syslog output with levels and subsystem tokens. */
#include "config.h"

#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

static const char level_names[][7] = { "error", "warn", "notice", "info", "debug" };   /* no pointers */
static const int level_prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

static struct {
	bool syslog;
	enum log_level level;
} lg = { false, LL_INFO };

void log_open(const char *ident, bool use_syslog, enum log_level level)
{
	lg.syslog = use_syslog;
	lg.level = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_close(void)
{
	if (lg.syslog)
		closelog();
	lg.syslog = false;
}

void log_set_level(enum log_level level)
{
	lg.level = level;
}

int log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(level_names); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > lg.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lg.syslog) {
		syslog(level_prio[level], "%s: %s", subsys, msg);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %-6s %s: %s\n", stamp, ts.tv_nsec / 1000000L,
			level_names[level], subsys, msg);
	}
}

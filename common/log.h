/* log.h - levelled logging with a subsystem token on every line.
 *
 * Foreground: stderr ("LEVEL subsys: message"). Daemon: syslog.
 * Secrets (passwords, private keys, digest responses) are never passed to
 * these functions; use LOG_REDACTED where a value must be mentioned.
 */
#ifndef DSA_COMMON_LOG_H
#define DSA_COMMON_LOG_H

#include <stdbool.h>
#include "common/util.h"

enum log_level { LL_ERROR = 0, LL_WARN, LL_NOTICE, LL_INFO, LL_DEBUG };

#define LOG_REDACTED "<redacted>"

/* Start logging as ident, to syslog or stderr, showing messages up to level. */
void log_open(const char *ident, bool use_syslog, enum log_level level);

/* Stop logging to syslog (stderr stays usable). */
void log_close(void);

/* Change the most verbose level shown. */
void log_set_level(enum log_level level);

/* Parse "error|warn|notice|info|debug"; -1 if unknown. */
int log_level_parse(const char *s);

/* Log one message for subsystem subsys (a short token such as "ctl"). */
void log_msg(enum log_level level, const char *subsys, const char *fmt, ...) DSA_PRINTF(3, 4);

#define log_err(sub, ...)    log_msg(LL_ERROR, sub, __VA_ARGS__)
#define log_warn(sub, ...)   log_msg(LL_WARN, sub, __VA_ARGS__)
#define log_notice(sub, ...) log_msg(LL_NOTICE, sub, __VA_ARGS__)
#define log_info(sub, ...)   log_msg(LL_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...)  log_msg(LL_DEBUG, sub, __VA_ARGS__)

#endif

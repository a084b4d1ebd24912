/* system.h - every access to the kernel's network configuration goes here.
 *
 * Two backends implement struct sys_ops: "linux" (sockets, rtnetlink) and
 * "dummy" (records what would have been done, for tests and for hosts the
 * agent must not change). Modules call the sys_* wrappers, never the kernel.
 */
#ifndef DSA_SYSTEM_SYSTEM_H
#define DSA_SYSTEM_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>

struct sys_ops {
	const char *name;
	/* Mark fd's outgoing packets with dscp (0-63) and the matching SO_PRIORITY. */
	int (*set_dscp)(int fd, int dscp);
};

/* The Linux backend. */
extern const struct sys_ops sys_linux_ops;
/* The dummy backend: records calls, touches nothing. */
extern const struct sys_ops sys_dummy_ops;

/* Select the backend (default: Linux). */
void sys_use(const struct sys_ops *ops);

/* The backend in use. */
const struct sys_ops *sys_backend(void);

/* Mark fd with DSCP dscp (0-63) through the backend; 0 or -errno. */
int sys_set_dscp(int fd, int dscp);

/* The socket priority (SO_PRIORITY, 0-7) matching a DSCP value: EF->6, AF3x->4. */
int sys_dscp_to_priority(int dscp);

#endif

/* ctl.h - the daemon's control socket (a Unix stream socket, mode 0660).
 *
 * Each connection carries one request and its replies (proto.h). Peers are
 * checked with SO_PEERCRED: root, the daemon's own user, or its group.
 * A handler either answers at once (ctl_client_finish) or keeps the client
 * and streams events to it (ctl_client_event) until it finishes.
 */
#ifndef DSA_AGENT_CTL_H
#define DSA_AGENT_CTL_H

#include <stdbool.h>
#include <json-c/json.h>

#include "agent/proto.h"

struct ctl_client;

/* A command handler; it must eventually call ctl_client_finish on c. */
typedef void (*ctl_handler)(struct ctl_client *c, const struct ctl_request *req, void *ctx);

struct ctl_command {
	const char *name;
	ctl_handler handler;
};

/* Listen on path with the given command table (NULL-terminated); 0 or -errno. */
int ctl_open(const char *path, const struct ctl_command *cmds, void *ctx);

/* Close the socket, drop every client and unlink the path. */
void ctl_close(void);

/* Send one {"type":"event"} line to c (obj consumed). */
void ctl_client_event(struct ctl_client *c, struct json_object *obj);

/* Send the final line (obj consumed) and close c once it is written. */
void ctl_client_finish(struct ctl_client *c, struct json_object *obj);

/* Register fn to be called if c goes away before it is finished. */
void ctl_client_on_close(struct ctl_client *c, void (*fn)(struct ctl_client *c, void *arg), void *arg);

/* Number of connected clients (for tests and status). */
int ctl_client_count(void);

#endif

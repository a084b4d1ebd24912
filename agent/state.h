/* state.h - the agent's lifecycle state machine (drawn in DESIGN.md).
 *
 *   BOOT -> PROVISIONING -> APPLYING -> REGISTERING -> RUNNING
 *              |               |            |            |
 *              +-------------> DEGRADED <---+------------+
 *   any state -> STOPPING (SIGTERM/SIGINT)
 *
 * DEGRADED always carries a reason a technician can act on. The table of
 * allowed transitions is the single source of truth; a forbidden transition
 * is a bug and is refused (and logged), never silently taken.
 */
#ifndef DSA_AGENT_STATE_H
#define DSA_AGENT_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum agt_state {
	AGT_BOOT = 0,
	AGT_PROVISIONING,
	AGT_APPLYING,
	AGT_REGISTERING,
	AGT_RUNNING,
	AGT_DEGRADED,
	AGT_STOPPING,
	AGT_NSTATES
};

struct agt_sm {
	enum agt_state state;
	char reason[256];          /* why DEGRADED (or what the state is doing) */
	time_t since;              /* wall clock of the last transition */
	uint64_t since_mono_ms;
	unsigned transitions;
	void (*on_change)(struct agt_sm *sm, enum agt_state from, void *arg);
	void *arg;
};

/* Lowercase name of a state ("running"). */
const char *agt_state_name(enum agt_state s);

/* Whether the table allows from -> to. */
bool agt_transition_allowed(enum agt_state from, enum agt_state to);

/* Start in BOOT. */
void agt_sm_init(struct agt_sm *sm);

/* Move to `to` with a reason (may be NULL); -EPERM if the table forbids it. */
int agt_sm_go(struct agt_sm *sm, enum agt_state to, const char *reason);

#endif

/* state.c - lifecycle transitions, table-driven. */
#include "config.h"

#include "agent/state.h"
#include "common/ev.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

static const char names[AGT_NSTATES][13] = {   /* no pointers: a relocation each */
	[AGT_BOOT] = "boot",
	[AGT_PROVISIONING] = "provisioning",
	[AGT_APPLYING] = "applying",
	[AGT_REGISTERING] = "registering",
	[AGT_RUNNING] = "running",
	[AGT_DEGRADED] = "degraded",
	[AGT_STOPPING] = "stopping",
};

#define B(s) (1u << (s))
/* allowed[from] is the set of states reachable from `from`. */
static const unsigned allowed[AGT_NSTATES] = {
	[AGT_BOOT] = B(AGT_PROVISIONING) | B(AGT_STOPPING),
	[AGT_PROVISIONING] = B(AGT_APPLYING) | B(AGT_DEGRADED) | B(AGT_STOPPING),
	[AGT_APPLYING] = B(AGT_REGISTERING) | B(AGT_RUNNING) | B(AGT_DEGRADED) | B(AGT_STOPPING),
	[AGT_REGISTERING] = B(AGT_RUNNING) | B(AGT_APPLYING) | B(AGT_DEGRADED) | B(AGT_STOPPING),
	[AGT_RUNNING] = B(AGT_APPLYING) | B(AGT_REGISTERING) | B(AGT_DEGRADED) | B(AGT_STOPPING),
	[AGT_DEGRADED] = B(AGT_PROVISIONING) | B(AGT_APPLYING) | B(AGT_REGISTERING) |
			 B(AGT_RUNNING) | B(AGT_DEGRADED) | B(AGT_STOPPING),
	[AGT_STOPPING] = 0,
};
#undef B

const char *agt_state_name(enum agt_state s)
{
	return (unsigned)s < AGT_NSTATES ? names[s] : "invalid";
}

bool agt_transition_allowed(enum agt_state from, enum agt_state to)
{
	if ((unsigned)from >= AGT_NSTATES || (unsigned)to >= AGT_NSTATES)
		return false;
	return (allowed[from] >> to) & 1u;
}

void agt_sm_init(struct agt_sm *sm)
{
	memset(sm, 0, sizeof(*sm));
	sm->state = AGT_BOOT;
	sm->since = time(NULL);
	sm->since_mono_ms = ev_now_ms();
}

int agt_sm_go(struct agt_sm *sm, enum agt_state to, const char *reason)
{
	enum agt_state from = sm->state;

	if (!agt_transition_allowed(from, to)) {
		log_err("agent", "refused transition %s -> %s (a bug: please report)",
			agt_state_name(from), agt_state_name(to));
		return -EPERM;
	}
	if (to == AGT_DEGRADED && (!reason || !*reason))
		reason = "unknown reason";
	utl_strlcpy(sm->reason, reason ? reason : "", sizeof(sm->reason));
	if (from == to)
		return 0;          /* DEGRADED -> DEGRADED only updates the reason */
	sm->state = to;
	sm->since = time(NULL);
	sm->since_mono_ms = ev_now_ms();
	sm->transitions++;
	if (to == AGT_DEGRADED)
		log_warn("agent", "state %s -> %s: %s", agt_state_name(from), agt_state_name(to), sm->reason);
	else
		log_notice("agent", "state %s -> %s%s%s", agt_state_name(from), agt_state_name(to),
			   *sm->reason ? ": " : "", sm->reason);
	if (sm->on_change)
		sm->on_change(sm, from, sm->arg);
	return 0;
}

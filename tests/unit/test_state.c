/* test_state.c - the lifecycle table and its transitions. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "agent/state.h"
#include "common/ev.h"
#include "common/log.h"

static int changes;
static enum agt_state last_from;

static void on_change(struct agt_sm *sm, enum agt_state from, void *arg)
{
	changes++;
	last_from = from;
}

static void test_happy_path(void **state)
{
	struct agt_sm sm;

	agt_sm_init(&sm);
	sm.on_change = on_change;
	changes = 0;
	assert_int_equal(sm.state, AGT_BOOT);
	assert_int_equal(agt_sm_go(&sm, AGT_PROVISIONING, NULL), 0);
	assert_int_equal(agt_sm_go(&sm, AGT_APPLYING, NULL), 0);
	assert_int_equal(agt_sm_go(&sm, AGT_REGISTERING, NULL), 0);
	assert_int_equal(agt_sm_go(&sm, AGT_RUNNING, NULL), 0);
	assert_int_equal(changes, 4);
	assert_int_equal(last_from, AGT_REGISTERING);
	assert_string_equal(agt_state_name(sm.state), "running");
}

static void test_degraded_needs_reason_and_recovers(void **state)
{
	struct agt_sm sm;

	agt_sm_init(&sm);
	agt_sm_go(&sm, AGT_PROVISIONING, NULL);
	assert_int_equal(agt_sm_go(&sm, AGT_DEGRADED, NULL), 0);
	assert_string_equal(sm.reason, "unknown reason");
	assert_int_equal(agt_sm_go(&sm, AGT_DEGRADED, "no DHCP lease (169.254.3.4)"), 0);
	assert_string_equal(sm.reason, "no DHCP lease (169.254.3.4)");
	assert_int_equal(agt_sm_go(&sm, AGT_APPLYING, NULL), 0);
}

static void test_forbidden(void **state)
{
	struct agt_sm sm;

	agt_sm_init(&sm);
	assert_int_equal(agt_sm_go(&sm, AGT_RUNNING, NULL), -EPERM);
	assert_int_equal(sm.state, AGT_BOOT);
	assert_false(agt_transition_allowed(AGT_BOOT, AGT_REGISTERING));
	assert_false(agt_transition_allowed(AGT_PROVISIONING, AGT_RUNNING));
	/* STOPPING is final and reachable from everywhere. */
	for (int s = 0; s < AGT_NSTATES; s++) {
		assert_true(agt_transition_allowed((enum agt_state)s, AGT_STOPPING) || s == AGT_STOPPING);
		assert_false(agt_transition_allowed(AGT_STOPPING, (enum agt_state)s));
	}
	assert_false(agt_transition_allowed(AGT_NSTATES, AGT_BOOT));
	assert_string_equal(agt_state_name(AGT_NSTATES), "invalid");
}

/* The time in a state, on the virtual clock: each transition stamps its exact
 * instant; DEGRADED -> DEGRADED (a new reason) keeps the original one. */
static void test_since_exact(void **state)
{
	struct agt_sm sm;

	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(5000000);
	agt_sm_init(&sm);
	assert_int_equal(sm.since_mono_ms, 5000);
	assert_int_equal(ev_clock_advance_ms(1234), 0);
	assert_int_equal(agt_sm_go(&sm, AGT_PROVISIONING, NULL), 0);
	assert_int_equal(sm.since_mono_ms, 6234);
	assert_int_equal(ev_clock_advance_ms(100), 0);
	assert_int_equal(agt_sm_go(&sm, AGT_DEGRADED, "first"), 0);
	assert_int_equal(ev_clock_advance_ms(100), 0);
	assert_int_equal(agt_sm_go(&sm, AGT_DEGRADED, "second"), 0);
	assert_int_equal(sm.since_mono_ms, 6334);
	assert_string_equal(sm.reason, "second");
	assert_int_equal(sm.transitions, 2);
	ev_done();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_happy_path),
		cmocka_unit_test(test_degraded_needs_reason_and_recovers),
		cmocka_unit_test(test_forbidden),
		cmocka_unit_test(test_since_exact),
	};
	log_open("test", false, LL_ERROR);
	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}

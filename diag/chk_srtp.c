/* chk_srtp.c - the SRTP check: libsrtp2 initialises and round-trips the
 * known-answer vectors (RFC 3711 B.3 keys; GCM when the library has it)
 * through its public API (media/srtp.h). Pure CPU, decided at once. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "diag/check.h"
#include "media/srtp.h"

/* Turn a known-answer result into the check's result (shared with the unit test's view). */
static void srtp_fill(struct diag_result *r, int err, const struct msrtp_kat_result *k)
{
	diag_value_add(r, "vectors", "", "%u", k->run);
	diag_value_add(r, "passed", "", "%u", k->passed);
	diag_value_add(r, "failed", "", "%u", k->failed);
	diag_value_add(r, "skipped", "", "%u", k->skipped);
	diag_value_add(r, "gcm", "", "%s", k->gcm_supported ? "yes" : "no");
	diag_threshold_set(r, "every RFC 3711 / RFC 7714 known-answer vector protects, unprotects and "
			   "rejects a flipped bit");
	if (err == 0 && k->failed == 0 && k->passed > 0) {
		snprintf(r->brief, sizeof(r->brief), "%u/%u vectors%s", k->passed, k->run,
			 k->gcm_supported ? " +GCM" : "");
		diag_verdict_set(r, DIAG_PASS, "libsrtp2 works: %s", k->detail[0] ? k->detail : "all vectors match");
		return;
	}
	snprintf(r->brief, sizeof(r->brief), "%u of %u vectors fail", k->failed, k->run);
	diag_verdict_set(r, DIAG_FAIL, "SRTP is broken on this phone (%s): encrypted calls cannot work; "
			 "reinstall the firmware or report it to DialStack support",
			 k->detail[0] ? k->detail : "libsrtp2 did not initialise");
}

static int srtp_start(struct diag_check *c)
{
	struct msrtp_kat_result k;
	int err;

	memset(&k, 0, sizeof(k));
	err = msrtp_global_init();
	if (err < 0)
		snprintf(k.detail, sizeof(k.detail), "libsrtp2 did not initialise");
	else
		err = msrtp_kat_check(&k);
	srtp_fill(&c->res, err, &k);
	diag_check_done(c);
	return 0;
}

static void srtp_cancel(struct diag_check *c)
{
	(void)c;
}

const struct diag_check_type diag_chk_srtp = {
	DIAG_C_SRTP, "srtp", "SRTP", 1, false, DIAG_H_NONE, 0, srtp_start, srtp_cancel,
};

/* chk_srtp.c - the SRTP check: libsrtp2 initialises and round-trips the
 * known-answer vectors (RFC 3711 B.3 keys; GCM when the library has it)
 * through its public API (media/srtp.h). Pure CPU, but it runs in a job
 * process (common/job.h) so that libsrtp2 and the NSS/NSPR under it are
 * never mapped in the resident agent: the child fills the result and sends
 * it, the agent checks every field before it takes it. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/job.h"
#include "diag/check.h"
#include "media/srtp.h"
#include "provisioning/prov.h"

#define SRTP_JOB_MS 4000u       /* the child's deadline: under the least run budget (5 s; the check
				 * starts with the run) */

/* Turn a known-answer result into the check's result. */
static void srtp_fill(struct diag_result *r, int err, const struct msrtp_kat_result *k)
{
	diag_value_add(r, "vectors", "", "%u", k->run);
	diag_value_add(r, "passed", "", "%u", k->passed);
	diag_value_add(r, "failed", "", "%u", k->failed);
	diag_value_add(r, "skipped", "", "%u", k->skipped);
	diag_value_add(r, "gcm", "", "%s", k->gcm_supported ? "yes" : "no");
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

/* The child: run the check, answer JOB_SRTP_REPLY (verdict, brief, advice,
 * the values as struct diag_value[]; the agent sets the threshold). */
static int srtp_job(struct job_buf *out)
{
	struct msrtp_kat_result k;
	struct diag_result r;
	int err;

	memset(&k, 0, sizeof(k));
	memset(&r, 0, sizeof(r));
	err = msrtp_global_init();
	if (err < 0)
		snprintf(k.detail, sizeof(k.detail), "libsrtp2 did not initialise");
	else
		err = msrtp_kat_check(&k);
	srtp_fill(&r, err, &k);
	job_begin(out, JOB_SRTP_REPLY);
	job_put_u32(out, r.verdict);
	job_put_str(out, r.brief);
	job_put_str(out, r.advice);
	job_put(out, r.values, r.nvalues * sizeof(r.values[0]));
	return job_end(out);
}

int diag_job(const struct job_msg *m, struct job_buf *out)
{
	return m->type == JOB_SRTP ? srtp_job(out) : prov_job(m, out);
}

int diag_srtp_take(struct diag_result *r, const struct job_msg *m)
{
	const struct diag_value *v = (const struct diag_value *)m->f[3].p;
	uint32_t n = (m->f[3].len - 1) / sizeof(*v);

	/* the decoder has checked the kinds and that each field ends in its NUL */
	if (job_u32(m, 0) > DIAG_INCONCLUSIVE || m->f[1].len > sizeof(r->brief) || m->f[2].len > sizeof(r->advice) ||
	    (m->f[3].len - 1) % sizeof(*v) || n > DIAG_MAX_VALUES)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++)
		if (v[i].name[sizeof(v->name) - 1] | v[i].value[sizeof(v->value) - 1] | v[i].unit[sizeof(v->unit) - 1])
			return -EBADMSG;
	r->verdict = (enum diag_verdict)job_u32(m, 0);
	memcpy(r->brief, m->f[1].p, m->f[1].len);
	memcpy(r->advice, m->f[2].p, m->f[2].len);
	memcpy(r->values, v, n * sizeof(*v));
	r->nvalues = n;
	return 0;
}

static void srtp_done(const struct job_msg *m, const char *why, void *arg)
{
	struct diag_check *c = arg;

	c->priv = NULL;                  /* the job is gone */
	diag_threshold_set(&c->res, "every RFC 3711 / RFC 7714 known-answer vector protects, unprotects "
			   "and rejects a flipped bit");
	if (m && diag_srtp_take(&c->res, m) < 0) {
		why = "the job process sent a malformed answer (refused)";
		m = NULL;
	}
	if (!m) {
		/* only the job failed: SRTP itself is not judged */
		utl_strlcpy(c->res.brief, "not run", sizeof(c->res.brief));
		diag_verdict_set(&c->res, DIAG_INCONCLUSIVE, "the SRTP check could not run: %s; SRTP was not "
				 "tested: run the self-test again", why);
	}
	diag_check_done(c);
}

static int srtp_start(struct diag_check *c)
{
	static char req[JOB_HDR] = { 'D', 'J', JOB_VERSION, JOB_SRTP };   /* no fields */
	static const struct job_buf b = { req, JOB_HDR, JOB_HDR, 0 };

	if (job_start((struct job **)&c->priv, &b, JOB_SRTP_REPLY, SRTP_JOB_MS, srtp_done, c) < 0)
		srtp_done(NULL, "the job process could not be started", c);
	return 0;
}

static void srtp_cancel(struct diag_check *c)
{
	job_cancel(c->priv);
	c->priv = NULL;
}

const struct diag_check_type diag_chk_srtp = {
	DIAG_C_SRTP, "srtp", "SRTP", 1, false, DIAG_H_NONE, 0, srtp_start, srtp_cancel,
};

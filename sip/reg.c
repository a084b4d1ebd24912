/* reg.c - the SIP registration client; see reg.h and docs/sip.md. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include "common/backoff.h"
#include "common/budget.h"
#include "common/ev.h"
#include "common/log.h"
#include "common/resolv.h"
#include "common/util.h"
#include "sip/digest.h"
#include "sip/msg.h"
#include "sip/reg.h"

/* RFC 3261 T2 = 4 s = 8 * T1 at the default T1; kept in that ratio when tests shorten T1 */
#define T2_MS(reg)   (8u * (reg)->o.t1_ms)
/* Keepalive deadlines, in units of T1 so that tests with a short T1 run fast:
 * at the default T1 of 500 ms a pong within 10 s (RFC 5626 4.4.1), a STUN or
 * OPTIONS answer within 5 s, the one UDP retry answered within 3 s. */
#define PONG_WAIT_MS(reg) (20u * (reg)->o.t1_ms)
#define STUN_WAIT_MS(reg) (10u * (reg)->o.t1_ms)
#define KA_RETRY_MS(reg)  (6u * (reg)->o.t1_ms)
/* A UDP keepalive asks for an answer (a check: STUN request or OPTIONS) only
 * once per check period, at the keepalive nearest to a period after the last
 * proof of life (REGISTER 2xx, answered check): 120*T1 (60 s at the default T1), or three
 * keepalive intervals when shorter (short keepalives keep their quick
 * detection: at most one answer per three keepalives). The ones between are
 * unanswered CRLFCRLF datagrams, so an idle phone with the default 20 s wakes
 * once per keepalive and once a minute for the check's answer (issue 13).
 * Streams ping every keepalive. */
#define KA_CHECK_MS(reg)  (120u * (reg)->o.t1_ms)
/* Happy Eyeballs (RFC 8305 in spirit): a first answer over one family within this
 * time (2 s at the default T1), or the next target, of the other family, is tried */
#define FAMILY_WAIT_MS(reg) (4u * (reg)->o.t1_ms)
#define SELFTEST_MAX 200
#define ALLOW        "Allow: OPTIONS, NOTIFY\r\n"
/* Refresh at a uniformly random point of [55 %, 85 %] of the granted expiry,
 * the expiry counted as at most REFRESH_CAP_S: a registrar that lost our
 * binding (restart without its location table) is found by the next refresh,
 * within 0.85 * 600 = 510 s plus one transaction (docs/sip.md). */
#define REFRESH_LO_PCT  55
#define REFRESH_HI_PCT  85
#define REFRESH_CAP_S   600
/* A registrar that went silent (Timer F, keepalives unanswered, transport
 * error) is probed (UDP: one OPTIONS, streams: the connect) once every
 * PROBE_PERIOD_MS, the first probe at a uniformly random point of the first
 * period; a REGISTER starts only once a probe is answered. Whenever the
 * registrar comes back, every phone's next probe is uniformly spread over one
 * period: 1,000 phones return at 1000/110 = 9.1 a second (18 REGISTERs/s with
 * the challenge), all within 110 s (docs/sip.md). A backoff cap below it
 * (backoff_cap_ms) shortens the period to the cap. */
#define PROBE_PERIOD_MS 110000u
#define PROBE_PERIOD(reg) ((reg)->bo.cap_ms < PROBE_PERIOD_MS ? (reg)->bo.cap_ms : PROBE_PERIOD_MS)
/* Back from silence, a phone's two REGISTERs (the request, the answer to its
 * challenge) would land in the same second: the answer waits a uniformly
 * random 0 to 3 s (at most 1/30 of the probe period, so that a short backoff
 * stays quick), so that a fleet's per-second count is that of independent
 * packets, not of pairs (busiest second of 1,000 phones returning over 110 s:
 * over 40 in 0.1 % of runs instead of 5 %, docs/sip.md). */
#define SPREAD_MS(reg)  (PROBE_PERIOD(reg) / 30 < 3000u ? PROBE_PERIOD(reg) / 30 : 3000u)
/* resync / SIGHUP / provisioning: the pending retry moves to within this */
#define KICK_JITTER_MS  2000u
/* consecutive stale=true challenges answered before it counts as a failure */
#define STALE_MAX       3
/* the registrar's check-sync NOTIFY reaches the agent at most this often */
#define CHECK_SYNC_MIN_MS 30000u

enum bstate { B_IDLE = 0, B_RESOLVING, B_CONNECTING, B_REGISTERING, B_REGISTERED, B_UNREGISTERING };

struct binding {
	struct sip_reg *reg;
	int idx;
	enum bstate st;
	bool unreg;                   /* current transaction is an unregister */
	struct sip_tp *tp;
	struct rsv_sip *dns;
	struct rsv_targets *targets;  /* RFC 3263 targets of this region (kept until their TTL) */
	size_t ti;                    /* the target in use */
	uint64_t targets_until;       /* monotonic ms: look the name up again after this */
	bool next_target;             /* the failure being handled may move to the next target */
	struct ev_timer t_family;     /* no answer over this family yet: the next target's family */
	struct sockaddr_storage addr;
	char call_id[48];
	char from_tag[20];
	uint32_t cseq;
	int expires_req;
	/* the client transaction (one at a time) */
	bool txn;
	bool queued;                  /* built, waiting for a token of the budget */
	bool starved;                 /* the wait is for a token (not the herd spread): noticed once */
	struct budget bgt;            /* every REGISTER to this registrar draws from it */
	struct ev_timer t_budget;     /* the token for the queued REGISTER */
	char contact_uri[300];        /* the Contact URI of the REGISTER in flight */
	int stale_run;                /* stale=true challenges answered in a row */
	bool probing;                 /* an OPTIONS probe of a silent registrar is out */
	bool refresh_due;             /* the refresh waits for its check's answer */
	bool spread;                  /* back from silence: the challenge's answer waits SPREAD_MS */
	uint32_t defer_ms;            /* the REGISTER being built waits this long first */
	bool resend;                  /* the self-test summary changed while a REGISTER was busy */
	int ka_ms;                    /* keepalive interval (keepalive_s or Flow-Timer) */
	char branch[24];
	char req[SIP_MSG_MAX];
	size_t reqlen;
	uint32_t rt_ms;
	struct ev_timer t_e;          /* retransmit (UDP) */
	struct ev_timer t_f;          /* transaction timeout 64*T1 */
	/* authentication */
	bool auth_sent;               /* the request in flight carries credentials */
	char answered_nonce[SIP_DIGEST_FIELD_MAX];
	uint32_t nc;                  /* nonce count for answered_nonce */
	bool nonce_ok;                /* a 2xx followed our answer to answered_nonce */
	int tries_423;
	/* registered */
	int granted;
	struct ev_timer t_refresh;
	struct ev_timer t_ka;         /* keepalive interval */
	struct ev_timer t_kawait;     /* pong / STUN answer deadline */
	int stun;                     /* UDP: 0 unknown, 1 answers STUN, -1 does not (OPTIONS pings) */
	bool stun_waiting;            /* a keepalive answer is due */
	bool options_ping;            /* the keepalive in flight is an OPTIONS */
	char ping_branch[24];
	uint32_t ping_cseq;
	int ka_misses;
	uint64_t heard_ms;            /* ev ms the registrar was last known alive (REGISTER 2xx, check) */
	uint64_t check_ms;            /* ev ms the last check was sent (its answer proves that instant) */
	struct sockaddr_storage stun_mapped;
	bool have_mapped;
	char public_addr[64];
	char local_host[64];
	int local_port;
};

struct sip_reg {
	struct sip_reg_opts o;
	char *user, *auth_user, *password, *domain, *ca_file, *user_agent, *selftest;
	char names[SIP_REG_MAX_REGISTRARS][32];
	char hosts[SIP_REG_MAX_REGISTRARS][256];
	char instance[37];
	int primary;                  /* index of the priority-1 registrar */
	int active;                   /* index in use or being tried, -1 none */
	int tried;                    /* registrars failed in this round */
	bool silent;                  /* the last failure was silence: probe before a REGISTER */
	uint64_t probe_at;            /* ev ms the current probe began, 0: not probing */
	uint64_t last_check_sync;     /* ev ms of the last check-sync passed on, 0 none */
	uint64_t not_before[SIP_REG_MAX_REGISTRARS];   /* Retry-After, monotonic ms */
	struct binding b[SIP_REG_MAX_REGISTRARS];
	struct backoff bo;
	struct ev_timer t_retry;
	struct ev_timer t_failback;
	struct ev_timer t_stop;
	enum sip_reg_state state;
	time_t since;
	char last_error[256];
	bool selftest_dropped;
	unsigned long budget_notices;   /* "REGISTER budget ... spent" notices logged */
	sip_reg_event_cb stop_done;
	void *stop_arg;
};

/* In enum order, NUL-separated (utl_field): no pointer table to relocate. */
static const char state_names[] = "idle\0registering\0registered\0failing\0"
				  "authentication failed\0unregistering\0stopped";

const char *sip_reg_state_name(enum sip_reg_state s)
{
	return (unsigned)s <= SIP_REG_STOPPED ? utl_field(state_names, s) : "?";
}

void sip_reg_opts_init(struct sip_reg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->expires = 600;
	o->keepalive_s = 20;
	o->failback_s = 600;
	o->dscp = 26;
	o->reg_id = 1;
	o->path_mtu = 1500;
	o->backoff_base_ms = 30000;
	o->backoff_cap_ms = 600000;
	o->auth_retry_ms = 30 * 60 * 1000;
	o->t1_ms = 500;
	o->budget_burst = 6;
	o->budget_interval_ms = 15000;
	o->user_agent = "dialstack-agent/" PACKAGE_VERSION;
}

static void set_state(struct sip_reg *reg, enum sip_reg_state s)
{
	struct sip_reg_status st;

	if (reg->state == s && s != SIP_REG_REGISTERED)
		return;
	reg->state = s;
	reg->since = time(NULL);
	if (reg->o.on_state) {
		sip_reg_status(reg, &st);
		reg->o.on_state(reg, &st, reg->o.arg);
	}
}

static void set_error(struct sip_reg *reg, const char *fmt, ...) DSA_PRINTF(2, 3);
static void set_error(struct sip_reg *reg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reg->last_error, sizeof(reg->last_error), fmt, ap);
	va_end(ap);
	log_warn("sip", "%s", reg->last_error);
}

static int reg_port(const struct sip_registrar *r)
{
	return r->port > 0 ? r->port : r->transport == SIP_TP_TLS ? 5061 : 5060;
}

/* ------------------------------------------------------------ bindings */

static void b_start(struct binding *b);
static void b_send_register(struct binding *b);
static void b_failed(struct binding *b, const char *why, int retry_after);
static void b_failed_silent(struct binding *b, const char *why);
static void on_binding_ok(struct binding *b);
static void on_binding_failed(struct binding *b, int retry_after);
static void on_auth_failed(struct binding *b);
static void on_unregistered(struct binding *b);

static void b_stop_timers(struct binding *b)
{
	ev_timer_cancel(&b->t_e);
	ev_timer_cancel(&b->t_f);
	ev_timer_cancel(&b->t_refresh);
	ev_timer_cancel(&b->t_ka);
	ev_timer_cancel(&b->t_kawait);
	ev_timer_cancel(&b->t_family);
	ev_timer_cancel(&b->t_budget);
	b->queued = b->starved = false;
	b->probing = false;
	b->refresh_due = false;
	b->spread = false;
	b->defer_ms = 0;
}

/* A REGISTER is in flight or waiting for its token. */
static bool b_busy(const struct binding *b)
{
	return b->txn || b->queued;
}

/* Drop the flow and every timer; the binding is idle afterwards. */
static void b_reset(struct binding *b)
{
	b_stop_timers(b);
	if (b->tp) {
		sip_tp_close(b->tp);
		b->tp = NULL;
	}
	if (b->dns) {
		rsv_sip_cancel(b->dns);
		b->dns = NULL;
	}
	b->txn = false;
	b->resend = false;
	b->st = B_IDLE;
	b->stun = 0;
	b->ka_misses = 0;
	b->stun_waiting = false;
	b->have_mapped = false;
	b->granted = 0;
}

static const char *region(const struct binding *b)
{
	return b->reg->names[b->idx];
}

static void b_send_txn(struct binding *b)
{
	int err = sip_tp_send(b->tp, b->req, b->reqlen);

	if (err) {
		char why[160];

		snprintf(why, sizeof(why), "cannot send to the %s registrar: %s", region(b), strerror(-err));
		b->next_target = true;
		b_failed(b, why, -1);
	}
}

static void on_t_e(struct ev_timer *t)
{
	struct binding *b = container_of(t, struct binding, t_e);

	if (!b->txn)
		return;
	b_send_txn(b);
	if (b->txn) {
		b->rt_ms = b->rt_ms * 2 > T2_MS(b->reg) ? T2_MS(b->reg) : b->rt_ms * 2;
		ev_timer_set(&b->t_e, b->rt_ms);
	}
}

static void on_t_f(struct ev_timer *t)
{
	struct binding *b = container_of(t, struct binding, t_f);
	char why[160];

	if (!b->txn)
		return;
	b->txn = false;
	ev_timer_cancel(&b->t_e);
	if (b->targets && b->ti < b->targets->n && strcmp(b->targets->t[b->ti].via, "literal")) {
		char a[64];

		sip_sockaddr_str(&b->targets->t[b->ti].addr, a, sizeof(a));
		snprintf(why, sizeof(why), "no answer from the %s registrar %s (%s) over %s within %u s",
			 region(b), b->reg->hosts[b->idx], a,
			 sip_tp_name(b->reg->o.registrars[b->idx].transport), 64 * b->reg->o.t1_ms / 1000);
	} else {
		snprintf(why, sizeof(why), "no answer from the %s registrar %s:%d over %s within %u s",
			 region(b), b->reg->hosts[b->idx], reg_port(&b->reg->o.registrars[b->idx]),
			 sip_tp_name(b->reg->o.registrars[b->idx].transport), 64 * b->reg->o.t1_ms / 1000);
	}
	b->next_target = true;    /* RFC 3263 4.3: a timeout moves on to the next target */
	b_failed_silent(b, why);
}

/* The one way a REGISTER leaves: a token of the registrar's budget first (a
 * transaction's retransmissions are part of it), else wait, jittered, for the
 * next token with the request already built. */
static void txn_begin(struct binding *b)
{
	struct sip_reg *reg = b->reg;
	uint64_t wait = bgt_take(&b->bgt, ev_now_ms());

	if (wait) {
		wait += utl_random_range(0, reg->o.budget_interval_ms / 4);
		/* once per wait for a token, also when the REGISTER was already queued by the
		 * herd spread (b->queued is not enough to tell) */
		if (!b->starved) {
			reg->budget_notices++;
			log_notice("sip", "REGISTER budget for the %s registrar spent (%u in a burst, one "
				   "per %u s); next REGISTER in %llu ms", region(b), reg->o.budget_burst,
				   reg->o.budget_interval_ms / 1000, (unsigned long long)wait);
		}
		b->starved = true;
		b->queued = true;
		ev_timer_set(&b->t_budget, wait);
		return;
	}
	b->queued = b->starved = false;
	b->txn = true;
	b->rt_ms = reg->o.t1_ms;
	ev_timer_set(&b->t_f, 64 * (uint64_t)reg->o.t1_ms);
	if (reg->o.registrars[b->idx].transport == SIP_TP_UDP)
		ev_timer_set(&b->t_e, b->rt_ms);
	b_send_txn(b);
}

static void on_t_budget(struct ev_timer *t)
{
	struct binding *b = container_of(t, struct binding, t_budget);

	if (b->queued && b->tp)
		txn_begin(b);
}

/* Build and send a REGISTER (Expires: expires) carrying auth if given. */
static void b_register(struct binding *b, const char *auth_hdr, const char *auth_val)
{
	struct sip_reg *reg = b->reg;
	struct sip_register_req r = { 0 };
	char host[64];
	int port, err;

	err = sip_tp_local(b->tp, host, sizeof(host), &port);
	if (err) {
		b_failed(b, "cannot read the local address of the signalling socket", -1);
		return;
	}
	utl_strlcpy(b->local_host, host, sizeof(b->local_host));
	b->local_port = port;
	(void)utl_random_hex(b->branch, 8);
	b->cseq++;
	r.transport = sip_tp_name(reg->o.registrars[b->idx].transport);
	r.registrar = reg->domain;
	r.user = reg->user;
	r.domain = reg->domain;
	r.local_host = host;
	r.local_port = port;
	r.branch = b->branch;
	r.from_tag = b->from_tag;
	r.call_id = b->call_id;
	r.cseq = b->cseq;
	r.instance = reg->instance;
	r.reg_id = reg->o.reg_id;
	r.expires = b->unreg ? 0 : b->expires_req;
	r.user_agent = reg->user_agent;
	r.auth_header = auth_hdr;
	r.auth_value = auth_val;
	r.selftest = b->unreg ? NULL : reg->selftest;
	b->auth_sent = auth_val != NULL;
	err = sip_msg_build_register(&r, b->req, sizeof(b->req), &b->reqlen);
	if (!err && r.selftest && reg->o.registrars[b->idx].transport == SIP_TP_UDP &&
	    b->reqlen + 200 > (size_t)reg->o.path_mtu) {
		/* RFC 3261 18.1.1: keep UDP under the path MTU minus 200; drop the summary */
		if (!reg->selftest_dropped)
			log_warn("sip", "REGISTER would be %zu bytes over UDP (limit %d: path MTU %d "
				 "minus 200): self-test summary header left out", b->reqlen,
				 reg->o.path_mtu - 200, reg->o.path_mtu);
		reg->selftest_dropped = true;
		r.selftest = NULL;
		err = sip_msg_build_register(&r, b->req, sizeof(b->req), &b->reqlen);
	} else if (!err && r.selftest) {
		reg->selftest_dropped = false;
	}
	if (err) {
		b_failed(b, "cannot build the REGISTER (account fields too long or invalid)", -1);
		return;
	}
	if (sip_msg_contact_uri(&r, b->contact_uri, sizeof(b->contact_uri)) != 0)
		b->contact_uri[0] = '\0';
	log_debug("sip", "REGISTER to %s (CSeq %u, expires %d%s)", region(b), (unsigned)b->cseq,
		  r.expires, auth_val ? ", with credentials" : "");
	if (b->defer_ms) {
		/* built, waiting as for a token; txn_begin when the timer fires */
		b->queued = true;
		ev_timer_set(&b->t_budget, b->defer_ms);
		b->defer_ms = 0;
		return;
	}
	txn_begin(b);
}

static void b_send_register(struct binding *b)
{
	b->tries_423 = 0;
	b_register(b, NULL, NULL);
}

static void ka_send(struct binding *b);

/* The refresh is due: a check first (a keepalive asking for an answer, UDP STUN
 * or OPTIONS, a CRLF ping on streams), the REGISTER once it is answered
 * (b_alive). A refresh never starts into a registrar that went silent: its
 * retransmissions would still be running when the registrar returns, and every
 * phone whose refresh fell in the last 32 s of an outage would be answered in
 * the same 4 s (T2) after it, together. The check's miss is a keepalive miss
 * (retry, then silence: probes at a random phase, docs/sip.md). */
static void on_t_refresh(struct ev_timer *t)
{
	struct binding *b = container_of(t, struct binding, t_refresh);

	if (b_busy(b) || !b->tp)
		return;
	if (b->st != B_REGISTERED) {
		b_send_register(b);
		return;
	}
	b->refresh_due = true;
	if (!b->stun_waiting)
		ka_send(b);
}

/* The registrar answered a check: a refresh waiting for it goes now. */
static void b_alive(struct binding *b)
{
	if (!b->refresh_due)
		return;
	b->refresh_due = false;
	if (b->st == B_REGISTERED && !b_busy(b) && b->tp)
		b_send_register(b);
}

/* UDP keepalive for registrars that do not answer STUN: an OPTIONS, whose
 * answer (any status) proves the registrar is there and carries received/rport. */
static int options_ping(struct binding *b)
{
	struct sip_reg *reg = b->reg;
	struct sip_register_req r = { 0 };
	char buf[1024];
	size_t len;
	int err;

	(void)utl_random_hex(b->ping_branch, 8);
	r.transport = "UDP";
	r.registrar = reg->domain;
	r.user = reg->user;
	r.domain = reg->domain;
	r.local_host = b->local_host;
	r.local_port = b->local_port;
	r.branch = b->ping_branch;
	r.from_tag = b->from_tag;
	r.call_id = b->call_id;
	r.cseq = ++b->ping_cseq;
	r.user_agent = reg->user_agent;
	err = sip_msg_build_options(&r, buf, sizeof(buf), &len);
	if (!err)
		err = sip_tp_send(b->tp, buf, len);
	return err;
}

static void ka_send(struct binding *b)
{
	struct sip_reg *reg = b->reg;
	bool udp = reg->o.registrars[b->idx].transport == SIP_TP_UDP;
	int err;

	b->options_ping = udp && b->stun < 0;
	b->check_ms = ev_now_ms();
	err = b->options_ping ? options_ping(b) : sip_tp_ping(b->tp, udp);
	if (err) {
		b_failed(b, "cannot send the keepalive", -1);
		return;
	}
	if (!ev_timer_pending(&b->t_kawait)) {
		/* the deadline runs from the first unanswered ping, not the latest */
		b->stun_waiting = true;
		ev_timer_set(&b->t_kawait, udp ? STUN_WAIT_MS(reg) : PONG_WAIT_MS(reg));
	}
}

/* Whether this keepalive must ask for an answer: one is outstanding, or else
 * this is the keepalive nearest to one check period after the last proof of
 * life (older than the period less half an interval: a timer that fires a few
 * ms late each round must not pull the check one keepalive early); with
 * keepalive 20 s every third one. Streams always. */
static bool ka_check_due(const struct binding *b)
{
	uint64_t period = KA_CHECK_MS(b->reg);

	if (b->reg->o.registrars[b->idx].transport != SIP_TP_UDP || b->stun_waiting)
		return true;
	if (period > 3 * (uint64_t)b->ka_ms)
		period = 3 * (uint64_t)b->ka_ms;
	return ev_now_ms() + (uint64_t)b->ka_ms / 2 > b->heard_ms + period;
}

static void on_t_ka(struct ev_timer *t)
{
	struct binding *b = container_of(t, struct binding, t_ka);

	if (b->tp && b->st == B_REGISTERED) {
		if (ka_check_due(b))
			ka_send(b);
		else if (sip_tp_ping(b->tp, false) != 0)    /* UDP: CRLFCRLF, no answer */
			b_failed(b, "cannot send the keepalive", -1);
	}
	ev_timer_set(&b->t_ka, (uint64_t)b->ka_ms);
}

/* A keepalive went unanswered: UDP pings once more (3 s) before declaring the
 * registrar gone; a stream gets no second chance (TCP retransmits by itself).
 * Worst case with the 20 s default: 20 + 5 + 3 s (or 20 + 5 + 5 s while finding
 * out whether the registrar speaks STUN), then failover after 0-3 keepalive intervals of jitter. */
static void on_t_kawait(struct ev_timer *t)
{
	struct binding *b = container_of(t, struct binding, t_kawait);
	bool udp = b->reg->o.registrars[b->idx].transport == SIP_TP_UDP;
	char why[200];

	if (!b->stun_waiting)
		return;
	b->stun_waiting = false;
	if (b->probing) {
		b->probing = false;
		snprintf(why, sizeof(why), "the %s registrar is still silent (probe unanswered)", region(b));
		b_failed_silent(b, why);
		return;
	}
	if (udp && b->stun == 0) {
		/* no STUN answer yet: either no STUN support or the registrar is gone;
		 * an OPTIONS tells which (and keeps the mapping alive from now on) */
		log_info("sip", "%s registrar does not answer STUN; using OPTIONS keepalives", region(b));
		b->stun = -1;
		b->ka_misses = 1;
		ka_send(b);
		return;
	}
	if (udp && b->ka_misses == 0) {
		b->ka_misses = 1;
		ka_send(b);
		if (b->stun_waiting)
			ev_timer_set(&b->t_kawait, KA_RETRY_MS(b->reg));
		return;
	}
	snprintf(why, sizeof(why), "the %s registrar stopped answering keepalives (%s)", region(b),
		 udp ? (b->stun > 0 ? "STUN" : "OPTIONS") : "CRLF ping, connection lost");
	b->next_target = true;    /* the flow is gone: the next target before the other region */
	b_failed_silent(b, why);
}

/* Note the public address; true when it changed from a previously known one. */
static bool learn_public(struct binding *b, const char *addr)
{
	bool changed = b->public_addr[0] && strcmp(b->public_addr, addr) != 0;

	if (changed)
		log_notice("sip", "public address changed from %s to %s", b->public_addr, addr);
	utl_strlcpy(b->public_addr, addr, sizeof(b->public_addr));
	return changed;
}

static void tp_pong(struct sip_tp *tp, const struct sockaddr_storage *mapped, void *arg)
{
	struct binding *b = arg;

	b->stun_waiting = false;
	b->ka_misses = 0;
	b->heard_ms = b->check_ms;    /* the send time: checks stay in phase with t_ka */
	ev_timer_cancel(&b->t_kawait);
	if (!mapped) {
		b_alive(b);
		return;
	}
	b->stun = 1;
	if (b->have_mapped && !sip_sockaddr_equal(mapped, &b->stun_mapped)) {
		char s[64];

		sip_sockaddr_str(mapped, s, sizeof(s));
		b->stun_mapped = *mapped;
		learn_public(b, s);
		log_notice("sip", "NAT mapping towards the %s registrar changed (STUN); re-registering",
			   region(b));
		b->refresh_due = false;
		if (!b_busy(b))
			b_send_register(b);
		return;
	}
	b->stun_mapped = *mapped;
	b->have_mapped = true;
	b_alive(b);
}

/* When to refresh a binding granted for granted s: a uniformly random point of
 * [REFRESH_LO_PCT, REFRESH_HI_PCT] % of min(granted, REFRESH_CAP_S), and no later
 * than a whole retransmission cycle (64*T1) before expiry while that leaves half. */
static uint64_t refresh_ms(const struct sip_reg *reg, int granted)
{
	uint64_t g = (uint64_t)granted * 1000, e = g, lo, hi, margin = 64 * (uint64_t)reg->o.t1_ms;

	if (e > (uint64_t)REFRESH_CAP_S * 1000)
		e = (uint64_t)REFRESH_CAP_S * 1000;
	lo = e * REFRESH_LO_PCT / 100;
	hi = e * REFRESH_HI_PCT / 100;
	if (g > 2 * margin && hi > g - margin)
		hi = g - margin;
	if (lo > hi)
		lo = hi;
	return lo + utl_random_range(0, (uint32_t)(hi - lo));
}

static void handle_final_ok(struct binding *b, const struct sip_msg *m)
{
	struct sip_reg *reg = b->reg;
	char pub[96], why[420];
	int granted;
	uint64_t ms;

	if (b->auth_sent)
		b->nonce_ok = true;
	b->stale_run = 0;
	b->spread = false;
	if (b->unreg) {
		on_unregistered(b);
		return;
	}
	/* registered means the registrar holds our binding: our Contact by RFC 3261
	 * 19.1.4 comparison (and our +sip.instance / reg-id where echoed) */
	if (!sip_msg_our_contact(m, b->contact_uri, reg->instance, reg->o.reg_id, &granted)) {
		snprintf(why, sizeof(why), "the %s registrar did not keep our contact (its %d answer "
			 "lists no binding for %s)", region(b), m->status, b->contact_uri);
		b_failed(b, why, -1);
		return;
	}
	if (granted < 0)
		granted = b->expires_req;
	if (granted == 0) {
		b_failed(b, "registrar accepted the REGISTER but kept no binding (expires 0)", -1);
		return;
	}
	b->granted = granted;
	b->heard_ms = ev_now_ms();
	if (m->via_rport > 0) {
		snprintf(pub, sizeof(pub), "%s:%d", m->via_received[0] ? m->via_received : m->via_host,
			 m->via_rport);
		learn_public(b, pub);
	}
	ms = refresh_ms(reg, granted);
	ev_timer_set(&b->t_refresh, ms);
	/* RFC 5626 4.4.1: with a Flow-Timer, keepalives at 80-100 % of it */
	b->ka_ms = reg->o.keepalive_s * 1000;
	if (m->flow_timer > 0 && m->flow_timer * 1000 < b->ka_ms)
		b->ka_ms = (int)utl_random_range((uint32_t)m->flow_timer * 800, (uint32_t)m->flow_timer * 1000);
	if (b->st != B_REGISTERED) {
		b->st = B_REGISTERED;
		ev_timer_set(&b->t_ka, (uint64_t)b->ka_ms);
	}
	log_info("sip", "registered on %s for %d s (refresh in %llu s)", region(b), granted,
		 (unsigned long long)(ms / 1000));
	on_binding_ok(b);
	if (b->resend && b->st == B_REGISTERED && !b_busy(b) && b->tp) {
		b->resend = false;
		b_send_register(b);
	}
}

static void handle_challenge(struct binding *b, const struct sip_msg *m)
{
	struct sip_reg *reg = b->reg;
	const struct sip_challenge *ch = &m->challenge;
	char cnonce[33], val[1024];
	const char *user = reg->auth_user ? reg->auth_user : reg->user;
	char uri[300];
	int err;

	if (!m->has_challenge) {
		set_error(reg, "%s registrar asks for an authentication this phone cannot answer (%s)",
			  region(b), m->challenge_err == -ENOTSUP ? "unsupported digest algorithm or qop"
								   : "no usable digest challenge");
		on_auth_failed(b);
		return;
	}
	if (b->auth_sent && ch->stale && ++b->stale_run > STALE_MAX) {
		char why[200];

		snprintf(why, sizeof(why), "the %s registrar keeps answering with stale nonces (%d "
			 "challenges with stale=true in a row)", region(b), b->stale_run);
		b_failed(b, why, -1);
		return;
	}
	if (b->auth_sent && !ch->stale) {
		set_error(reg, "authentication failed: check the SIP password (the %s registrar "
			  "rejected the credentials of %s)", region(b), user);
		on_auth_failed(b);
		return;
	}
	if (!strcmp(ch->nonce, b->answered_nonce) && !b->nonce_ok) {
		set_error(reg, "authentication failed: the %s registrar repeated a nonce already "
			  "answered; check the SIP password", region(b));
		on_auth_failed(b);
		return;
	}
	if (!strcmp(ch->nonce, b->answered_nonce)) {
		/* the same nonce again after it worked (a later refresh): next nonce count */
		b->nc++;
	} else {
		utl_strlcpy(b->answered_nonce, ch->nonce, sizeof(b->answered_nonce));
		b->nc = 1;
	}
	b->nonce_ok = false;
	if (sip_digest_cnonce(cnonce, sizeof(cnonce)) != 0) {
		b_failed(b, "no random source for the digest cnonce", -1);
		return;
	}
	snprintf(uri, sizeof(uri), "sip:%s", reg->domain);
	err = sip_digest_authorization(ch, user, reg->password, "REGISTER", uri, b->nc, cnonce, val,
				       sizeof(val));
	if (err) {
		set_error(reg, "cannot answer the %s registrar's challenge (user name or realm "
			  "not usable)", region(b));
		on_auth_failed(b);
		return;
	}
	if (b->spread) {
		b->spread = false;
		b->defer_ms = utl_random_range(0, SPREAD_MS(reg));
	}
	b_register(b, ch->proxy ? "Proxy-Authorization" : "Authorization", val);
	explicit_bzero(val, sizeof(val));
}

static void handle_response(struct binding *b, const struct sip_msg *m)
{
	struct sip_reg *reg = b->reg;
	char why[200];

	ev_timer_cancel(&b->t_family);    /* this family answers */
	if (!strcmp(m->cseq_method, "OPTIONS") && !strcmp(m->call_id, b->call_id) &&
	    !strncmp(m->via_branch, "z9hG4bK", 7) && !strcmp(m->via_branch + 7, b->ping_branch)) {
		/* keepalive answered (any status will do) */
		b->stun_waiting = false;
		b->ka_misses = 0;
		b->heard_ms = b->check_ms;
		b->ping_branch[0] = '\0';
		ev_timer_cancel(&b->t_kawait);
		if (b->probing) {
			/* the silent registrar answers again: now the REGISTER */
			b->probing = false;
			reg->silent = false;
			reg->probe_at = 0;
			log_info("sip", "the %s registrar answers again; registering", region(b));
			b->st = B_REGISTERING;
			b->spread = true;
			b_send_register(b);
			return;
		}
		if (m->via_rport > 0 && b->st == B_REGISTERED) {
			char pub[96];

			snprintf(pub, sizeof(pub), "%s:%d", m->via_received[0] ? m->via_received :
				 m->via_host, m->via_rport);
			if (learn_public(b, pub) && !b_busy(b)) {
				log_notice("sip", "NAT mapping towards the %s registrar changed; "
					   "re-registering", region(b));
				b->refresh_due = false;
				b_send_register(b);
			}
		}
		b_alive(b);
		return;
	}
	if (!b->txn || strcmp(m->cseq_method, "REGISTER") || m->cseq != b->cseq ||
	    strcmp(m->call_id, b->call_id) || strncmp(m->via_branch, "z9hG4bK", 7) ||
	    strcmp(m->via_branch + 7, b->branch)) {
		log_debug("sip", "stray response %d ignored", m->status);
		return;     /* a retransmitted or foreign response (what Timer K absorbs) */
	}
	if (m->status < 200) {
		b->rt_ms = T2_MS(b->reg);    /* proceeding: retransmit at T2 */
		return;
	}
	b->txn = false;
	reg->silent = false;
	reg->probe_at = 0;
	ev_timer_cancel(&b->t_e);
	ev_timer_cancel(&b->t_f);
	if (m->status < 300) {
		handle_final_ok(b, m);
		return;
	}
	if (b->unreg) {
		if (m->status == 401 || m->status == 407) {
			if (m->has_challenge && !b->auth_sent) {
				handle_challenge(b, m);
				return;
			}
		}
		on_unregistered(b);
		return;
	}
	switch (m->status) {
	case 401:
	case 407:
		handle_challenge(b, m);
		return;
	case 423:
		/* Min-Expires is already clamped (sip_num_clamp: at most 86400 s) */
		if (m->min_expires > b->expires_req && b->tries_423 < 3) {
			log_notice("sip", "%s registrar wants at least %d s (423); retrying", region(b),
				   m->min_expires);
			b->expires_req = m->min_expires;
			b->tries_423++;
			b_register(b, NULL, NULL);
			return;
		}
		snprintf(why, sizeof(why), "%s registrar rejected the expiry (423) without a usable "
			 "Min-Expires", region(b));
		b_failed(b, why, -1);
		return;
	case 403:
		set_error(reg, "authentication failed: check the SIP password (the %s registrar "
			  "answered 403 Forbidden)", region(b));
		on_auth_failed(b);
		return;
	case 404:
		set_error(reg, "authentication failed: SIP account %s@%s unknown to the %s registrar "
			  "(404); check the provisioned user and domain", reg->user, reg->domain, region(b));
		on_auth_failed(b);
		return;
	default:
		snprintf(why, sizeof(why), "%s registrar answered %d %s%s", region(b), m->status,
			 m->reason, m->status == 503 && m->retry_after > 0 ? " (with Retry-After)" : "");
		b->next_target = m->status == 503;    /* RFC 3263 4.3 */
		b_failed(b, why, m->status == 503 ? m->retry_after : -1);
		return;
	}
}

static void reply(struct binding *b, const struct sip_msg *m, const struct sockaddr_storage *to,
		  int code, const char *reason, const char *extra)
{
	char *out = NULL, tag[20];
	size_t len;

	(void)utl_random_hex(tag, 8);
	if (sip_msg_build_response(m, code, reason, tag, extra, &out, &len) == 0) {
		(void)sip_tp_send_to(b->tp, out, len, to);
		free(out);
	}
}

static void handle_request(struct binding *b, const struct sip_msg *m,
			   const struct sockaddr_storage *from, bool from_registrar)
{
	/* NUL-separated (utl_field's rows): no pointer table to relocate */
	static const char known[] = "INVITE\0BYE\0CANCEL\0MESSAGE\0SUBSCRIBE\0INFO\0"
				    "UPDATE\0REFER\0PRACK\0PUBLISH\0REGISTER\0";
	const char *k;

	if (!strcmp(m->method, "ACK"))
		return;
	if (!from_registrar) {
		log_warn("sip", "%s from an address that is not the registrar refused (403)", m->method);
		reply(b, m, from, 403, "Forbidden", NULL);
		return;
	}
	/* RFC 3261 8.2: a request is checked before it is answered */
	if (strcmp(m->cseq_method, m->method)) {
		log_warn("sip", "%s whose CSeq says %s refused (400)", m->method, m->cseq_method);
		reply(b, m, from, 400, "Bad Request - CSeq method does not match", NULL);
		return;
	}
	if (strcmp(m->method, "CANCEL")) {
		static const char *const supported[] = { "path", "outbound", NULL };
		char unsup[200], extra[240];

		if (sip_msg_unsupported(m, supported, unsup, sizeof(unsup)) > 0) {
			log_warn("sip", "%s requiring unsupported extensions (%s) refused (420)", m->method,
				 unsup);
			snprintf(extra, sizeof(extra), "Unsupported: %s\r\n", unsup);
			reply(b, m, from, 420, "Bad Extension", extra);
			return;
		}
	}
	if (!strcmp(m->method, "OPTIONS")) {
		reply(b, m, from, 200, "OK", ALLOW "Accept: application/sdp\r\nSupported: path, outbound\r\n");
		return;
	}
	if (!strcmp(m->method, "NOTIFY")) {
		if (strcasecmp(m->event, "check-sync")) {
			reply(b, m, from, 489, "Bad Event", "Allow-Events: check-sync\r\n");
			return;
		}
		reply(b, m, from, 200, "OK", NULL);
		if (b->reg->last_check_sync && ev_now_ms() - b->reg->last_check_sync < CHECK_SYNC_MIN_MS) {
			log_info("sip", "check-sync NOTIFY from the %s registrar within %u s of the last "
				 "one: answered, not acted on", region(b), CHECK_SYNC_MIN_MS / 1000);
			return;
		}
		b->reg->last_check_sync = ev_now_ms();
		log_notice("sip", "check-sync NOTIFY from the %s registrar", region(b));
		if (b->reg->o.on_check_sync)
			b->reg->o.on_check_sync(b->reg, b->reg->o.arg);
		return;
	}
	for (k = known; *k; k += strlen(k) + 1)
		if (!strcmp(m->method, k)) {
			reply(b, m, from, 405, "Method Not Allowed", ALLOW);
			return;
		}
	reply(b, m, from, 501, "Not Implemented", ALLOW);
}

static void tp_msg(struct sip_tp *tp, const char *buf, size_t len,
		   const struct sockaddr_storage *from, void *arg)
{
	struct binding *b = arg;
	struct sip_msg m;
	const char *why;
	bool stream = sip_tp_kind_of(tp) != SIP_TP_UDP;
	bool from_registrar = sip_sockaddr_equal(from, &b->addr);
	int err;

	err = sip_msg_parse(buf, len, stream, &m, &why);
	if (err) {
		log_warn("sip", "dropped a broken message from the %s registrar: %s", region(b), why);
		return;
	}
	if (m.is_request)
		handle_request(b, &m, from, from_registrar);
	else if (from_registrar)
		handle_response(b, &m);
	sip_msg_free(&m);
}

static void tp_up(struct sip_tp *tp, void *arg)
{
	struct binding *b = arg;

	if (b->st != B_CONNECTING)
		return;
	if (b->reg->silent && sip_tp_kind_of(tp) == SIP_TP_UDP) {
		/* the registrar went silent: one OPTIONS first, the REGISTER once it answers */
		if (sip_tp_local(tp, b->local_host, sizeof(b->local_host), &b->local_port) != 0 ||
		    options_ping(b) != 0) {
			b_failed_silent(b, "cannot send the probe to the registrar");
			return;
		}
		b->st = B_REGISTERING;
		b->probing = true;
		b->stun_waiting = true;
		ev_timer_set(&b->t_kawait, STUN_WAIT_MS(b->reg));
		return;
	}
	b->st = B_REGISTERING;
	b->spread = b->reg->silent;    /* a stream's connect was the probe */
	b_send_register(b);
}

static void tp_error(struct sip_tp *tp, int err, const char *why, void *arg)
{
	struct binding *b = arg;

	if (b->st == B_UNREGISTERING || b->unreg) {
		on_unregistered(b);
		return;
	}
	b->next_target = true;
	b_failed_silent(b, why);
}

static void b_connect(struct binding *b)
{
	struct sip_reg *reg = b->reg;
	const struct sip_registrar *r = &reg->o.registrars[b->idx];
	struct sip_tp_opts to = { 0 };
	static const struct sip_tp_cbs cbs = { tp_up, tp_msg, tp_pong, tp_error };
	char why[200];
	int err;

	to.kind = r->transport;
	to.peer = b->addr;
	to.host = reg->hosts[b->idx];
	to.ca_file = reg->ca_file;
	to.dscp = reg->o.dscp;
	to.connect_timeout_ms = (int)(64 * reg->o.t1_ms) < 10000 ? (int)(64 * reg->o.t1_ms) : 10000;
	to.local_port = r->transport == SIP_TP_UDP ? b->local_port : 0;
	b->st = B_CONNECTING;
	err = sip_tp_open(&to, &cbs, b, &b->tp);
	if (err) {
		b->tp = NULL;
		if (err == -ENOENT && r->transport == SIP_TP_TLS)
			snprintf(why, sizeof(why), "cannot load the provisioned CA bundle %s for TLS",
				 reg->ca_file ? reg->ca_file : "(system default)");
		else
			snprintf(why, sizeof(why), "cannot open a %s socket to the %s registrar: %s",
				 sip_tp_name(r->transport), region(b), strerror(-err));
		b_failed(b, why, -1);
	}
}

/* Connect to the target in use (b->targets->t[b->ti]). */
static void b_use_target(struct binding *b)
{
	const struct rsv_target *t = &b->targets->t[b->ti];
	char a[64];

	b->addr = t->addr;    /* the port is in it: SRV's, the provisioned one or the default */
	sip_sockaddr_str(&b->addr, a, sizeof(a));
	log_info("sip", "%s registrar %s: target %zu of %zu, %s (%s, priority %u)", region(b),
		 b->reg->hosts[b->idx], b->ti + 1, b->targets->n, a, t->via, t->prio);
	/* the same host's other family is next: do not wait Timer F for this one */
	if (b->ti + 1 < b->targets->n && b->targets->t[b->ti + 1].addr.ss_family != t->addr.ss_family &&
	    !strcmp(b->targets->t[b->ti + 1].host, t->host))
		ev_timer_set(&b->t_family, FAMILY_WAIT_MS(b->reg));
	b_connect(b);
}

static void on_t_family(struct ev_timer *tm)
{
	struct binding *b = container_of(tm, struct binding, t_family);
	char why[200], a[64];

	if (!b->targets || b->ti >= b->targets->n || b->st == B_REGISTERED || b->unreg)
		return;
	sip_sockaddr_str(&b->targets->t[b->ti].addr, a, sizeof(a));
	snprintf(why, sizeof(why), "no answer from the %s registrar over %s (%s) within %u ms; trying %s",
		 region(b), b->targets->t[b->ti].addr.ss_family == AF_INET6 ? "IPv6" : "IPv4", a,
		 FAMILY_WAIT_MS(b->reg), b->targets->t[b->ti + 1].addr.ss_family == AF_INET6 ? "IPv6" : "IPv4");
	b->next_target = true;
	b_failed(b, why, -1);
}

static void dns_done(struct rsv_sip *d, const struct rsv_targets *res, void *arg)
{
	struct binding *b = arg;
	char why[300];
	uint32_t ttl = RSV_TTL_MAX;
	size_t i;

	b->dns = NULL;
	if (res->err) {
		snprintf(why, sizeof(why), "cannot resolve the %s registrar %s: %s", region(b),
			 b->reg->hosts[b->idx], rsv_strerror(res->err));
		b_failed(b, why, -1);
		return;
	}
	if (!b->targets && !(b->targets = malloc(sizeof(*b->targets)))) {
		b_failed(b, "out of memory", -1);
		return;
	}
	*b->targets = *res;
	for (i = 0; i < res->n; i++)
		if (res->t[i].ttl < ttl)
			ttl = res->t[i].ttl;
	b->targets_until = ev_now_ms() + (uint64_t)ttl * 1000;
	b->ti = 0;
	b_use_target(b);
}

/* Begin registering this binding from scratch: resolve, connect, REGISTER. */
static void b_start(struct binding *b)
{
	struct sip_reg *reg = b->reg;
	int err;

	b_reset(b);
	b->unreg = false;
	b->expires_req = reg->o.expires;
	b->answered_nonce[0] = '\0';
	b->nonce_ok = false;
	b->stale_run = 0;
	b->public_addr[0] = '\0';
	b->st = B_RESOLVING;
	/* the targets are kept while their TTL holds, and through a failover across them */
	if (b->targets && b->ti < b->targets->n && (b->ti > 0 || ev_now_ms() < b->targets_until)) {
		b_use_target(b);
		return;
	}
	err = rsv_sip_resolve(reg->hosts[b->idx], reg->o.registrars[b->idx].port,
			      1u << reg->o.registrars[b->idx].transport,
			      (enum rsv_tp)reg->o.registrars[b->idx].transport, NULL, dns_done, b, &b->dns);
	if (err) {
		char why[300];

		b->dns = NULL;
		snprintf(why, sizeof(why), "cannot resolve the %s registrar %s: %s", region(b),
			 reg->hosts[b->idx], rsv_strerror(err));
		b_failed(b, why, -1);
	}
}

static void b_failed(struct binding *b, const char *why, int retry_after)
{
	struct sip_reg *reg = b->reg;
	bool next = b->next_target;

	b->next_target = false;
	if (b->unreg) {
		on_unregistered(b);
		return;
	}
	set_error(reg, "%s", why);
	b_reset(b);
	if (next && b->targets && b->ti + 1 < b->targets->n) {
		/* RFC 3263 4.3: the next target of this region before the other region */
		b->ti++;
		log_notice("sip", "%s; trying the next %s target", why, region(b));
		b_start(b);
		return;
	}
	if (b->targets)
		b->ti = 0;    /* the next round starts again from the best target */
	on_binding_failed(b, retry_after);
}

/* A failure by silence (no answer, keepalives lost, flow broken): the next try
 * probes before it registers, at the probe interval instead of the backoff. */
static void b_failed_silent(struct binding *b, const char *why)
{
	if (!b->unreg)
		b->reg->silent = true;
	b_failed(b, why, -1);
}

/* ------------------------------------------------------------ the client */

static void schedule_retry(struct sip_reg *reg, uint64_t ms);

/* Arm the fail-back probe: failback_s plus up to a quarter of it, so a fleet
 * that failed over together does not come back together; 0: never. */
static void arm_failback(struct sip_reg *reg)
{
	uint32_t f = (uint32_t)reg->o.failback_s * 1000u;

	if (f)
		ev_timer_set(&reg->t_failback, (uint64_t)f + utl_random_range(0, f / 4));
}

static int other(const struct sip_reg *reg, int idx)
{
	return reg->o.n_registrars > 1 ? 1 - idx : idx;
}

static void activate(struct sip_reg *reg, int idx)
{
	reg->active = idx;
	set_state(reg, SIP_REG_REGISTERING);
	b_start(&reg->b[idx]);
}

static void on_binding_ok(struct binding *b)
{
	struct sip_reg *reg = b->reg;

	if (reg->state == SIP_REG_STOPPING || reg->state == SIP_REG_STOPPED)
		return;
	if (b->idx != reg->active) {
		/* fail-back probe: the preferred region answers again; move there */
		struct binding *old = &reg->b[reg->active];

		log_notice("sip", "back on the %s registrar; leaving %s", region(b), region(old));
		if (old->tp && old->st == B_REGISTERED && !b_busy(old)) {
			old->unreg = true;
			old->st = B_UNREGISTERING;
			ev_timer_cancel(&old->t_refresh);
			ev_timer_cancel(&old->t_ka);
			b_send_register(old);
		} else {
			b_reset(old);
		}
		reg->active = b->idx;
	}
	bo_reset(&reg->bo);
	reg->tried = 0;
	reg->last_error[0] = '\0';
	set_state(reg, SIP_REG_REGISTERED);
	if (reg->active != reg->primary && reg->o.n_registrars > 1)
		arm_failback(reg);
	else
		ev_timer_cancel(&reg->t_failback);
}

static void on_binding_failed(struct binding *b, int retry_after)
{
	struct sip_reg *reg = b->reg;
	uint64_t now = ev_now_ms(), wait;
	int next;

	/* retry_after is clamped (1 s .. 1 h) by sip_num_clamp; plus up to a quarter, jittered */
	if (retry_after > 0)
		reg->not_before[b->idx] = now + (uint64_t)retry_after * 1000 +
					  utl_random_range(0, (uint32_t)retry_after * 250);
	if (reg->state == SIP_REG_STOPPING || reg->state == SIP_REG_STOPPED ||
	    reg->state == SIP_REG_AUTH_FAILED)
		return;
	if (b->idx != reg->active) {
		/* fail-back probe failed: stay where we are, try again later */
		log_info("sip", "%s registrar still unavailable; staying on %s", region(b),
			 region(&reg->b[reg->active]));
		if (reg->b[reg->active].st == B_REGISTERED) {
			reg->last_error[0] = '\0';
			set_state(reg, SIP_REG_REGISTERED);
		}
		arm_failback(reg);
		return;
	}
	reg->tried++;
	next = other(reg, b->idx);
	if (next != b->idx && reg->tried < reg->o.n_registrars && reg->not_before[next] <= now) {
		ev_timer_cancel(&reg->t_failback);
		if (reg->silent) {
			/* a region that went silent loses its whole fleet at once: spread
			 * the move over 3 keepalive intervals (docs/sip.md) */
			uint32_t j = utl_random_range(0, 3u * (uint32_t)reg->o.keepalive_s * 1000u);

			log_notice("sip", "failing over from %s to %s in %u ms", region(b),
				   reg->names[next], (unsigned)j);
			reg->active = next;
			set_state(reg, SIP_REG_REGISTERING);
			schedule_retry(reg, j);
			return;
		}
		log_notice("sip", "failing over from %s to %s", region(b), reg->names[next]);
		activate(reg, next);
		return;
	}
	/* every registrar failed in this round: back off (a silent registrar: probe
	 * interval), then start again with the preferred */
	wait = bo_next(&reg->bo);
	if (reg->silent && !reg->probe_at)
		wait = utl_random_range(0, PROBE_PERIOD(reg));
	else if (reg->silent)
		wait = reg->probe_at + PROBE_PERIOD(reg) > now + 1000 ? reg->probe_at + PROBE_PERIOD(reg) - now : 1000;
	reg->tried = 0;
	reg->active = reg->primary;
	if (reg->not_before[reg->primary] > now + wait) {
		if (reg->o.n_registrars > 1 && reg->not_before[other(reg, reg->primary)] < reg->not_before[reg->primary]) {
			reg->active = other(reg, reg->primary);
			wait = reg->not_before[reg->active] > now + wait ? reg->not_before[reg->active] - now : wait;
		} else {
			wait = reg->not_before[reg->primary] - now;
		}
	}
	set_state(reg, SIP_REG_FAILING);
	log_notice("sip", "all registrars failed; next attempt in %llu s",
		   (unsigned long long)(wait / 1000));
	schedule_retry(reg, wait);
}

static void on_auth_failed(struct binding *b)
{
	struct sip_reg *reg = b->reg;
	int i;

	if (b->unreg) {
		on_unregistered(b);
		return;
	}
	for (i = 0; i < reg->o.n_registrars; i++)
		b_reset(&reg->b[i]);
	ev_timer_cancel(&reg->t_failback);
	reg->active = reg->primary;
	reg->tried = 0;
	set_state(reg, SIP_REG_AUTH_FAILED);
	schedule_retry(reg, utl_random_range(reg->o.auth_retry_ms - reg->o.auth_retry_ms / 4,
					     reg->o.auth_retry_ms));
}

static void on_t_retry(struct ev_timer *t)
{
	struct sip_reg *reg = container_of(t, struct sip_reg, t_retry);

	if (reg->state == SIP_REG_STOPPING || reg->state == SIP_REG_STOPPED)
		return;
	/* a probe round starts here (a jittered failover continues the round) */
	reg->probe_at = !reg->silent ? 0 : reg->tried == 0 ? ev_now_ms() : reg->probe_at;
	activate(reg, reg->active < 0 ? reg->primary : reg->active);
}

static void schedule_retry(struct sip_reg *reg, uint64_t ms)
{
	ev_timer_set(&reg->t_retry, ms);
}

static void on_t_failback(struct ev_timer *t)
{
	struct sip_reg *reg = container_of(t, struct sip_reg, t_failback);
	struct binding *p = &reg->b[reg->primary];

	if (reg->state != SIP_REG_REGISTERED || reg->active == reg->primary)
		return;
	if (reg->not_before[reg->primary] > ev_now_ms()) {
		ev_timer_set(&reg->t_failback, reg->not_before[reg->primary] - ev_now_ms());
		return;
	}
	log_info("sip", "probing the %s registrar for fail-back", region(p));
	b_start(p);
}

void sip_reg_kick(struct sip_reg *reg)
{
	int i;

	if (reg->state != SIP_REG_FAILING && reg->state != SIP_REG_AUTH_FAILED)
		return;
	/* forget every hold (backoff, Retry-After, auth retry); the budget still applies */
	for (i = 0; i < SIP_REG_MAX_REGISTRARS; i++)
		reg->not_before[i] = 0;
	bo_reset(&reg->bo);
	reg->tried = 0;
	reg->active = reg->primary;
	if (reg->state == SIP_REG_AUTH_FAILED)
		set_state(reg, SIP_REG_FAILING);
	log_notice("sip", "registration retry brought forward (resync)");
	schedule_retry(reg, utl_random_range(0, KICK_JITTER_MS));
}

/* ------------------------------------------------------------ stop */

static void stop_finish(struct sip_reg *reg)
{
	int i;
	sip_reg_event_cb done = reg->stop_done;

	for (i = 0; i < reg->o.n_registrars; i++)
		b_reset(&reg->b[i]);
	ev_timer_cancel(&reg->t_stop);
	ev_timer_cancel(&reg->t_retry);
	ev_timer_cancel(&reg->t_failback);
	reg->stop_done = NULL;
	set_state(reg, SIP_REG_STOPPED);
	if (done)
		done(reg, reg->stop_arg);
}

static void on_unregistered(struct binding *b)
{
	struct sip_reg *reg = b->reg;
	int i;

	b_reset(b);
	b->unreg = false;
	if (reg->state != SIP_REG_STOPPING)
		return;
	for (i = 0; i < reg->o.n_registrars; i++)
		if (reg->b[i].st != B_IDLE)
			return;
	stop_finish(reg);
}

static void on_t_stop(struct ev_timer *t)
{
	struct sip_reg *reg = container_of(t, struct sip_reg, t_stop);

	log_warn("sip", "unregistration did not finish in time; stopping anyway");
	stop_finish(reg);
}

void sip_reg_stop(struct sip_reg *reg, unsigned max_ms, sip_reg_event_cb done, void *arg)
{
	int i, pending = 0;

	reg->stop_done = done;
	reg->stop_arg = arg;
	ev_timer_cancel(&reg->t_retry);
	ev_timer_cancel(&reg->t_failback);
	set_state(reg, SIP_REG_STOPPING);
	for (i = 0; i < reg->o.n_registrars; i++) {
		struct binding *b = &reg->b[i];

		/* every flow that holds (or may hold) a binding gets Expires: 0 */
		if (b->tp && sip_tp_is_up(b->tp) && (b->st == B_REGISTERED || b->st == B_REGISTERING ||
						      b->st == B_UNREGISTERING)) {
			b_stop_timers(b);
			b->txn = false;
			b->queued = false;
			b->unreg = true;
			b->st = B_UNREGISTERING;
			b_send_register(b);
			if (b->st != B_IDLE)
				pending++;
		} else {
			b_reset(b);
		}
	}
	if (!pending) {
		stop_finish(reg);
		return;
	}
	ev_timer_set(&reg->t_stop, max_ms);
}

/* ------------------------------------------------------------ setup */

const char *sip_reg_target_host(const struct sip_reg *reg, unsigned i)
{
	const struct binding *b = &reg->b[i];

	return i < SIP_REG_MAX_REGISTRARS && b->targets && b->ti < b->targets->n ? b->targets->t[b->ti].host : NULL;
}

void sip_reg_status(const struct sip_reg *reg, struct sip_reg_status *st)
{
	int idx = reg->active >= 0 ? reg->active : reg->primary;
	const struct binding *b = &reg->b[idx];

	memset(st, 0, sizeof(*st));
	st->state = reg->state;
	st->state_name = sip_reg_state_name(reg->state);
	utl_strlcpy(st->region, reg->names[idx], sizeof(st->region));
	snprintf(st->registrar, sizeof(st->registrar), "%s:%d", reg->hosts[idx],
		 reg_port(&reg->o.registrars[idx]));
	if (b->targets && b->ti < b->targets->n) {
		char a[64];

		sip_sockaddr_str(&b->targets->t[b->ti].addr, a, sizeof(a));
		snprintf(st->target, sizeof(st->target), "%s %s via %s, %zu of %zu", a,
			 b->targets->t[b->ti].addr.ss_family == AF_INET6 ? "IPv6" : "IPv4",
			 b->targets->t[b->ti].via, b->ti + 1, b->targets->n);
	}
	st->transport = sip_tp_name(reg->o.registrars[idx].transport);
	st->since = reg->since;
	utl_strlcpy(st->public_addr, b->public_addr, sizeof(st->public_addr));
	utl_strlcpy(st->last_error, reg->last_error, sizeof(st->last_error));
	st->expires = reg->state == SIP_REG_REGISTERED ? b->granted : 0;
	st->failures = reg->bo.failures;
	st->selftest_dropped = reg->selftest_dropped;
	st->budget_notices = reg->budget_notices;
	for (idx = 0; idx < reg->o.n_registrars; idx++) {
		st->register_txns += (unsigned long)reg->b[idx].bgt.taken;
		st->budget_waits += (unsigned long)reg->b[idx].bgt.refused;
	}
}

int sip_reg_set_selftest(struct sip_reg *reg, const char *value)
{
	char *v = NULL;
	int i;

	if (value && !sip_header_value_ok(value, SELFTEST_MAX))
		return -EINVAL;
	if (value && !(v = strdup(value)))
		return -ENOMEM;
	free(reg->selftest);
	reg->selftest = v;
	reg->selftest_dropped = false;
	for (i = 0; i < reg->o.n_registrars; i++) {
		struct binding *b = &reg->b[i];

		if (b->st == B_REGISTERED && !b_busy(b) && b->tp)
			b_send_register(b);
		else if (b->st == B_REGISTERED && b->tp)
			b->resend = true;        /* after the REGISTER under way */
	}
	return 0;
}

static bool token_ok(const char *s, size_t max)
{
	return s && *s && sip_header_value_ok(s, max) && !strpbrk(s, " <>\"@;:,\\");
}

int sip_reg_new(const struct sip_reg_opts *o, struct sip_reg **out, const char **why)
{
	struct sip_reg *reg;
	int i, err = -EINVAL;
	const char *w = "";

	*out = NULL;
	if (!token_ok(o->user, 64)) {
		*why = "SIP user missing or holds characters not allowed in a SIP user name";
		return -EINVAL;
	}
	if (o->auth_user && !sip_header_value_ok(o->auth_user, 128)) {
		*why = "SIP auth user holds characters not allowed";
		return -EINVAL;
	}
	if (!o->password || strlen(o->password) > 256) {
		*why = "SIP password missing or longer than 256 characters";
		return -EINVAL;
	}
	if (!o->domain || !*o->domain || !sip_header_value_ok(o->domain, 253) || strpbrk(o->domain, " <>\"@;,\\")) {
		*why = "SIP domain missing or not a host name";
		return -EINVAL;
	}
	if (o->n_registrars < 1 || o->n_registrars > SIP_REG_MAX_REGISTRARS) {
		*why = "one or two registrars are needed";
		return -EINVAL;
	}
	if (o->expires < 60 || o->expires > 86400 || o->keepalive_s < 1 || o->keepalive_s > 3600 ||
	    o->failback_s < 0 || o->failback_s > 86400 || o->dscp < 0 || o->dscp > 63 || o->t1_ms < 10 || o->t1_ms > 5000 ||
	    o->path_mtu < 576 || o->backoff_base_ms < 1 || o->auth_retry_ms < 1000 ||
	    o->budget_burst < 2 || o->budget_burst > 100 || o->budget_interval_ms < 100) {
		*why = "a SIP timer, DSCP or MTU setting is out of range";
		return -EINVAL;
	}
	if (o->selftest && !sip_header_value_ok(o->selftest, SELFTEST_MAX)) {
		*why = "self-test summary holds characters not allowed in a header or is over 200 bytes";
		return -EINVAL;
	}
	reg = calloc(1, sizeof(*reg));
	if (!reg) {
		*why = "out of memory";
		return -ENOMEM;
	}
	reg->o = *o;
	reg->active = -1;
	if (sip_instance_uuid(o->mac, reg->instance, sizeof(reg->instance)) != 0) {
		w = "device MAC address missing or malformed (need 12 hex digits)";
		goto out;
	}
	for (i = 0; i < o->n_registrars; i++) {
		const struct sip_registrar *r = &o->registrars[i];

		if (!r->host || !*r->host || !sip_header_value_ok(r->host, 253) ||
		    strpbrk(r->host, " <>\"@;,\\/")) {
			w = "registrar host missing or not a host name";
			goto out;
		}
		if (r->port < 0 || r->port > 65535 || (unsigned)r->transport > SIP_TP_TLS) {
			w = "registrar port or transport out of range";
			goto out;
		}
		utl_strlcpy(reg->hosts[i], r->host, sizeof(reg->hosts[i]));
		snprintf(reg->names[i], sizeof(reg->names[i]), "%s",
			 r->name && *r->name ? r->name : i ? "secondary" : "primary");
		reg->o.registrars[i].host = reg->hosts[i];
		reg->o.registrars[i].name = reg->names[i];
	}
	reg->primary = 0;
	if (o->n_registrars > 1 && o->registrars[1].priority < o->registrars[0].priority)
		reg->primary = 1;
	reg->user = strdup(o->user);
	reg->auth_user = o->auth_user ? strdup(o->auth_user) : NULL;
	reg->password = strdup(o->password);
	reg->domain = strdup(o->domain);
	reg->ca_file = o->ca_file ? strdup(o->ca_file) : NULL;
	reg->user_agent = strdup(o->user_agent && sip_header_value_ok(o->user_agent, 128) ?
				 o->user_agent : "dialstack-agent");
	reg->selftest = o->selftest ? strdup(o->selftest) : NULL;
	if (!reg->user || !reg->password || !reg->domain || !reg->user_agent ||
	    (o->auth_user && !reg->auth_user) || (o->ca_file && !reg->ca_file) ||
	    (o->selftest && !reg->selftest)) {
		err = -ENOMEM;
		w = "out of memory";
		goto out;
	}
	/* the copies are what the client uses from now on */
	reg->o.user = reg->o.auth_user = reg->o.password = reg->o.domain = NULL;
	reg->o.ca_file = reg->o.user_agent = reg->o.selftest = reg->o.mac = NULL;
	bo_init(&reg->bo, o->backoff_base_ms, o->backoff_cap_ms);
	reg->t_retry.cb = on_t_retry;
	reg->t_failback.cb = on_t_failback;
	reg->t_stop.cb = on_t_stop;
	for (i = 0; i < o->n_registrars; i++) {
		struct binding *b = &reg->b[i];

		b->reg = reg;
		b->idx = i;
		b->t_e.cb = on_t_e;
		b->t_f.cb = on_t_f;
		b->t_refresh.cb = on_t_refresh;
		b->t_ka.cb = on_t_ka;
		b->t_kawait.cb = on_t_kawait;
		b->t_budget.cb = on_t_budget;
		b->ka_ms = o->keepalive_s * 1000;
		bgt_init(&b->bgt, o->budget_burst, o->budget_interval_ms);
		b->t_family.cb = on_t_family;
		(void)utl_random_hex(b->call_id, 16);
		(void)utl_random_hex(b->from_tag, 8);
		b->cseq = utl_random_range(1, 10000);
	}
	reg->since = time(NULL);
	*out = reg;
	*why = "";
	return 0;
out:
	*why = w;
	sip_reg_free(reg);
	return err;
}

int sip_reg_start(struct sip_reg *reg)
{
	if (reg->state != SIP_REG_IDLE && reg->state != SIP_REG_STOPPED)
		return -EALREADY;
	reg->tried = 0;
	bo_reset(&reg->bo);
	activate(reg, reg->primary);
	return 0;
}

void sip_reg_free(struct sip_reg *reg)
{
	int i;

	if (!reg)
		return;
	for (i = 0; i < SIP_REG_MAX_REGISTRARS; i++) {
		if (reg->b[i].reg)
			b_reset(&reg->b[i]);
		free(reg->b[i].targets);
	}
	ev_timer_cancel(&reg->t_retry);
	ev_timer_cancel(&reg->t_failback);
	ev_timer_cancel(&reg->t_stop);
	if (reg->password) {
		explicit_bzero(reg->password, strlen(reg->password));
		free(reg->password);
	}
	free(reg->user);
	free(reg->auth_user);
	free(reg->domain);
	free(reg->ca_file);
	free(reg->user_agent);
	free(reg->selftest);
	free(reg);
}

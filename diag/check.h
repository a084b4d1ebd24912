/* check.h - what a self-test check is, for the runner and the checks (internal to diag/).
 *
 * A check is an object on the event loop: start() arms its sockets and timers
 * and returns; when it knows its verdict it fills c->res and calls
 * diag_check_done() (possibly from inside start()). cancel() releases
 * everything without a verdict. The runner passes each check the shared
 * context: interface, local address and the resolved server addresses.
 */
#ifndef DSA_DIAG_CHECK_H
#define DSA_DIAG_CHECK_H

#include <netinet/in.h>
#include <stdbool.h>

#include "common/budget.h"
#include "common/util.h"
#include "diag/runner.h"

enum diag_host { DIAG_H_PROV = 0, DIAG_H_EAST, DIAG_H_WEST, DIAG_H_STUN, DIAG_H_REFLECTOR,
		 DIAG_H_COUNT, DIAG_H_NONE = -1 };

struct pf_ctx;

/* The run's budgets, one per server the options name (enum diag_host; the STUN server's
 * OTHER-ADDRESS counts as the STUN server) and one for the resolvers: every probe the self-test
 * sends draws from its server's (diag_send, diag_take). The model: docs/selftest.md. */
#define DIAG_BGT_DNS DIAG_H_COUNT
struct diag_bgt_size {
	uint32_t burst, interval_ms;
};
/* [0] any server but the reflector (STUN and its OTHER-ADDRESS, registrars, resolvers, prov):
 * 48, one more every 100 ms; [1] the reflector: 96, one more every 4 ms at 20 ms packets
 * (voice 50/s, extension 200/s, probes; scaled by packet_ms / 20). Variables only so that unit
 * tests can shrink them. */
extern struct diag_bgt_size diag_bgt_sizes[2];

/* Shared by the checks of one run; filled by the link, address and DNS checks. */
struct diag_ctx {
	const struct diag_opts *opts;
	char ifname[32];
	bool have_addr;                      /* a usable IPv4 address */
	struct in_addr local;
	struct in_addr ns[3];                /* DNS servers from resolv.conf */
	unsigned nns;
	char host[DIAG_H_COUNT][DIAG_HOST_MAX];   /* names (from the options) */
	bool resolved[DIAG_H_COUNT];
	struct in_addr addr[DIAG_H_COUNT];
	int v6;                              /* enum diag_fam_v6: the phone's IPv6 (address check) */
	struct in6_addr local6;              /* its global IPv6 address (v6 == DIAG_V6_GLOBAL) */
	bool resolved6[DIAG_H_COUNT];        /* the name has an AAAA record (DNS check) */
	struct in6_addr addr6[DIAG_H_COUNT]; /* its first AAAA */
	unsigned reach4, reach6, tried4, tried6; /* bit registrar*3+transport: answered over IPv4 /
					      * over IPv6, probed over IPv4 / IPv6 (the SIP checks) */
	const struct diag_result *results;   /* the run's results so far (the family check) */
	char sip_title[6][24];               /* the SIP rows' titles with the provisioned ports */
	struct pf_ctx *http;                 /* HTTPS and TLS probes, each in a job process */
	uint64_t deadline_us;                /* ev_now_us() when the main phase's budget ends */
	/* the test call's own packets, once its verdict is known (the voice check pools them) */
	bool call_media;
	uint32_t call_sent, call_received;
	struct budget bgt[DIAG_H_COUNT + 1]; /* by server (DIAG_BGT_DNS last), full at first use */
};

struct diag_check;

/* The names are arrays, not pointers: no relocation for them (the armhf size budget). */
struct diag_check_type {
	enum diag_check_id id;
	char name[13];                       /* report id */
	char title[13];
	unsigned char phase;                 /* 1: local + DNS, 2: network, 3: judged from both */
	bool background;                     /* may outlive the main phase */
	enum diag_host needs;                /* host that must have resolved (phase 2) */
	int arg;                             /* per-type parameter (registrar index...) */
	int (*start)(struct diag_check *c);  /* 0, or -errno: the runner records a FAIL */
	void (*cancel)(struct diag_check *c);
};

struct diag_check {
	const struct diag_check_type *type;
	struct diag_run *run;
	struct diag_ctx *ctx;
	struct diag_result res;
	void *priv;                          /* the check's own state */
	bool running;
	uint64_t started_ms;
	unsigned refused;                    /* probes its server's budget kept back (not sent) */
};

/* Report that c has its verdict (c->res filled); the runner takes over. */
void diag_check_done(struct diag_check *c);

/* Add a measured value to r (ignored when full). */
void diag_value_add(struct diag_result *r, const char *name, const char *unit, const char *fmt, ...)
	DSA_PRINTF(4, 5);

/* Set the verdict and the advice line of r. */
void diag_verdict_set(struct diag_result *r, enum diag_verdict v, const char *fmt, ...) DSA_PRINTF(3, 4);

/* Set the threshold text of r. */
void diag_threshold_set(struct diag_result *r, const char *fmt, ...) DSA_PRINTF(2, 3);

struct rtpstats_result;
struct diag_irate;

/* The round-trip and jitter values of a media sample (rtt_min/avg/max, rtt_samples, jitter,
 * jitter_samples; prec decimals) and which clocks timed it (value timestamps: tx_kernel of
 * tx packets had a kernel send time). Shared by the voice check and the test call. */
void diag_value_timing(struct diag_result *r, const struct rtpstats_result *s, uint32_t samples, int prec,
		       uint64_t tx_kernel, uint64_t tx);

/* Rate metric m's value x against th: its verdict joins *v and, when it is marginal or worse, a
 * sentence joins bad ("jitter 40 ms is marginal (not below 30 ms)"); as_value adds "<m>_rating". */
void diag_rate_metric(struct diag_result *r, const struct diag_thresholds *th, enum diag_metric m, double x,
		      bool as_value, enum diag_verdict *v, char *bad, size_t cap);

/* Value loss_rating from the loss interval ir; its verdict joins *v and, when it is not good
 * or not decided, its sentence joins bad ("; "-separated). */
void diag_loss_rating(struct diag_result *r, const struct diag_irate *ir, enum diag_verdict *v, char *bad,
		      size_t cap);

/* The check types, defined by the chk_*.c files. */
extern const struct diag_check_type diag_chk_link, diag_chk_address, diag_chk_clock, diag_chk_dns,
	diag_chk_https, diag_chk_sip[6], diag_chk_rtp_ports, diag_chk_nat, diag_chk_sip_alg,
	diag_chk_voice, diag_chk_dscp, diag_chk_mtu, diag_chk_udp_lifetime, diag_chk_call, diag_chk_audio,
	diag_chk_srtp, diag_chk_family;

/* Read the nameservers of resolv.conf at path into x->ns; 0 or -errno. */
int diag_read_resolv(struct diag_ctx *x, const char *path);

/* Runner-side hook: rewrite the SIP reachability advice once all six rows are known. */
void diag_sip_reach_advise(const struct diag_opts *o, struct diag_result *res[6]);

#endif

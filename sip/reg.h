/* reg.h - the SIP registration client: one account, up to two registrars.
 *
 * Registers over UDP, TCP or TLS with digest authentication, keeps the
 * binding refreshed (at a random point of 55-85 % of the granted expiry,
 * counted as at most 600 s), keeps the NAT
 * mapping alive (RFC 5626 keepalives), fails over to the other region on
 * timeouts, 408, 5xx, 503 (+Retry-After) and transport errors, fails back to
 * the priority-1 region after a configurable time (only once it answers),
 * backs off with jitter when everything fails, and stops hammering after an
 * authentication failure. Every REGISTER draws from one token bucket per
 * registrar (budget_burst, then one per budget_interval_ms); every number
 * from the server is clamped (sip_num_clamp) before it drives a timer; a 2xx
 * counts only when it lists our Contact. Answers OPTIONS, accepts NOTIFY check-sync from
 * the registrar's own flow. Everything runs on the common/ev.h loop; see
 * docs/sip.md for the state machine.
 *
 * The module knows nothing of provisioning: the caller fills struct
 * sip_reg_opts (sip_reg_opts_init sets the defaults first).
 */
#ifndef DSA_SIP_REG_H
#define DSA_SIP_REG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sip/transport.h"

#define SIP_REG_MAX_REGISTRARS 2

struct sip_reg;

struct sip_registrar {
	const char *name;            /* region label for status, e.g. "east" */
	const char *host;            /* IP address literal or DNS name */
	int port;                    /* 0: 5060 (UDP/TCP) or 5061 (TLS) */
	enum sip_tp_kind transport;
	int priority;                /* 1 = preferred; fail back to it */
};

enum sip_reg_state {
	SIP_REG_IDLE = 0,            /* not started */
	SIP_REG_REGISTERING,         /* first attempt or failover under way */
	SIP_REG_REGISTERED,          /* a registrar holds our binding */
	SIP_REG_FAILING,             /* every registrar failed; retrying after a backoff */
	SIP_REG_AUTH_FAILED,         /* 403/404/rejected credentials; slow retry */
	SIP_REG_STOPPING,            /* unregistering */
	SIP_REG_STOPPED,
};

/* A snapshot for `dialstack-agent status` (copy the fields into json-c). */
struct sip_reg_status {
	enum sip_reg_state state;
	const char *state_name;      /* "registered", "failing", "authentication failed", ... */
	char region[32];             /* region in use (or being tried) */
	char registrar[300];         /* "host:port" */
	char target[200];            /* target in use: "[2001:db8::1]:5070 IPv6 via NAPTR, 1 of 3", "" if none */
	const char *transport;       /* "UDP", "TCP", "TLS" */
	time_t since;                /* wall clock of the last state change */
	char public_addr[64];        /* learned from received/rport or STUN, "" if unknown */
	char last_error[256];        /* last failure in words, "" if none */
	int expires;                 /* granted expiry in seconds (registered) */
	unsigned failures;           /* consecutive failed attempts */
	bool selftest_dropped;       /* summary header left out to keep UDP under the MTU */
	unsigned long register_txns; /* REGISTER transactions started, all registrars */
	unsigned long budget_waits;  /* REGISTERs that had to wait for a budget token */
	unsigned long budget_notices; /* waits for a token that logged "REGISTER budget ... spent" */
};

typedef void (*sip_reg_state_cb)(struct sip_reg *reg, const struct sip_reg_status *st, void *arg);
typedef void (*sip_reg_event_cb)(struct sip_reg *reg, void *arg);

struct sip_reg_opts {
	const char *user;            /* SIP user (AOR user part) */
	const char *auth_user;       /* digest user name (NULL: user) */
	const char *password;
	const char *domain;          /* AOR domain and Request-URI */
	struct sip_registrar registrars[SIP_REG_MAX_REGISTRARS];
	int n_registrars;
	int expires;                 /* requested, seconds (default 600) */
	int keepalive_s;             /* NAT keepalive interval (default 20) */
	int failback_s;              /* try the priority-1 region again after (default 600, 0: never, at most 86400; +0-25 % jitter) */
	int dscp;                    /* signalling DSCP (default 26, AF31) */
	const char *ca_file;         /* TLS: provisioned CA bundle */
	const char *mac;             /* device MAC: +sip.instance UUID */
	int reg_id;                  /* RFC 5626 reg-id (default 1) */
	const char *user_agent;
	const char *selftest;        /* X-Dialstack-Selftest value or NULL */
	int path_mtu;                /* UDP REGISTER stays below path_mtu - 200 (default 1500) */
	uint32_t backoff_base_ms;    /* failure backoff (default 30 s) */
	uint32_t backoff_cap_ms;     /* (default 600 s) */
	uint32_t auth_retry_ms;      /* retry after an authentication failure (default 30 min) */
	uint32_t t1_ms;              /* RFC 3261 T1 (default 500; tests may shorten) */
	uint32_t budget_burst;       /* REGISTER budget per registrar: burst (default 6, 2..100) */
	uint32_t budget_interval_ms; /* and one more token every (default 15 s, >= 100 ms) */
	sip_reg_state_cb on_state;   /* every state change */
	sip_reg_event_cb on_check_sync; /* NOTIFY Event: check-sync from the registrar */
	void *arg;
};

/* Fill o with the defaults above (no account, no registrars). */
void sip_reg_opts_init(struct sip_reg_opts *o);

/* Validate o and create a client (strings are copied). 0, or -EINVAL with *why. */
int sip_reg_new(const struct sip_reg_opts *o, struct sip_reg **out, const char **why);

/* Start registering (on the loop). 0 or -errno. */
int sip_reg_start(struct sip_reg *reg);

/* Change the self-test summary (NULL clears); sent at once if registered. 0 or -EINVAL. */
int sip_reg_set_selftest(struct sip_reg *reg, const char *value);

/* Cut a pending back-off short (resync, SIGHUP, provisioning change): a
 * client that is failing or waiting after an authentication failure tries
 * again within 2 s, jittered, holds (Retry-After, backoff) forgotten; the
 * REGISTER budget still applies. Does nothing in any other state. */
void sip_reg_kick(struct sip_reg *reg);

/* Unregister every binding (Expires: 0), giving up after max_ms, then call done. */
void sip_reg_stop(struct sip_reg *reg, unsigned max_ms, sip_reg_event_cb done, void *arg);

/* Fill st with the current state. */
void sip_reg_status(const struct sip_reg *reg, struct sip_reg_status *st);

/* The host of the RFC 3263 target registrar i (in sip_reg_opts order) uses or last used
 * (the SRV target's name, e.g. for a registrar given as a bare domain), or NULL when its
 * name has not been looked up. */
const char *sip_reg_target_host(const struct sip_reg *reg, unsigned i);

/* Name of a state in words. */
const char *sip_reg_state_name(enum sip_reg_state s);

/* Free the client (no unregistration: call sip_reg_stop first). */
void sip_reg_free(struct sip_reg *reg);

#endif

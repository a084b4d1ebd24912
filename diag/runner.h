/* runner.h - the network self-test: options, runner and listeners (public API of diag/).
 *
 * The integrator fills struct diag_opts from the provisioned config and calls
 * diag_runner_start() from the agent's loop (common/ev.h). Independent checks
 * run in parallel on the loop, nothing blocks. The run is "done" (on_run_done)
 * when every check but the UDP mapping lifetime check has finished (within
 * 20 s by default); that one continues in the background and its result joins
 * the report later (on_report_update). A start while a run is in its main phase
 * joins it: the new listener gets the remaining callbacks of the same run.
 */
#ifndef DSA_DIAG_RUNNER_H
#define DSA_DIAG_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "diag/verdict.h"

#define DIAG_HOST_MAX 128

/* SIP transports (struct diag_opts.sip_transports) */
#define DIAG_SIP_UDP 1u
#define DIAG_SIP_TCP 2u
#define DIAG_SIP_TLS 4u
#define DIAG_PATH_MAX 256

/* The checks, in report order. */
enum diag_check_id {
	DIAG_C_LINK = 0,
	DIAG_C_ADDRESS,
	DIAG_C_CLOCK,
	DIAG_C_DNS,
	DIAG_C_HTTPS,
	DIAG_C_EAST_UDP,
	DIAG_C_EAST_TCP,
	DIAG_C_EAST_TLS,
	DIAG_C_WEST_UDP,
	DIAG_C_WEST_TCP,
	DIAG_C_WEST_TLS,
	DIAG_C_RTP_PORTS,
	DIAG_C_NAT,
	DIAG_C_SIP_ALG,
	DIAG_C_VOICE,
	DIAG_C_DSCP,
	DIAG_C_MTU,
	DIAG_C_UDP_LIFETIME,
	DIAG_C_CALL,                         /* test call to the echo service (issue 7) */
	DIAG_C_AUDIO,                        /* speaker -> microphone through ALSA */
	DIAG_C_SRTP,                         /* libsrtp2 known-answer vectors */
	DIAG_C_FAMILY,                       /* the IP family used for the platform (dual stack);
					      * on whenever a SIP row is */
	DIAG_C_COUNT
};

#define DIAG_CHECK_BIT(id) (1u << (id))
#define DIAG_CHECKS_ALL ((1u << DIAG_C_COUNT) - 1)

struct diag_opts {
	char ifname[32];                     /* "" = the default route's interface */
	char prov_url[DIAG_PATH_MAX];        /* https://prov.dialstack.ai/... */
	char ca_file[DIAG_PATH_MAX];         /* CA bundle for every TLS check ("" = system) */
	char cert_file[DIAG_PATH_MAX];       /* optional client certificate (mutual TLS) */
	char key_file[DIAG_PATH_MAX];        /* its key */
	char sip_host[2][DIAG_HOST_MAX];     /* [0] east, [1] west */
	unsigned sip_port;                   /* 5060 (UDP and TCP) */
	unsigned sip_transports;             /* DIAG_SIP_* the phone is provisioned with (UDP); the
					      * SIP ALG check probes each of UDP and TCP among them */
	unsigned sip_tls_port;               /* 5061 */
	char stun_host[DIAG_HOST_MAX];
	unsigned stun_port;                  /* 3478 */
	char reflector_host[DIAG_HOST_MAX];  /* answers UDP probes, reports DSCP and arrival */
	unsigned reflector_port;             /* its own port (DSCP, MTU, lifetime probes) */
	unsigned rtp_min, rtp_max;           /* 10000-20000 */
	unsigned rtp_samples;                /* ports sampled across the range (>= 2) */
	unsigned keepalive_s;                /* NAT keepalive interval (20) */
	unsigned lifetime_margin_s;          /* probe up to keepalive + margin (10) */
	unsigned lifetime_budget_s;          /* never probe longer than this (60) */
	int dscp_audio, dscp_signal;         /* 46, 26 */
	unsigned voice_ms;                   /* voice stream length (10000) */
	unsigned packet_ms;                  /* its packet interval (20) */
	unsigned voice_ext_ms;               /* extension while the loss interval straddles a
					      * threshold, at 4 x the packet rate (10000; 0 = none) */
	unsigned run_budget_ms;              /* the main phase's deadline (30000) */
	struct diag_thresholds th;
	uint32_t checks;                     /* DIAG_CHECK_BIT()s enabled */
	char resolv_conf[DIAG_PATH_MAX];     /* "/etc/resolv.conf" */
	char sysfs_net[DIAG_PATH_MAX];       /* "/sys/class/net" */
	char proc_route[DIAG_PATH_MAX];      /* "/proc/net/route" */
	int64_t build_epoch;                 /* clock check bound (BUILD_EPOCH) */
	/* test call (check "call"): the provisioned SIP account; an empty sip_user makes the
	 * check SKIP ("no SIP account provisioned"). The registrar is sip_host[0] (sip_host[1]
	 * when east did not resolve or did not answer), over UDP sip_port, DSCP dscp_signal;
	 * RTP from rtp_min-rtp_max marked dscp_audio. */
	char sip_user[64];                   /* account user (From, Contact) */
	char sip_auth_user[64];              /* digest user name ("" = sip_user) */
	char sip_password[128];              /* digest password (never logged or reported) */
	char sip_domain[DIAG_HOST_MAX];      /* From / Request-URI host ("dialstack.ai") */
	char echo_user[64];                  /* Request-URI user of the echo service ("echo") */
	bool call_srtp;                      /* offer SDES AES_CM_128_HMAC_SHA1_80 and run SRTP */
	unsigned call_ms;                    /* tone streamed for this long (5000) */
	unsigned call_setup_ms;              /* per registrar: INVITE -> 2xx (4000) */
	unsigned call_t1_ms;                 /* SIP T1 for the call's retransmissions (500) */
	double call_tone_hz;                 /* 1000 */
	/* audio path (check "audio") */
	char audio_playback[64];             /* ALSA PCM name ("default") */
	char audio_capture[64];              /* ALSA PCM name ("default") */
	char audio_conf[DIAG_PATH_MAX];      /* optional ALSA configuration file ("" = global) */
	unsigned audio_ms;                   /* capture length (1000) */
};

/* One measured value: name=value unit. */
struct diag_value {
	char name[24];
	char value[72];
	char unit[8];
};

#define DIAG_MAX_VALUES 32

/* The outcome of one check. */
struct diag_result {
	enum diag_check_id check;
	const char *id;                      /* "link", "east-udp", ... (static) */
	const char *title;                   /* "Link", "SIP east UDP 5060", ... (static) */
	enum diag_verdict verdict;
	bool done;
	bool background;
	struct diag_value values[DIAG_MAX_VALUES];
	unsigned nvalues;
	char brief[48];                      /* the key measurement, short (phone display) */
	char threshold[160];                 /* the bound used, in words */
	char advice[320];                    /* one line a technician can act on */
	uint64_t duration_ms;
};

struct diag_report;
struct diag_runner;

struct diag_listener {
	/* Each check's result the moment it finishes (optional). */
	void (*on_check_done)(const struct diag_result *r, void *arg);
	/* The main phase has finished (optional); background checks may still run. */
	void (*on_run_done)(const struct diag_report *rep, void *arg);
	/* A background check finished and joined the report (optional). */
	void (*on_report_update)(const struct diag_report *rep, void *arg);
	void *arg;
	/* private */
	struct diag_listener *next;
	struct diag_run *run;
};

/* A check's report id ("east-udp"), by its id; "?" if out of range. */
const char *diag_check_id_name(enum diag_check_id id);

/* Fill o with the guide's defaults (ports, DSCP, thresholds, 10 s voice test, all checks). */
void diag_opts_default(struct diag_opts *o);

/* Check o; 0, or -EINVAL with a sentence naming the bad option in why. */
int diag_opts_validate(const struct diag_opts *o, char *why, size_t whylen);

/* A runner (one per agent); NULL on allocation failure. Needs ev_init() done. */
struct diag_runner *diag_runner_new(void);

/* Cancel whatever runs (no more callbacks) and free the runner. */
void diag_runner_free(struct diag_runner *r);

/* Start a run with a copy of o, or join the one in its main phase; l (optional, owned by
 * the caller, must stay valid until removed or the run's last callback) gets the callbacks.
 * Returns 0 (started), 1 (joined) or -EINVAL (bad options) / -ENOMEM. */
int diag_runner_start(struct diag_runner *r, const struct diag_opts *o, struct diag_listener *l);

/* Stop calling l (e.g. the CLI client went away); harmless when not attached. */
void diag_listener_remove(struct diag_listener *l);

/* Whether a run is in its main phase. */
bool diag_runner_busy(const struct diag_runner *r);

/* The latest report whose main phase finished (NULL before the first); valid until the
 * next run's main phase finishes or the runner is freed. */
const struct diag_report *diag_runner_report(const struct diag_runner *r);

/* The result of check id in rep, or NULL when it was not part of the run. */
const struct diag_result *diag_report_result(const struct diag_report *rep, enum diag_check_id id);

struct job_msg;
struct job_buf;

/* The job process's handler ("--job", common/job.h): the SRTP check, and
 * prov_job for every other type. */
int diag_job(const struct job_msg *m, struct job_buf *out);

/* Take the SRTP check's answer m (JOB_SRTP_REPLY, decoded) into r: 0, or
 * -EBADMSG (r untouched) when a field does not fit r's. */
int diag_srtp_take(struct diag_result *r, const struct job_msg *m);

#endif

/* prov.h - the provisioning controller on the agent's loop.
 *
 * Finds the server (command line / bootstrap file > DHCP option 66/160 >
 * https://prov.dialstack.ai/), fetches dialstack.xml then
 * dialstack-<mac12>.xml with If-None-Match after a random boot delay, on
 * prov_resync() and periodically with jitter; failures back off with jitter
 * (common/backoff.h) up to a cap. A valid new config is stored as the
 * candidate and handed to the agent (on_config); the agent answers with
 * prov_confirm() (it registered: candidate becomes last-known-good) or
 * prov_rollback() (it did not: last-known-good is handed back). With neither
 * within trial_timeout_ms the controller rolls back by itself. At start the
 * last-known-good config is handed over first, so the phone works without
 * the network.
 */
#ifndef DSA_PROVISIONING_PROV_H
#define DSA_PROVISIONING_PROV_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "provisioning/cfg.h"
#include "provisioning/fetch.h"
#include "provisioning/status.h"

#define PROV_DEFAULT_SERVER "https://prov.dialstack.ai/"

struct prov;

/* Why on_config was called. */
enum prov_source {
	PROV_FROM_LKG = 0,        /* at start, from disk */
	PROV_FROM_SERVER,         /* a new config on trial: confirm or roll back */
	PROV_FROM_ROLLBACK,       /* the last-known-good again after a rollback */
};

struct prov_opts {
	const char *server;           /* --server URL, or NULL */
	const char *bootstrap_file;   /* NULL: DSA_SYSCONFDIR "/server" */
	const char *dhcp_file;        /* NULL: DSA_RUNDIR "/dhcp-prov-url" (udhcpc-hook.sh) */
	const char *state_dir;        /* NULL: DSA_STATEDIR */
	const char *mac;              /* "02:00:5e:10:00:01" (required) */
	const char *model;
	struct pf_opts http;          /* CA, client cert/key, pin, timeouts (user_agent is set here);
				       * its strings must outlive the controller */
	int boot_delay_ms;            /* -1: random 0..config boot-delay; else exactly this */
	uint32_t retry_base_ms;       /* first retry after a failure (default 30000) */
	uint32_t retry_cap_ms;        /* longest (default 1800000) */
	uint32_t trial_timeout_ms;    /* confirm/rollback deadline (default 180000) */
	uint32_t clock_poll_ms;       /* without timerfd: how often to look whether the clock got set (default 5000) */
	bool hold_after_lkg;          /* stored config handed over: the first fetch and the
				       * spooled uploads wait for prov_release() (register first) */
	/* A config to apply: cfg is the new one, old the one in force before
	 * (NULL at first), changed a cfg_diff() mask. */
	void (*on_config)(struct prov *p, const struct cfg_config *cfg,
			  const struct cfg_config *old, unsigned changed,
			  enum prov_source src, void *arg);
	/* A fetch cycle failed or a config was refused; reason is for a technician. */
	void (*on_failed)(struct prov *p, const char *reason, void *arg);
	/* A fetch cycle found nothing new (both files 304 or unchanged). Optional. */
	void (*on_unchanged)(struct prov *p, void *arg);
	void *arg;
};

/* Create the controller (opens the state folder). 0 or -errno. */
int prov_new(struct prov **out, const struct prov_opts *o);

/* Hand over last-known-good (if any) and schedule the first fetch after the
 * boot delay. 0 or -errno. */
int prov_start(struct prov *p);

/* Registration has had its first answer: what hold_after_lkg held back
 * (first fetch after the boot delay, spooled uploads) may start. */
void prov_release(struct prov *p);

/* Stop everything and free (no callbacks). */
void prov_free(struct prov *p);

/* Fetch now (CLI `resync`, SIP check-sync). Joins a cycle in progress;
 * deferred while a new config is on trial. */
void prov_resync(struct prov *p);

/* The config on trial works (registered): keep it as last-known-good. */
void prov_confirm(struct prov *p);

/* The config on trial does not work: restore last-known-good (on_config
 * with PROV_FROM_ROLLBACK) and do not apply the same files again. */
void prov_rollback(struct prov *p, const char *reason);

/* PUT a status document to <status-url>status.xml; on failure it is spooled
 * and sent with the next successful upload. Unset fields of si (mac, model,
 * ETags) are filled in. 0 when queued, or -errno. */
int prov_report(struct prov *p, const struct status_info *si);

/* The config in force (NULL before any), and the server in use. */
const struct cfg_config *prov_config(const struct prov *p);
const char *prov_server(const struct prov *p);

/* Whether a config is on trial; the last failure ("" if none). */
int prov_on_trial(const struct prov *p);
const char *prov_last_error(const struct prov *p);

/* Milliseconds until the next scheduled fetch (0 if none or running). */
uint64_t prov_next_fetch_ms(const struct prov *p);

struct job_msg;
struct job_buf;

/* The job process's side (`dialstack-agent --job`, common/job.h): an HTTPS
 * transfer (fetch.c) or a config check; the answer into out. 0 or -errno. */
int prov_job(const struct job_msg *m, struct job_buf *out);

/* --- pure helpers (unit-tested) --- */

/* Choose the server base URL (ends in '/'): cmdline, else the first line of
 * bootstrap, else of dhcp (a bare host name becomes https://HOST/), else the
 * default. A candidate that is not HTTPS is skipped with a note in why. */
void prov_pick_server(const char *cmdline, const char *bootstrap, const char *dhcp,
		      char *out, size_t size, char *why, size_t why_size);

/* "02:00:5E:10:00:01" -> "02005e100001"; 0 or -EINVAL. */
int prov_mac12(const char *mac, char out[13]);

#endif

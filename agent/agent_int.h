/* agent_int.h - the daemon's one object, shared by daemon.c and wiring.c. */
#ifndef DSA_AGENT_AGENT_INT_H
#define DSA_AGENT_AGENT_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/bootstrap.h"
#include "agent/state.h"
#include "common/ev.h"
#include "provisioning/cfg.h"

struct prov;
struct sip_reg;
struct diag_runner;
struct diag_report;

struct agent {
	const struct agt_options *opt;
	struct bst_config boot_cfg;
	struct agt_sm sm;
	char mac[18];
	char iface[32];

	/* process */
	struct ev_signal sig_term, sig_int, sig_hup, sig_usr1, sig_pipe, sig_chld;
	struct ev_timer stop_deadline;
	struct ev_timer boot;
	char pidfile[4096];
	int lock_fd;

	/* provisioning and what was applied */
	struct prov *prov;
	struct cfg_config applied;      /* the config in force */
	bool have_config;
	bool on_trial;                  /* the config in force came from the server, unconfirmed */
	unsigned vlan_up;               /* VID created, 0 if none */
	char vlan_note[200];            /* why the voice VLAN is not in use */
	pid_t vlan_dhcp_pid;
	struct ev_timer vlan_dhcp_deadline;

	/* SIP */
	struct sip_reg *reg;
	struct sip_reg *reg_old;        /* unregistering after a config change */
	bool registered_once;
	bool reg_answered;              /* the first REGISTER had its outcome: status may go out */
	bool summary_unsent;            /* a new self-test summary has not ridden a REGISTER yet */
	struct ev_timer status_timer;   /* the next status PUT (coalesced, jittered) */
	bool status_due;
	struct ev_timer resync_timer;   /* a check-sync NOTIFY's resync (jittered) */

	/* self-test */
	struct diag_runner *diag;
	struct ev_timer boot_selftest;  /* the boot self-test, beside the first REGISTER (jittered) */
	char summary[256];              /* REGISTER header value */
	char *report_xml;               /* latest report, uploaded with the status */
	size_t report_len;
	unsigned selftests;

	unsigned resyncs, reloads;

	/* resident core: the self-test runner freed (and the heap trimmed) when idle */
	struct ev_timer unload_timer;
};

/* wiring.c: start provisioning (after the boot delay the controller applies). */
int agt_wiring_start(struct agent *a);

/* wiring.c: begin the orderly stop; calls ev_stop() when done (bounded). */
void agt_wiring_stop(struct agent *a, unsigned max_ms);

/* wiring.c: free every module (after the loop ended). */
void agt_wiring_free(struct agent *a);

/* wiring.c: `resync` / SIGHUP / check-sync. Returns a sentence for the CLI. */
const char *agt_resync(struct agent *a);

/* wiring.c: run the self-test; listener callbacks stream to a control client
 * when c is non-NULL (only then does the audio check beep the speaker).
 * Returns 0, or -errno with the reason in why. */
struct ctl_client;
int agt_selftest(struct agent *a, struct ctl_client *c, char *why, size_t whylen);

/* wiring.c: the modules' sections of `status`. */
void agt_status_modules(struct agent *a, struct json_object *st);

/* wiring.c: a child process ended (SIGCHLD). */
void agt_child_exited(struct agent *a, pid_t pid, int status);

#endif

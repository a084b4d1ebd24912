/* agent.h - the daemon and the command-line client, as main.c sees them. */
#ifndef DSA_AGENT_AGENT_H
#define DSA_AGENT_AGENT_H

#include <stdbool.h>

/* Exit codes of the command-line client (documented in --help and README). */
enum {
	AGT_EXIT_OK = 0,
	AGT_EXIT_FAIL = 1,         /* the command failed (or a self-test warned: see selftest) */
	AGT_EXIT_USAGE = 2,        /* bad arguments (or a self-test failed) */
	AGT_EXIT_NOT_RUNNING = 3,  /* no daemon answers on the control socket (LSB status code) */
};

struct agt_options {
	const char *rundir;        /* control socket and pid file */
	const char *statedir;      /* stored configs, reports, spool */
	const char *bootstrap;     /* bootstrap config file (server URL, identity) */
	const char *server;        /* provisioning URL from the command line */
	const char *iface;         /* network interface the phone uses */
	int log_level;
	bool foreground;
	bool json;
	bool xml;
	bool quick;                 /* selftest: do not wait for the background checks */
};

/* Defaults from configure's paths, overridable by DIALSTACK_RUNDIR/DIALSTACK_STATEDIR. */
void agt_options_default(struct agt_options *o);

/* Path of the control socket under o->rundir (static buffer). */
const char *agt_socket_path(const struct agt_options *o);

/* Run the daemon until SIGTERM/SIGINT; returns the process exit code. */
int agt_daemon_run(const struct agt_options *o);

/* Client commands: each returns the process exit code. */
int agt_cli_status(const struct agt_options *o);
int agt_cli_selftest(const struct agt_options *o);
int agt_cli_resync(const struct agt_options *o);
int agt_cli_version(const struct agt_options *o);
int agt_cli_check_config(const struct agt_options *o, const char *file);

#endif

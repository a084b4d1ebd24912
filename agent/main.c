/* main.c - `dialstack-agent`: argument parsing and dispatch, nothing else. */
#include "config.h"

#include "agent/agent.h"
#include "common/job.h"
#include "common/log.h"
#include "diag/runner.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dialstack-agent [OPTIONS] COMMAND [ARG]\n"
		"\n"
		"Provisions this phone over HTTPS, registers it over SIP and tests its network.\n"
		"\n"
		"Commands:\n"
		"  run                 run the agent (as a daemon; -f stays in the foreground)\n"
		"  status              show what the running agent is doing\n"
		"  selftest            run the self-test now and show each check as it finishes\n"
		"  resync              fetch the configuration from the server now\n"
		"  check-config FILE   validate a configuration file\n"
		"  version             show the version of this program and of the running agent\n"
		"\n"
		"Options:\n"
		"  -f, --foreground    with run: stay in the foreground and log to stderr\n"
		"  -j, --json          machine-readable output (one JSON object per line)\n"
		"      --xml           with selftest: print the full XML report\n"
		"      --quick         with selftest: end with the main checks, do not wait for the\n"
		"                      UDP mapping lifetime (up to keepalive + margin)\n"
		"  -s, --server URL    provisioning server (overrides DHCP and the default)\n"
		"  -c, --config FILE   bootstrap settings (default %s/bootstrap.conf)\n"
		"  -i, --interface IF  network interface the phone uses\n"
		"      --rundir DIR    control socket folder (default %s)\n"
		"      --statedir DIR  stored configuration folder (default %s)\n"
		"  -l, --log-level L   error, warn, notice, info (default) or debug\n"
		"  -h, --help          show this help\n"
		"\n"
		"Exit status: 0 success; 1 failure; 2 bad arguments; 3 the agent is not running.\n"
		"selftest exits 0 when every check passes, 1 on a warning, 2 on a failure.\n",
		DSA_SYSCONFDIR, DSA_RUNDIR, DSA_STATEDIR);
}

static int bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "dialstack-agent: %s%s%s%s\n", what, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	usage(stderr);
	return AGT_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "xml", no_argument, NULL, 'X' },
		{ "quick", no_argument, NULL, 'Q' },
		{ "server", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "interface", required_argument, NULL, 'i' },
		{ "rundir", required_argument, NULL, 'R' },
		{ "statedir", required_argument, NULL, 'S' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agt_options o;
	const char *cmd;
	int c, nargs;

	/* a job process started by the agent itself (common/job.h) */
	if (argc == 2 && strcmp(argv[1], "--job") == 0)
		return job_main(diag_job);
	agt_options_default(&o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fjs:c:i:l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o.foreground = true; break;
		case 'j': o.json = true; break;
		case 'X': o.xml = true; break;
		case 'Q': o.quick = true; break;
		case 's': o.server = optarg; break;
		case 'c': o.bootstrap = optarg; break;
		case 'i': o.iface = optarg; break;
		case 'R': o.rundir = optarg; break;
		case 'S': o.statedir = optarg; break;
		case 'l':
			o.log_level = log_level_parse(optarg);
			if (o.log_level < 0)
				return bad_usage("unknown log level (use error, warn, notice, info or debug):", optarg);
			break;
		case 'h':
			usage(stdout);
			return AGT_EXIT_OK;
		case ':':
			return bad_usage("option needs a value:", argv[optind - 1]);
		default:
			return bad_usage("unknown option", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_usage("no command given", NULL);
	cmd = argv[optind];
	nargs = argc - optind - 1;

	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return AGT_EXIT_OK;
	}
	if (strcmp(cmd, "check-config") == 0) {
		if (nargs != 1)
			return bad_usage("check-config needs exactly one FILE", NULL);
		return agt_cli_check_config(&o, argv[optind + 1]);
	}
	if (nargs != 0)
		return bad_usage("unexpected argument", argv[optind + 1]);
	if (strcmp(cmd, "run") == 0)
		return agt_daemon_run(&o);
	if (strcmp(cmd, "status") == 0)
		return agt_cli_status(&o);
	if (strcmp(cmd, "selftest") == 0)
		return agt_cli_selftest(&o);
	if (strcmp(cmd, "resync") == 0)
		return agt_cli_resync(&o);
	if (strcmp(cmd, "version") == 0)
		return agt_cli_version(&o);
	return bad_usage("unknown command", cmd);
}

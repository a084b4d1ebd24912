/* diag-run.c - runs the network self-test once, for the end-to-end tests (and by hand).
 *
 * Streams one display line per check as it finishes, then writes the report's
 * XML (--xml FILE), prints the REGISTER summary, and exits 0 pass / 1 warn /
 * 2 fail (3: bad usage or the run could not start). With --background it also
 * waits for the UDP mapping lifetime check before writing the report.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ev.h"
#include "common/job.h"
#include "common/log.h"
#include "common/util.h"
#include "diag/report.h"
#include "diag/runner.h"
#include "provisioning/prov.h"

static const char *xml_path;
static bool wait_background;
static int exit_code = 3;

static void usage(void)
{
	fprintf(stderr,
		"usage: diag-run [--if IF] [--prov-url URL] [--ca F] [--cert F --key F]\n"
		"                [--east HOST] [--west HOST] [--stun HOST[:PORT]] [--reflector HOST[:PORT]]\n"
		"                [--rtp MIN-MAX] [--samples N] [--keepalive S] [--margin S] [--budget S]\n"
		"                [--voice-ms MS] [--packet-ms MS] [--only id,id,...] [--skip id,...]\n"
		"                [--build-epoch T] [--xml FILE] [--background] [--save DIR] [-v]\n"
		"                [--sip-user U] [--auth-user U] [--password P] [--domain D] [--echo-user U]\n"
		"                [--sip-transport udp,tcp,tls]\n"
		"                [--srtp] [--call-ms MS] [--playback PCM] [--capture PCM] [--alsa-conf F]\n");
}

static void on_check(const struct diag_result *r, void *arg)
{
	char line[64];

	diag_result_line(r, line, sizeof(line));
	printf("%s\n", line);
	fflush(stdout);
}

static void finish(const struct diag_report *rep)
{
	char sum[DIAG_SUMMARY_MAX + 16], *xml = NULL;
	size_t len;

	if (diag_report_summary(rep, sum, sizeof(sum)) >= 0)
		printf("summary: %s\n", sum);
	if (xml_path) {
		if (diag_report_xml(rep, &xml, &len) < 0 || utl_write_atomic(xml_path, xml, len, 0644) < 0)
			fprintf(stderr, "diag-run: cannot write %s\n", xml_path);
		free(xml);
	}
	exit_code = diag_report_exit_status(rep);
	ev_stop();
}

static void on_done(const struct diag_report *rep, void *arg)
{
	char text[4096];

	if (diag_report_text(rep, text, sizeof(text)) > 0)
		printf("--\n%s", text);
	if (!wait_background || rep->complete)
		finish(rep);
}

static void on_update(const struct diag_report *rep, void *arg)
{
	if (wait_background)
		finish(rep);
}

static int check_ids(const char *list, uint32_t *mask)
{
	char buf[512], *tok, *save = NULL;

	*mask = 0;
	utl_strlcpy(buf, list, sizeof(buf));
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		static const char *const ids[DIAG_C_COUNT] = {
			"link", "address", "clock", "dns", "https", "east-udp", "east-tcp", "east-tls",
			"west-udp", "west-tcp", "west-tls", "rtp-ports", "nat", "sip-alg", "voice", "dscp",
			"mtu", "udp-lifetime", "call", "audio", "srtp", "family",
		};
		int i;

		for (i = 0; i < DIAG_C_COUNT && strcmp(ids[i], tok); i++)
			;
		if (i == DIAG_C_COUNT) {
			fprintf(stderr, "diag-run: unknown check '%s'\n", tok);
			return -EINVAL;
		}
		*mask |= DIAG_CHECK_BIT(i);
	}
	return 0;
}

static void hostport(const char *arg, char *host, size_t cap, unsigned *port)
{
	const char *c = strrchr(arg, ':');

	if (c) {
		*port = (unsigned)strtoul(c + 1, NULL, 10);
		snprintf(host, cap, "%.*s", (int)(c - arg), arg);
	} else {
		utl_strlcpy(host, arg, cap);
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "if", 1, NULL, 'i' },        { "prov-url", 1, NULL, 'u' }, { "ca", 1, NULL, 'C' },
		{ "cert", 1, NULL, 'c' },      { "key", 1, NULL, 'k' },      { "east", 1, NULL, 'E' },
		{ "west", 1, NULL, 'W' },      { "stun", 1, NULL, 's' },     { "reflector", 1, NULL, 'r' },
		{ "rtp", 1, NULL, 'R' },       { "samples", 1, NULL, 'n' },  { "keepalive", 1, NULL, 'K' },
		{ "margin", 1, NULL, 'M' },    { "budget", 1, NULL, 'B' },   { "voice-ms", 1, NULL, 'V' },
		{ "packet-ms", 1, NULL, 'P' }, { "only", 1, NULL, 'o' },     { "skip", 1, NULL, 'x' },
		{ "xml", 1, NULL, 'X' },       { "background", 0, NULL, 'b' }, { "verbose", 0, NULL, 'v' },
		{ "build-epoch", 1, NULL, 'T' }, { "save", 1, NULL, 'S' },
		{ "sip-user", 1, NULL, 1 },    { "auth-user", 1, NULL, 2 },  { "password", 1, NULL, 3 },
		{ "domain", 1, NULL, 4 },      { "echo-user", 1, NULL, 5 },  { "srtp", 0, NULL, 6 },
		{ "call-ms", 1, NULL, 7 },     { "playback", 1, NULL, 8 },   { "capture", 1, NULL, 9 },
		{ "alsa-conf", 1, NULL, 10 },  { "sip-transport", 1, NULL, 11 },
		{ NULL, 0, NULL, 0 },
	};
	struct diag_opts o;
	struct diag_listener l = { on_check, on_done, on_update, NULL };
	struct diag_runner *r;
	const char *save_dir = NULL;
	uint32_t mask;
	int c, err;
	bool verbose = false;

	/* the HTTPS and TLS probes and the SRTP check run in job processes: this binary with --job */
	if (argc == 2 && strcmp(argv[1], "--job") == 0)
		return job_main(diag_job);

	diag_opts_default(&o);
	while ((c = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (c) {
		case 'i': utl_strlcpy(o.ifname, optarg, sizeof(o.ifname)); break;
		case 'u': utl_strlcpy(o.prov_url, optarg, sizeof(o.prov_url)); break;
		case 'C': utl_strlcpy(o.ca_file, optarg, sizeof(o.ca_file)); break;
		case 'c': utl_strlcpy(o.cert_file, optarg, sizeof(o.cert_file)); break;
		case 'k': utl_strlcpy(o.key_file, optarg, sizeof(o.key_file)); break;
		case 'E': utl_strlcpy(o.sip_host[0], optarg, sizeof(o.sip_host[0])); break;
		case 'W': utl_strlcpy(o.sip_host[1], optarg, sizeof(o.sip_host[1])); break;
		case 's': hostport(optarg, o.stun_host, sizeof(o.stun_host), &o.stun_port); break;
		case 'r': hostport(optarg, o.reflector_host, sizeof(o.reflector_host), &o.reflector_port); break;
		case 'R':
			if (sscanf(optarg, "%u-%u", &o.rtp_min, &o.rtp_max) != 2) {
				usage();
				return 3;
			}
			break;
		case 'n': o.rtp_samples = (unsigned)atoi(optarg); break;
		case 'K': o.keepalive_s = (unsigned)atoi(optarg); break;
		case 'M': o.lifetime_margin_s = (unsigned)atoi(optarg); break;
		case 'B': o.lifetime_budget_s = (unsigned)atoi(optarg); break;
		case 'V': o.voice_ms = (unsigned)atoi(optarg); break;
		case 'P': o.packet_ms = (unsigned)atoi(optarg); break;
		case 'T': o.build_epoch = strtoll(optarg, NULL, 10); break;
		case 'o':
			if (check_ids(optarg, &mask) < 0)
				return 3;
			o.checks = mask;
			break;
		case 'x':
			if (check_ids(optarg, &mask) < 0)
				return 3;
			o.checks &= ~mask;
			break;
		case 'X': xml_path = optarg; break;
		case 'S': save_dir = optarg; break;
		case 'b': wait_background = true; break;
		case 'v': verbose = true; break;
		case 1: utl_strlcpy(o.sip_user, optarg, sizeof(o.sip_user)); break;
		case 2: utl_strlcpy(o.sip_auth_user, optarg, sizeof(o.sip_auth_user)); break;
		case 3: utl_strlcpy(o.sip_password, optarg, sizeof(o.sip_password)); break;
		case 4: utl_strlcpy(o.sip_domain, optarg, sizeof(o.sip_domain)); break;
		case 5: utl_strlcpy(o.echo_user, optarg, sizeof(o.echo_user)); break;
		case 6: o.call_srtp = true; break;
		case 7: o.call_ms = (unsigned)atoi(optarg); break;
		case 8: utl_strlcpy(o.audio_playback, optarg, sizeof(o.audio_playback)); break;
		case 9: utl_strlcpy(o.audio_capture, optarg, sizeof(o.audio_capture)); break;
		case 10: utl_strlcpy(o.audio_conf, optarg, sizeof(o.audio_conf)); break;
		case 11: /* the transports the phone is provisioned with: udp,tcp,tls */
			o.sip_transports = (strstr(optarg, "udp") ? DIAG_SIP_UDP : 0) |
					   (strstr(optarg, "tcp") ? DIAG_SIP_TCP : 0) |
					   (strstr(optarg, "tls") ? DIAG_SIP_TLS : 0);
			break;
		default: usage(); return 3;
		}
	}
	log_open("diag-run", false, verbose ? LL_DEBUG : LL_WARN);
	if (ev_init() < 0)
		return 3;
	r = diag_runner_new();
	if (!r)
		return 3;
	err = diag_runner_start(r, &o, &l);
	if (err < 0) {
		char why[256];

		diag_opts_validate(&o, why, sizeof(why));
		fprintf(stderr, "diag-run: %s\n", why);
		diag_runner_free(r);
		ev_done();
		return 3;
	}
	ev_run();
	if (save_dir && diag_runner_report(r))
		diag_report_save(diag_runner_report(r), save_dir, 3);
	diag_runner_free(r);
	ev_done();
	return exit_code;
}

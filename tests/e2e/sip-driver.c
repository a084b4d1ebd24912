/* sip-driver.c - runs sip_reg on the real loop for the SIP end-to-end tests.
 *
 * sip-driver --user U --password P --domain D --mac M
 *            --registrar NAME,HOST,PORT,udp|tcp|tls,PRIO [--registrar ...]
 *            [--ca FILE] [--expires S] [--keepalive S] [--failback S] [--t1 MS]
 *            [--backoff MS,CAP_MS] [--auth-retry MS] [--selftest TEXT] [--mtu N]
 *            [--until registered|registered:REGION|auth-failed|failing] [--timeout S]
 *            [--hold S] [--status FILE] [--check-sync FILE] [--stop-ms MS]
 *            [--kick-on-hup]
 *
 * Runs until the --until condition holds (exit 0) or --timeout passes (exit 1),
 * then keeps running --hold seconds, then unregisters (sip_reg_stop, at most
 * --stop-ms) and exits. SIGTERM/SIGINT unregister and exit at once. Every state
 * change rewrites --status with the client's status as key=value lines.
 * --kick-on-hup: SIGHUP calls sip_reg_kick (what the agent does on resync).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/ev.h"
#include "common/log.h"
#include "common/util.h"
#include "sip/reg.h"

static const char *until = "registered";
static const char *status_file;
static const char *check_sync_file;
static int hold_s, exit_code = 1, stop_ms = 5000;
static bool met, stopping;
static struct sip_reg *reg;
static struct ev_timer t_timeout, t_hold;
static struct ev_signal s_term, s_int, s_hup;
static bool kick_on_hup;

static void write_status(const struct sip_reg_status *st)
{
	char buf[1024];
	int n;

	if (!status_file)
		return;
	n = snprintf(buf, sizeof(buf), "state=%s\nregion=%s\nregistrar=%s\ntransport=%s\n"
		     "since=%lld\npublic=%s\nexpires=%d\nfailures=%u\nselftest_dropped=%d\nerror=%s\ntarget=%s\n",
		     st->state_name, st->region, st->registrar, st->transport, (long long)st->since,
		     st->public_addr, st->expires, st->failures, st->selftest_dropped, st->last_error,
		     st->target);
	if (n > 0)
		utl_write_atomic(status_file, buf, (size_t)n, 0644);
}

static void done(struct sip_reg *r, void *arg)
{
	ev_stop();
}

static void stop_now(void)
{
	if (stopping)
		return;
	stopping = true;
	ev_timer_cancel(&t_timeout);
	ev_timer_cancel(&t_hold);
	sip_reg_stop(reg, (unsigned)stop_ms, done, NULL);
}

static bool condition(const struct sip_reg_status *st)
{
	if (!strcmp(until, "registered"))
		return st->state == SIP_REG_REGISTERED;
	if (!strncmp(until, "registered:", 11))
		return st->state == SIP_REG_REGISTERED && !strcmp(st->region, until + 11);
	if (!strcmp(until, "auth-failed"))
		return st->state == SIP_REG_AUTH_FAILED;
	if (!strcmp(until, "failing"))
		return st->state == SIP_REG_FAILING;
	return false;
}

static void on_state(struct sip_reg *r, const struct sip_reg_status *st, void *arg)
{
	printf("# state=%s region=%s transport=%s public=%s error=%s\n", st->state_name, st->region,
	       st->transport, st->public_addr, st->last_error);
	fflush(stdout);
	write_status(st);
	if (!met && !stopping && condition(st)) {
		met = true;
		exit_code = 0;
		ev_timer_cancel(&t_timeout);
		if (hold_s >= 0)
			ev_timer_set(&t_hold, (uint64_t)hold_s * 1000);
	}
}

static void on_check_sync(struct sip_reg *r, void *arg)
{
	if (check_sync_file)
		utl_write_atomic(check_sync_file, "check-sync\n", 11, 0644);
}

static void on_timeout(struct ev_timer *t)
{
	printf("# timeout waiting for %s\n", until);
	exit_code = 1;
	stop_now();
}

static void on_hold(struct ev_timer *t)
{
	stop_now();
}

static void on_signal(struct ev_signal *s)
{
	stop_now();
}

static void on_hup(struct ev_signal *s)
{
	printf("# SIGHUP: sip_reg_kick\n");
	fflush(stdout);
	sip_reg_kick(reg);
}

static int parse_registrar(char *arg, struct sip_registrar *r)
{
	char *f[5], *save = NULL;
	int i;

	for (i = 0; i < 5; i++) {
		f[i] = strtok_r(i ? NULL : arg, ",", &save);
		if (!f[i])
			return -1;
	}
	r->name = f[0];
	r->host = f[1];
	r->port = atoi(f[2]);
	if (!strcasecmp(f[3], "udp"))
		r->transport = SIP_TP_UDP;
	else if (!strcasecmp(f[3], "tcp"))
		r->transport = SIP_TP_TCP;
	else if (!strcasecmp(f[3], "tls"))
		r->transport = SIP_TP_TLS;
	else
		return -1;
	r->priority = atoi(f[4]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "user", 1, 0, 'u' }, { "password", 1, 0, 'p' }, { "domain", 1, 0, 'd' },
		{ "mac", 1, 0, 'm' }, { "registrar", 1, 0, 'r' }, { "ca", 1, 0, 'c' },
		{ "expires", 1, 0, 'e' }, { "keepalive", 1, 0, 'k' }, { "failback", 1, 0, 'f' },
		{ "t1", 1, 0, 'T' }, { "backoff", 1, 0, 'b' }, { "auth-retry", 1, 0, 'a' },
		{ "selftest", 1, 0, 's' }, { "mtu", 1, 0, 'M' }, { "until", 1, 0, 'U' },
		{ "timeout", 1, 0, 't' }, { "hold", 1, 0, 'h' }, { "status", 1, 0, 'S' },
		{ "check-sync", 1, 0, 'C' }, { "stop-ms", 1, 0, 'x' }, { "auth-user", 1, 0, 'A' },
		{ "debug", 0, 0, 'D' }, { "kick-on-hup", 0, 0, 'K' }, { 0, 0, 0, 0 },
	};
	struct sip_reg_opts o;
	const char *why;
	int c, timeout_s = 30, err;

	sip_reg_opts_init(&o);
	log_open("sip-driver", false, LL_NOTICE);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u': o.user = optarg; break;
		case 'A': o.auth_user = optarg; break;
		case 'p': o.password = optarg; break;
		case 'd': o.domain = optarg; break;
		case 'm': o.mac = optarg; break;
		case 'r':
			if (o.n_registrars >= SIP_REG_MAX_REGISTRARS ||
			    parse_registrar(optarg, &o.registrars[o.n_registrars]) < 0) {
				fprintf(stderr, "bad --registrar (NAME,HOST,PORT,udp|tcp|tls,PRIO)\n");
				return 2;
			}
			o.n_registrars++;
			break;
		case 'c': o.ca_file = optarg; break;
		case 'e': o.expires = atoi(optarg); break;
		case 'k': o.keepalive_s = atoi(optarg); break;
		case 'f': o.failback_s = atoi(optarg); break;
		case 'T': o.t1_ms = (uint32_t)atoi(optarg); break;
		case 'b':
			if (sscanf(optarg, "%u,%u", &o.backoff_base_ms, &o.backoff_cap_ms) != 2)
				return 2;
			break;
		case 'a': o.auth_retry_ms = (uint32_t)atoi(optarg); break;
		case 's': o.selftest = optarg; break;
		case 'M': o.path_mtu = atoi(optarg); break;
		case 'U': until = optarg; break;
		case 't': timeout_s = atoi(optarg); break;
		case 'h': hold_s = atoi(optarg); break;
		case 'S': status_file = optarg; break;
		case 'C': check_sync_file = optarg; break;
		case 'x': stop_ms = atoi(optarg); break;
		case 'D': log_set_level(LL_DEBUG); break;
		case 'K': kick_on_hup = true; break;
		default: return 2;
		}
	}
	o.on_state = on_state;
	o.on_check_sync = on_check_sync;
	err = sip_reg_new(&o, &reg, &why);
	if (err) {
		fprintf(stderr, "sip-driver: %s\n", why);
		return 2;
	}
	if (ev_init() < 0)
		return 2;
	t_timeout.cb = on_timeout;
	t_hold.cb = on_hold;
	s_term.signo = SIGTERM;
	s_term.cb = on_signal;
	s_int.signo = SIGINT;
	s_int.cb = on_signal;
	ev_signal_add(&s_term);
	ev_signal_add(&s_int);
	if (kick_on_hup) {
		s_hup.signo = SIGHUP;
		s_hup.cb = on_hup;
		ev_signal_add(&s_hup);
	}
	ev_timer_set(&t_timeout, (uint64_t)timeout_s * 1000);
	err = sip_reg_start(reg);
	if (err) {
		fprintf(stderr, "sip-driver: cannot start: %s\n", strerror(-err));
		return 2;
	}
	ev_run();
	{
		struct sip_reg_status st;

		sip_reg_status(reg, &st);
		write_status(&st);
	}
	sip_reg_free(reg);
	ev_signal_del(&s_term);
	ev_signal_del(&s_int);
	if (kick_on_hup)
		ev_signal_del(&s_hup);
	ev_done();
	return exit_code;
}

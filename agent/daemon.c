/* daemon.c - `dialstack-agent run`: lock, control socket, signals, lifecycle. */
#include "config.h"

#include "agent/agent.h"
#include "agent/agent_int.h"
#include "agent/bootstrap.h"
#include "agent/ctl.h"
#include "agent/state.h"
#include "common/ev.h"
#include "common/job.h"
#include "common/log.h"
#include "common/sysc.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STOP_BUDGET_MS 800          /* shutdown must finish within 1 s of SIGTERM */

/* ------------------------------------------------------------ single instance */

static int take_lock(struct agent *a)
{
	char buf[32];
	int fd, n;

	snprintf(a->pidfile, sizeof(a->pidfile), "%s/dialstack-agent.pid", a->opt->rundir);
	fd = open(a->pidfile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		fprintf(stderr, "dialstack-agent: cannot open %s: %s (is %s writable?)\n",
			a->pidfile, strerror(errno), a->opt->rundir);
		return -1;
	}
	if (sysc_flock(fd, LOCK_EX | LOCK_NB) < 0) {
		n = (int)read(fd, buf, sizeof(buf) - 1);   /* just opened: offset 0 */
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fprintf(stderr, "dialstack-agent: another agent is already running (pid %s); "
			"see 'dialstack-agent status', or stop it first\n", *buf ? buf : "unknown");
		close(fd);
		return -1;
	}
	a->lock_fd = fd;
	return 0;
}

static void write_pid(struct agent *a)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)sysc_getpid());

	/* Written once, on the fd take_lock opened: its offset is still 0. */
	if (ftruncate(a->lock_fd, 0) == 0)
		(void)!write(a->lock_fd, buf, (size_t)n);
}

static void release_lock(struct agent *a)
{
	if (a->lock_fd < 0)
		return;
	unlink(a->pidfile);
	close(a->lock_fd);
	a->lock_fd = -1;
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (sysc_setsid() < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (sysc_chdir("/") < 0)
		return -errno;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* Read the bootstrap settings. Errors are reported and the defaults kept for
 * the bad lines: a typo there must not keep the phone from provisioning. */
static void load_bootstrap(struct agent *a)
{
	char path[512], *errs = NULL;
	size_t errlen = 0;
	FILE *f = open_memstream(&errs, &errlen);
	int n;

	if (a->opt->bootstrap)
		utl_strlcpy(path, a->opt->bootstrap, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/bootstrap.conf", DSA_SYSCONFDIR);
	bst_defaults(&a->boot_cfg);
	n = f ? bst_load(path, &a->boot_cfg, f) : 0;
	if (f)
		fclose(f);
	if (n != 0 && errs) {
		char *line, *save = NULL;

		for (line = strtok_r(errs, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			log_err("agent", "bootstrap: %s (default kept)", line);
	}
	free(errs);
	if (a->opt->server)
		utl_strlcpy(a->boot_cfg.server, a->opt->server, sizeof(a->boot_cfg.server));
	if (a->opt->iface)
		utl_strlcpy(a->boot_cfg.iface, a->opt->iface, sizeof(a->boot_cfg.iface));
}

/* ------------------------------------------------------------ lifecycle */

static void stop_now(struct ev_timer *t)
{
	log_warn("agent", "stop budget used up; exiting anyway");
	ev_stop();
}

static void begin_shutdown(struct agent *a, const char *why)
{
	if (a->sm.state == AGT_STOPPING)
		return;
	log_notice("agent", "shutting down (%s)", why);
	agt_sm_go(&a->sm, AGT_STOPPING, why);
	ev_timer_cancel(&a->boot);
	/* The modules get STOP_BUDGET_MS to say goodbye (unregister); the
	 * deadline ends the loop regardless, a little later. */
	a->stop_deadline.cb = stop_now;
	ev_timer_set(&a->stop_deadline, STOP_BUDGET_MS + 100);
	agt_wiring_stop(a, STOP_BUDGET_MS);
}

static void on_boot(struct ev_timer *t)
{
	struct agent *a = container_of(t, struct agent, boot);

	if (agt_wiring_start(a) < 0 && a->sm.state != AGT_DEGRADED)
		agt_sm_go(&a->sm, AGT_DEGRADED, "cannot start provisioning");
}

/* ------------------------------------------------------------ signals */

static void on_term(struct ev_signal *s)
{
	struct agent *a = container_of(s, struct agent, sig_term);

	begin_shutdown(a, "SIGTERM");
}

static void on_int(struct ev_signal *s)
{
	struct agent *a = container_of(s, struct agent, sig_int);

	begin_shutdown(a, "SIGINT");
}

static void on_hup(struct ev_signal *s)
{
	struct agent *a = container_of(s, struct agent, sig_hup);

	a->reloads++;
	log_notice("agent", "SIGHUP: resyncing (%s)", agt_resync(a));
}

static void on_usr1(struct ev_signal *s)
{
	struct agent *a = container_of(s, struct agent, sig_usr1);

	char why[200];

	log_notice("agent", "SIGUSR1: self-test requested");
	if (agt_selftest(a, NULL, why, sizeof(why)) < 0)
		log_warn("agent", "self-test not started: %s", why);
}

static void on_chld(struct ev_signal *s)
{
	struct agent *a = container_of(s, struct agent, sig_chld);
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (!job_exited(pid, st))      /* a job process: its owner reports it */
			agt_child_exited(a, pid, st);
}

static void on_pipe(struct ev_signal *s)
{
	/* Writes to a vanished peer fail with EPIPE where they happen. */
}

/* ------------------------------------------------------------ control commands */

static struct json_object *status_json(struct agent *a)
{
	struct json_object *st = ctl_reply_new("result");

	json_object_object_add(st, "state", json_object_new_string(agt_state_name(a->sm.state)));
	json_object_object_add(st, "reason", json_object_new_string(a->sm.reason));
	json_object_object_add(st, "since", json_object_new_int64((int64_t)a->sm.since));
	json_object_object_add(st, "in_state_s",
			       json_object_new_int64((int64_t)((ev_now_ms() - a->sm.since_mono_ms) / 1000u)));
	json_object_object_add(st, "pid", json_object_new_int64((int)sysc_getpid()));
	json_object_object_add(st, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(st, "mac", json_object_new_string(a->mac));
	agt_status_modules(a, st);
	return st;
}

static void cmd_status(struct ctl_client *c, const struct ctl_request *req, void *ctx)
{
	ctl_client_finish(c, status_json(ctx));
}

static void cmd_version(struct ctl_client *c, const struct ctl_request *req, void *ctx)
{
	struct json_object *r = ctl_reply_new("result");

	json_object_object_add(r, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(r, "protocol", json_object_new_int64(CTL_VERSION));
	ctl_client_finish(c, r);
}

static void cmd_resync(struct ctl_client *c, const struct ctl_request *req, void *ctx)
{
	struct agent *a = ctx;
	struct json_object *r = ctl_reply_new("result");

	json_object_object_add(r, "message", json_object_new_string(agt_resync(a)));
	ctl_client_finish(c, r);
}

static void cmd_selftest(struct ctl_client *c, const struct ctl_request *req, void *ctx)
{
	struct agent *a = ctx;
	char why[200];

	if (agt_selftest(a, c, why, sizeof(why)) < 0)
		ctl_client_finish(c, ctl_error_new(CTL_E_FAILED, why));
}

static const struct ctl_command commands[] = {
	{ "status", cmd_status },
	{ "version", cmd_version },
	{ "resync", cmd_resync },
	{ "selftest", cmd_selftest },
	{ NULL, NULL },
};

/* ------------------------------------------------------------ run */

static int add_signal(struct ev_signal *s, int signo, ev_signal_cb cb)
{
	s->signo = signo;
	s->cb = cb;
	return ev_signal_add(s);
}

int agt_daemon_run(const struct agt_options *o)
{
	struct agent a;
	int err, rc = AGT_EXIT_FAIL;

	memset(&a, 0, sizeof(a));
	a.opt = o;
	a.lock_fd = -1;

	err = utl_mkdir_p(o->rundir, 0755);
	if (err < 0) {
		fprintf(stderr, "dialstack-agent: cannot create %s: %s\n", o->rundir, strerror(-err));
		return AGT_EXIT_FAIL;
	}
	if (take_lock(&a) < 0)
		return AGT_EXIT_FAIL;
	if (!o->foreground) {
		err = daemonize();
		if (err < 0) {
			fprintf(stderr, "dialstack-agent: cannot become a daemon: %s\n", strerror(-err));
			goto out;
		}
	}
	log_open("dialstack-agent", !o->foreground, (enum log_level)o->log_level);
	write_pid(&a);
	load_bootstrap(&a);

	err = ev_init();
	if (err < 0) {
		log_err("agent", "cannot start the event loop: %s", strerror(-err));
		goto out;
	}
	if (add_signal(&a.sig_term, SIGTERM, on_term) < 0 || add_signal(&a.sig_int, SIGINT, on_int) < 0 ||
	    add_signal(&a.sig_hup, SIGHUP, on_hup) < 0 || add_signal(&a.sig_usr1, SIGUSR1, on_usr1) < 0 ||
	    add_signal(&a.sig_pipe, SIGPIPE, on_pipe) < 0 || add_signal(&a.sig_chld, SIGCHLD, on_chld) < 0) {
		log_err("agent", "cannot install signal handlers");
		goto out_loop;
	}
	err = ctl_open(agt_socket_path(o), commands, &a);
	if (err < 0) {
		log_err("ctl", "cannot listen on %s: %s", agt_socket_path(o), strerror(-err));
		goto out_loop;
	}
	agt_sm_init(&a.sm);
	log_notice("agent", "dialstack-agent %s started (pid %ld, control socket %s)", PACKAGE_VERSION,
		   (long)sysc_getpid(), agt_socket_path(o));
	a.boot.cb = on_boot;
	ev_timer_set(&a.boot, 0);

	err = ev_run();
	if (err < 0)
		log_err("agent", "event loop failed: %s", strerror(-err));
	else
		rc = AGT_EXIT_OK;
	ctl_close();
	agt_wiring_free(&a);
	log_notice("agent", "stopped");
out_loop:
	ev_timer_cancel(&a.stop_deadline);
	ev_timer_cancel(&a.boot);
	ev_done();
out:
	release_lock(&a);
	log_close();
	return rc;
}

/* test_prov_backoff.c - the provisioning controller's retry back-off on
 * virtual time: a real loopback listener that accepts and hangs up plays the
 * broken server; every wait lies in 50-100 % of min(cap, base * 2^k) and the
 * next attempt reaches the listener at the exact instant the wait ends; a
 * fetch whose job process crashes is a failure like any other.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "common/ev.h"
#include "common/job.h"
#include "jobexe.h"
#include "provisioning/prov.h"

#define BASE_MS 400u
#define CAP_MS 1600u
#define ATTEMPTS 10

struct run {
	struct ev_fd lfd;              /* the listener */
	uint64_t accepted[ATTEMPTS + 2];    /* virtual ms of each connection */
	unsigned naccepted;
	uint64_t failed[ATTEMPTS + 2];      /* virtual ms of each on_failed */
	uint64_t wait[ATTEMPTS + 2];        /* the wait scheduled after it */
	unsigned nfailed;
	char reason[256];
};

static struct run R;

/* A self-signed CA made for this test, its key thrown away: one small CA file
 * keeps each attempt's TLS set-up cheap (the system bundle costs ~100 ms of CPU
 * per attempt); no handshake gets far enough to use it. */
static const char test_ca[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBtjCCAVugAwIBAgIUdo48R7jEpeGyClxyRxKrJgwOQfEwCgYIKoZIzj0EAwIw\n"
	"LzEtMCsGA1UEAwwkZGlhbHN0YWNrIHVuaXQtdGVzdCBDQSAobm8ga2V5IGtlcHQp\n"
	"MCAXDTI2MTEzMDEwMzkzNloYDzIxMjYxMTA2MTAzOTM2WjAvMS0wKwYDVQQDDCRk\n"
	"aWFsc3RhY2sgdW5pdC10ZXN0IENBIChubyBrZXkga2VwdCkwWTATBgcqhkjOPQIB\n"
	"BggqhkjOPQMBBwNCAASJ9InqRB/HJdmiglncjY0LA9GgMonpGVsGOoG45/ZckqNl\n"
	"gOXShoKuKSyXW+3tXDllttJEBfviV9LNLIznw5Ogo1MwUTAdBgNVHQ4EFgQUaJGG\n"
	"33swUCJ+dDdTJlsbkHV8XUIwHwYDVR0jBBgwFoAUaJGG33swUCJ+dDdTJlsbkHV8\n"
	"XUIwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA0Ag6E053hBsE\n"
	"FOHnVpVgQxbHWnBm7Dl3seew8ajwkTQCIQDLDV8R9d1tP3zdphNiRQZ7jPNL1sL/\n"
	"1vPW7OVaAvfn+A==\n"
	"-----END CERTIFICATE-----\n";

static void on_accept(struct ev_fd *f, unsigned events)
{
	int c = accept(f->fd, NULL, NULL);

	if (c < 0)
		return;
	if (R.naccepted < ATTEMPTS + 2)
		R.accepted[R.naccepted] = ev_now_ms();
	R.naccepted++;
	close(c); /* the TLS handshake fails: the server is broken */
}

static void on_failed(struct prov *p, const char *reason, void *arg)
{
	if (R.nfailed < ATTEMPTS + 2)
		R.failed[R.nfailed] = ev_now_ms();
	R.nfailed++;
	snprintf(R.reason, sizeof(R.reason), "%s", reason);
}

static int listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		close(fd);
		return -errno;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(text, f) == EOF)
		err = -EIO;
	if (fclose(f) != 0 && !err)
		err = -EIO;
	return err;
}

/* A provisioning client of this test: server, its own state folder, no
 * bootstrap or DHCP file, retries on BASE_MS..CAP_MS, failures to on_failed. */
static void backoff_opts(struct prov_opts *o, const char *server, const char *dir)
{
	memset(o, 0, sizeof(*o));
	o->server = server;
	o->bootstrap_file = "/nonexistent";
	o->dhcp_file = "/nonexistent";
	o->state_dir = dir;
	o->mac = "02:00:5e:10:00:01";
	o->model = "unit-test";
	o->boot_delay_ms = 100;
	o->retry_base_ms = BASE_MS;
	o->retry_cap_ms = CAP_MS;
	o->on_failed = on_failed;
}

static void test_backoff_on_virtual_time(void **state)
{
	char dir[] = "/tmp/dsa-prov-backoff.XXXXXX", url[64], cmd[96], ca[64];
	struct prov_opts o = { 0 };
	struct prov *p = NULL;
	unsigned k, seen = 0, iter;
	int port = 0, fd;
	uint64_t t0;

	memset(&R, 0, sizeof(R));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(5000000);
	t0 = ev_now_ms();
	fd = listener(&port);
	assert_true(fd >= 0);
	R.lfd.fd = fd;
	R.lfd.cb = on_accept;
	assert_int_equal(ev_fd_add(&R.lfd, EV_READ), 0);

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	assert_int_equal(write_file(ca, test_ca), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
	backoff_opts(&o, url, dir);
	o.http.ca_file = ca;
	o.http.connect_timeout_ms = 3000;
	o.http.total_timeout_ms = 10000;
	assert_int_equal(prov_new(&p, &o), 0);
	assert_int_equal(prov_start(p), 0);
	assert_int_equal(prov_next_fetch_ms(p), 100);

	/* Bounded: at most 100000 loop turns and ATTEMPTS * (cap + 10 s) of virtual time. */
	for (iter = 0; iter < 100000 && R.nfailed < ATTEMPTS; iter++) {
		assert_true(ev_run_once(1000) >= 0);
		assert_true(ev_now_ms() - t0 < (uint64_t)ATTEMPTS * (CAP_MS + 10000));
		if (R.nfailed > seen) {
			/* read right after the failure: the wait the controller chose */
			assert_int_equal(R.nfailed, seen + 1);
			R.wait[seen] = prov_next_fetch_ms(p);
			seen = R.nfailed;
		}
	}
	assert_int_equal(R.nfailed, ATTEMPTS);
	assert_true(R.naccepted >= ATTEMPTS);
	print_message("# last reason: %s\n", R.reason);

	/* the first attempt comes exactly at the boot delay */
	assert_int_equal(R.accepted[0], t0 + 100);
	for (k = 0; k < ATTEMPTS; k++) {
		uint64_t ceil = BASE_MS;
		unsigned i;

		for (i = 0; i < k && ceil < CAP_MS; i++)
			ceil *= 2;
		if (ceil > CAP_MS)
			ceil = CAP_MS;
		print_message("# attempt %u: connected +%llu ms, failed +%llu ms, wait %llu ms (window %llu-%llu)\n",
			      k, (unsigned long long)(R.accepted[k] - t0), (unsigned long long)(R.failed[k] - t0),
			      (unsigned long long)R.wait[k], (unsigned long long)(ceil / 2), (unsigned long long)ceil);
		/* the failure is the hang-up of this attempt: no virtual time passes in
		 * between beyond curl's own millisecond timers */
		assert_true(R.failed[k] >= R.accepted[k]);
		assert_true(R.failed[k] - R.accepted[k] <= 5);
		/* the law: uniform 50-100 % of min(cap, base * 2^k) */
		assert_true(R.wait[k] >= ceil / 2);
		assert_true(R.wait[k] <= ceil);
		/* the next attempt: at the end of the wait, to the millisecond (curl's
		 * connect runs from its own 0-1 ms timer after the controller's) */
		if (k + 1 < R.naccepted) {
			assert_true(R.accepted[k + 1] >= R.failed[k] + R.wait[k]);
			assert_true(R.accepted[k + 1] <= R.failed[k] + R.wait[k] + 2);
		}
	}
	assert_true(prov_last_error(p)[0] != '\0');

	prov_free(p);
	ev_fd_del(&R.lfd);
	close(fd);
	ev_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A fetch whose job process crashes: the failure names the cause, the
 * attempt ended at the instant it began (the virtual clock held while the
 * child ran), the next one backs off as after any failed fetch, and no child
 * is left behind. */
static void test_fetch_job_crash(void **state)
{
	char dir[] = "/tmp/dsa-prov-crash.XXXXXX", cmd[96];
	struct prov_opts o = { 0 };
	struct prov *p = NULL;
	uint64_t t0, wait;

	memset(&R, 0, sizeof(R));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(5000000);
	t0 = ev_now_ms();
	setenv("DSA_TEST_JOB", "crash", 1);
	backoff_opts(&o, "https://127.0.0.1:9/", dir);   /* never reached: the child dies first */
	assert_int_equal(prov_new(&p, &o), 0);
	assert_int_equal(prov_start(p), 0);
	for (unsigned i = 0; i < 1000 && !R.nfailed; i++)
		assert_true(ev_run_once(1000) >= 0);
	print_message("# reason: %s\n", R.reason);
	assert_int_equal(R.nfailed, 1);
	assert_int_equal(R.failed[0], t0 + 100);
	assert_non_null(strstr(R.reason, "https://127.0.0.1:9/dialstack.xml"));
	assert_non_null(strstr(R.reason, "the job process crashed (signal 6)"));
	assert_int_equal(job_count(), 0);
	wait = prov_next_fetch_ms(p);
	assert_true(wait >= BASE_MS / 2 && wait <= BASE_MS);
	unsetenv("DSA_TEST_JOB");
	prov_free(p);
	ev_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void on_http_reply(const struct pf_reply *r, void *arg)
{
	struct pf_reply *got = arg;

	*got = *r;
	got->why = strdup(r->why);
	got->body = NULL;
	got->etag = got->url = NULL;
}

/* An http:// URL: the job refuses it before libcurl is loaded, with the
 * HTTPS-only reason, and exits cleanly (it aborted in its clean-up once:
 * libcurl's free functions called through the lazy table before the load). */
static void test_http_url_refused_in_job(void **state)
{
	struct pf_opts o = { 0 };
	struct pf_ctx *ctx = NULL;
	struct pf_reply got = { .result = -1 };

	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(5000000);
	assert_int_equal(pf_new(&ctx, &o), 0);
	assert_int_equal(pf_get(ctx, "http://127.0.0.1:9/dialstack.xml", NULL, on_http_reply, &got, NULL), 0);
	for (unsigned i = 0; i < 1000 && got.result == (enum pf_result)-1; i++)
		assert_true(ev_run_once(1000) >= 0);
	print_message("# %s\n", got.why ? got.why : "(no reply)");
	assert_int_equal(got.result, PF_FAILED);
	assert_int_equal(got.err, PF_E_HTTPS_ONLY);
	assert_non_null(strstr(got.why, "HTTP URL refused: HTTPS only"));
	assert_int_equal(job_count(), 0);
	free((char *)got.why);
	pf_free(ctx);
	ev_done();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_on_virtual_time),
		cmocka_unit_test(test_fetch_job_crash),
		cmocka_unit_test(test_http_url_refused_in_job),
	};

	/* the HTTP transfers run in job processes: this binary with --job
	 * (DSA_TEST_JOB=crash: one that dies) */
	if (argc == 2 && strcmp(argv[1], "--job") == 0) {
		if (getenv("DSA_TEST_JOB")) {
			struct rlimit no_core = { 0, 0 };

			setrlimit(RLIMIT_CORE, &no_core);
			abort();
		}
		return job_main(prov_job);
	}
	jobexe_setup();
	return cmocka_run_group_tests_name("prov_backoff", tests, NULL, NULL);
}

/* test_diag_probebudget.c - every probe of the self-test goes through its server's budget, and
 * its retransmissions are jittered (diag/probe.c: diag_send, diag_take, diag_jitter).
 *
 * One row per probe type, each run through the real runner against a scripted peer: a UDP
 * socket on 127.0.0.61 in this process that never answers, answers with garbage, floods, answers
 * properly or answers 1 s late. The peer records every datagram's instant on the virtual clock
 * and its source port (one socket of the check = one probe). Asserted per row: the exact number
 * of datagrams (or, for a probe stopped by its own time budget, that every retransmission that
 * fits was sent), each gap inside the jitter band (+-20 % of the designed interval, doubling
 * where the check doubles; the voice stream's exact 20 ms: its pacing is the measurement), none
 * after a probe was answered, and the total never above the budget's bound. Then every row
 * again with a budget of 3 tokens: the peer receives at most 3 datagrams and the result says
 * the budget refused probes -- a send path that skips the budget fails here. Seeded jitter
 * (utl_random_range_fixed): the same instants on every run. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/budget.h"
#include "common/ev.h"
#include "common/stun.h"
#include "common/util.h"
#include "diag/check.h"
#include "diag/report.h"
#include "diag/runner.h"

#define PEER_IP "127.0.0.61"
#define MAXD 4096
#define MAXP 16

enum mode { M_NEVER, M_GARBAGE, M_FLOOD, M_ANSWER, M_LATE };
enum sched { S_FIXED, S_DOUBLE, S_PACED, S_NONE };

struct row {
	const char *name;
	enum diag_check_id id;
	enum mode mode;
	enum sched sched;
	uint32_t base_ms, cap_ms;  /* designed interval (first one when doubling), its cap */
	uint32_t window_ms;        /* the probe's own time budget (0: bounded by its tries) */
	unsigned per_socket;       /* exact datagrams per probe socket (0: what fits in window_ms) */
	unsigned sockets;          /* probe sockets (0: not asserted) */
	unsigned total_min, total_max; /* datagrams in all */
	unsigned packet_ms, ext_ms;    /* the voice stream's (0: 20 ms, no extension) */
};

static const struct row rows[] = {
	/* NAT: 1 Binding + 6 TTL-limited ones, 400 ms +-20 %, 6 tries each: the maximum */
	{ "stun never", DIAG_C_NAT, M_NEVER, S_FIXED, 400, 0, 0, 6, 7, 42, 42 },
	{ "stun garbage", DIAG_C_NAT, M_GARBAGE, S_FIXED, 400, 0, 0, 6, 7, 42, 42 },
	{ "stun flood", DIAG_C_NAT, M_FLOOD, S_FIXED, 400, 0, 0, 6, 7, 42, 42 },
	{ "stun answers", DIAG_C_NAT, M_ANSWER, S_FIXED, 400, 0, 0, 1, 7, 7, 7 },
	{ "stun late", DIAG_C_NAT, M_LATE, S_FIXED, 400, 0, 0, 0, 7, 7 * 3, 7 * 4 },
	/* the reflector's probe sets: 400 ms +-20 % until the check's 3 s */
	{ "dscp never", DIAG_C_DSCP, M_NEVER, S_FIXED, 400, 0, 3000, 0, 2, 2 * 7, 2 * 10 },
	{ "dscp answers", DIAG_C_DSCP, M_ANSWER, S_FIXED, 400, 0, 0, 1, 2, 2, 2 },
	{ "mtu never", DIAG_C_MTU, M_NEVER, S_FIXED, 400, 0, 3000, 0, 2, 2 * 7, 2 * 10 },
	{ "rtp-ports flood", DIAG_C_RTP_PORTS, M_FLOOD, S_FIXED, 400, 0, 3000, 0, 6, 6 * 7, 6 * 10 },
	/* UDP mapping lifetime: 9 probes, each warming its mapping 8 times 300 ms +-20 % apart */
	{ "lifetime never", DIAG_C_UDP_LIFETIME, M_NEVER, S_FIXED, 300, 0, 0, 8, 9, 72, 72 },
	/* the voice stream: 2 s at exactly 20 ms */
	{ "voice never", DIAG_C_VOICE, M_NEVER, S_PACED, 20, 0, 0, 100, 1, 100, 100 },
	{ "voice flood", DIAG_C_VOICE, M_FLOOD, S_PACED, 20, 0, 0, 100, 1, 100, 100 },
	/* answered without loss: the stream is extended at 4 x its rate (2 s: 400 more at 5 ms,
	 * 200/s; at 10 ms packets 400/s) and never throttled */
	{ "voice ext 20ms", DIAG_C_VOICE, M_ANSWER, S_NONE, 0, 0, 0, 0, 1, 101, 500, 20, 2000 },
	{ "voice ext 10ms", DIAG_C_VOICE, M_ANSWER, S_NONE, 0, 0, 0, 0, 1, 201, 1000, 10, 2000 },
	/* SIP OPTIONS over UDP and the ALG's: 500 ms doubling, +-20 %, until 4 s */
	{ "sip-udp never", DIAG_C_EAST_UDP, M_NEVER, S_DOUBLE, 500, 4000, 4000, 0, 1, 3, 4 },
	{ "alg-udp garbage", DIAG_C_SIP_ALG, M_GARBAGE, S_DOUBLE, 500, 1u << 30, 4000, 0, 1, 3, 4 },
	/* DNS: c-ares sends; the lookup reserved 2 x 4 tries of the resolver's budget first */
	{ "dns never", DIAG_C_DNS, M_NEVER, S_NONE, 0, 0, 0, 0, 0, 2, 8 },
};

struct dgram {
	uint64_t at_ms;
	unsigned port;
};

static struct peer {
	struct ev_fd w;
	unsigned port;
	const struct row *row;
	struct dgram d[MAXD];
	unsigned n;
	struct { unsigned port; uint64_t at_ms; } answered[MAXP];
	unsigned nanswered;
	/* late answers: each probe socket's first request, answered 1 s later */
	struct late {
		struct ev_timer t;
		uint8_t buf[1500];
		size_t len;
		struct sockaddr_in to;
	} late[MAXP];
	unsigned nlate;
} P;

static uint64_t answered_at(unsigned port)
{
	for (unsigned i = 0; i < P.nanswered; i++)
		if (P.answered[i].port == port)
			return P.answered[i].at_ms;
	return 0;
}

/* The proper answer to in (STUN or a reflector probe) into out; its length, 0 for none. */
static size_t answer(const uint8_t *in, size_t n, const struct sockaddr_in *from, uint8_t *out, size_t cap)
{
	uint8_t txid[12];
	unsigned flags;

	if (stun_parse_request(in, n, txid, &flags) == 0) {
		struct sockaddr_storage m = { 0 };

		memcpy(&m, from, sizeof(*from));
		return stun_build_response(out, cap, txid, &m, NULL, NULL, false);
	}
	if (n + 32 > cap)
		return 0;
	/* the reflector's header (tests/lab/reflector.c): TOS and original port known */
	memset(out, 0, 32);
	memcpy(out, "DSAR", 4);
	out[4] = 1;
	out[5] = 46 << 2;
	out[6] = 1 | 4;
	out[8] = (uint8_t)(P.port >> 8);
	out[9] = (uint8_t)P.port;
	memcpy(out + 32, in, n);
	return n + 32;
}

static void on_late(struct ev_timer *t)
{
	struct late *l = container_of(t, struct late, t);

	(void)sendto(P.w.fd, l->buf, l->len, 0, (struct sockaddr *)&l->to, sizeof(l->to));
	if (!answered_at(ntohs(l->to.sin_port)) && P.nanswered < MAXP) {
		P.answered[P.nanswered].port = ntohs(l->to.sin_port);
		P.answered[P.nanswered++].at_ms = ev_now_ms();
	}
}

static bool late_known(unsigned port)
{
	for (unsigned i = 0; i < P.nlate; i++)
		if (ntohs(P.late[i].to.sin_port) == port)
			return true;
	return false;
}

static void peer_read(struct ev_fd *w, unsigned ev)
{
	uint8_t in[2048], out[2048];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	size_t m;

	for (int guard = 0; guard < 256 &&
	     (n = recvfrom(w->fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fl)) >= 0; guard++) {
		unsigned port = ntohs(from.sin_port);

		if (P.n < MAXD) {
			P.d[P.n].at_ms = ev_now_ms();
			P.d[P.n++].port = port;
		}
		switch (P.row->mode) {
		case M_NEVER:
			break;
		case M_GARBAGE:
			memset(out, 0xa5, 64);
			(void)sendto(w->fd, out, 64, 0, (struct sockaddr *)&from, fl);
			break;
		case M_FLOOD:
			/* 50 datagrams back for each one: garbage, a truncated STUN header, a
			 * reflector header with a huge delay and times that would overflow */
			for (int i = 0; i < 50; i++) {
				memset(out, i, sizeof(out));
				if (i % 3 == 1)
					memcpy(out, in, 20);
				if (i % 3 == 2) {
					/* a reflector header with every flag, a 4295 s delay and
					 * times whose difference overflows; the probe's token
					 * spoiled (bytes 4-7), the voice packet's SSRC and
					 * sequence kept: the voice check takes it in */
					memcpy(out, "DSAR\x01\xff\x0f\x00\xff\xff\x00\x00\xff\xff\xff\xff"
						    "\x80\x00\x00\x00\x00\x00\x00\x01\x7f\xff\xff\xff\xff\xff\xff\xff", 32);
					memcpy(out + 32, in, (size_t)n < 64 ? (size_t)n : 64);
					out[36] ^= 0xff;
				}
				(void)sendto(w->fd, out, (size_t)(i % 3 == 1 ? 20 : 32 + (n < 64 ? n : 64)), 0,
					     (struct sockaddr *)&from, fl);
			}
			break;
		case M_ANSWER:
			if ((m = answer(in, (size_t)n, &from, out, sizeof(out))) > 0) {
				(void)sendto(w->fd, out, m, 0, (struct sockaddr *)&from, fl);
				if (!answered_at(port) && P.nanswered < MAXP) {
					P.answered[P.nanswered].port = port;
					P.answered[P.nanswered++].at_ms = ev_now_ms();
				}
			}
			break;
		case M_LATE:
			/* each socket's first request, answered 1 s later (the txid stays the same
			 * across retransmissions: the answer is valid when it comes) */
			if (!late_known(port) && P.nlate < MAXP &&
			    (m = answer(in, (size_t)n, &from, P.late[P.nlate].buf, sizeof(P.late[0].buf))) > 0) {
				struct late *l = &P.late[P.nlate++];

				l->len = m;
				l->to = from;
				l->t.cb = on_late;
				ev_timer_set(&l->t, 1000);
			}
			break;
		}
	}
}

static void peer_open(const struct row *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);

	memset(&P, 0, sizeof(P));
	P.row = r;
	inet_pton(AF_INET, PEER_IP, &a.sin_addr);
	P.w.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(P.w.fd >= 0);
	assert_int_equal(bind(P.w.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(P.w.fd, (struct sockaddr *)&a, &l);
	P.port = ntohs(a.sin_port);
	P.w.cb = peer_read;
	ev_fd_add(&P.w, EV_READ);
}

static void peer_close(void)
{
	for (unsigned i = 0; i < P.nlate; i++)
		ev_timer_cancel(&P.late[i].t);
	ev_fd_del(&P.w);
	close(P.w.fd);
}

static bool run_done;
static enum diag_check_id want_id;
static struct diag_result got;     /* the row's result, copied when its check finishes */
static bool got_done;

static void on_done(const struct diag_report *rep, void *arg)
{
	run_done = true;
}

static void on_check(const struct diag_result *r, void *arg)
{
	if (r->check == want_id) {
		got = *r;
		got_done = true;
	}
}

static char resolv_path[64];

/* Run row r's check against the peer; its result (the runner in *rp, freed by the caller). */
static const struct diag_result *run_row(const struct row *r, struct diag_runner **rp, uint64_t *t0)
{
	static struct diag_listener l = { on_check, on_done, NULL, NULL };
	struct diag_runner *run = diag_runner_new();
	struct diag_opts o;
	char servers[32];

	assert_non_null(run);
	diag_opts_default(&o);
	utl_strlcpy(o.ifname, "lo", sizeof(o.ifname));
	utl_strlcpy(o.resolv_conf, resolv_path, sizeof(o.resolv_conf));
	utl_strlcpy(o.stun_host, PEER_IP, sizeof(o.stun_host));
	utl_strlcpy(o.reflector_host, PEER_IP, sizeof(o.reflector_host));
	utl_strlcpy(o.sip_host[0], PEER_IP, sizeof(o.sip_host[0]));
	o.sip_host[1][0] = '\0';
	o.stun_port = o.reflector_port = o.sip_port = o.rtp_min = o.rtp_max = P.port;
	o.sip_transports = DIAG_SIP_UDP;
	o.voice_ms = 2000;
	o.packet_ms = r->packet_ms ? r->packet_ms : 20;
	o.voice_ext_ms = r->ext_ms;
	o.checks = DIAG_CHECK_BIT(r->id);
	if (r->id == DIAG_C_DNS) {
		/* a name the peer (the resolver) is asked for and never answers */
		utl_strlcpy(o.stun_host, "silent.dsa.test", sizeof(o.stun_host));
		o.checks |= DIAG_CHECK_BIT(DIAG_C_NAT);
		snprintf(servers, sizeof(servers), "%s:%u", PEER_IP, P.port);
		setenv("DSA_DNS_SERVERS", servers, 1);
	}
	run_done = got_done = false;
	want_id = r->id;
	*t0 = ev_now_ms();
	assert_int_equal(diag_runner_start(run, &o, &l), 0);
	/* the main phase, and a background check (udp-lifetime) until its verdict: bounded */
	for (int i = 0; i < 20000 && !(run_done && got_done); i++)
		ev_run_once(50);
	unsetenv("DSA_DNS_SERVERS");
	assert_true(run_done);
	assert_true(got_done);
	*rp = run;
	return &got;
}

static bool in_band(uint64_t gap, uint32_t ms)
{
	return gap >= ms - ms / 5 && gap <= ms + ms / 5;
}

/* The datagrams of one probe socket: its schedule. */
static void check_socket(const struct row *r, unsigned port, uint64_t t0)
{
	uint64_t prev = 0, first = 0, ans = answered_at(port), gapmax = 0;
	unsigned k = 0;

	for (unsigned i = 0; i < P.n; i++) {
		uint64_t at = P.d[i].at_ms, gap;
		uint32_t want = r->base_ms;

		if (P.d[i].port != port)
			continue;
		if (ans && at > ans && r->id != DIAG_C_VOICE)    /* a stream goes on, answered */
			fail_msg("%s: probe %u sent at +%llu ms after its answer at +%llu", r->name, port,
				 (unsigned long long)(at - t0), (unsigned long long)(ans - t0));
		if (k == 0) {
			first = prev = at;
			k++;
			continue;
		}
		gap = at - prev;
		if (r->sched == S_DOUBLE)
			want = (uint32_t)((uint64_t)r->base_ms << (k - 1) < r->cap_ms ? r->base_ms << (k - 1) : r->cap_ms);
		if (r->sched == S_PACED ? gap != want : r->sched != S_NONE && !in_band(gap, want))
			fail_msg("%s: probe %u gap %u is %llu ms, outside %u ms +-20 %%", r->name, port, k,
				 (unsigned long long)gap, want);
		gapmax = want + want / 5;
		prev = at;
		k++;
	}
	if (r->per_socket && k != r->per_socket)
		fail_msg("%s: probe %u sent %u datagrams, want %u", r->name, port, k, r->per_socket);
	if (r->window_ms && !ans) {
		/* stopped by its own budget: within it, and nothing left out that fit */
		uint32_t next = r->sched == S_DOUBLE ? (r->base_ms << (k - 1) < r->cap_ms ? r->base_ms << (k - 1)
											  : r->cap_ms)
						     : r->base_ms;

		assert_true(prev - first < r->window_ms);
		if (prev - first + next + next / 5 < r->window_ms)
			fail_msg("%s: probe %u stopped at +%llu ms, before its %u ms", r->name, port,
				 (unsigned long long)(prev - first), r->window_ms);
	}
	(void)gapmax;
}

static unsigned sockets_seen(unsigned *ports)
{
	unsigned n = 0;

	for (unsigned i = 0; i < P.n; i++) {
		unsigned j;

		for (j = 0; j < n && ports[j] != P.d[i].port; j++)
			;
		if (j == n && n < MAXP)
			ports[n++] = P.d[i].port;
	}
	return n;
}

static void test_rows(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];
		const struct diag_result *res;
		struct diag_runner *run;
		struct budget model;
		unsigned ports[MAXP], ns;
		uint64_t t0;
		bool refl = r->id == DIAG_C_DSCP || r->id == DIAG_C_MTU || r->id == DIAG_C_RTP_PORTS ||
			    r->id == DIAG_C_VOICE || r->id == DIAG_C_UDP_LIFETIME;

		peer_open(r);
		res = run_row(r, &run, &t0);
		ns = sockets_seen(ports);
		/* no advice text: it names the peer's ephemeral port (check-determinism.sh) */
		print_message("# %-16s %3u datagrams from %u probe(s) over %llu ms: %s\n", r->name, P.n, ns,
			      P.n ? (unsigned long long)(P.d[P.n - 1].at_ms - t0) : 0ull,
			      diag_verdict_name(res->verdict));
		if (P.n < r->total_min || P.n > r->total_max)
			fail_msg("%s: %u datagrams, want %u..%u", r->name, P.n, r->total_min, r->total_max);
		if (r->sockets && ns != r->sockets)
			fail_msg("%s: %u probe sockets, want %u", r->name, ns, r->sockets);
		for (unsigned k = 0; k < ns; k++)
			check_socket(r, ports[k], t0);
		/* a healthy run is never throttled, and the budget's bound holds */
		assert_null(diag_result_value(res, "budget_refused"));
		/* the reflector's refill scales with the packet interval (diag_take) */
		bgt_init(&model, diag_bgt_sizes[refl].burst,
			 refl && r->packet_ms ? diag_bgt_sizes[1].interval_ms * r->packet_ms / 20 : diag_bgt_sizes[refl].interval_ms);
		if (P.n && P.n > bgt_max_in(&model, P.d[P.n - 1].at_ms - t0 + 1))
			fail_msg("%s: %u datagrams above the budget's bound", r->name, P.n);
		diag_runner_free(run);
		for (int k = 0; k < 5; k++)
			ev_run_once(0);
		peer_close();
	}
}

/* The same rows with 3 tokens per server and no refill: at most 3 datagrams reach the peer
 * and the result says why the rest were not sent. */
static void test_rows_starved(void **state)
{
	struct diag_bgt_size keep[2] = { diag_bgt_sizes[0], diag_bgt_sizes[1] };

	diag_bgt_sizes[0] = diag_bgt_sizes[1] = (struct diag_bgt_size){ 3, 1000000 };
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];
		const struct diag_result *res;
		struct diag_runner *run;
		const char *v;
		uint64_t t0;

		peer_open(r);
		res = run_row(r, &run, &t0);
		v = diag_result_value(res, "budget_refused");
		print_message("# %-16s starved: %u datagrams, %s refused: %s\n", r->name, P.n, v ? v : "none",
			      diag_verdict_name(res->verdict));
		if (P.n > 3)
			fail_msg("%s: %u datagrams with a budget of 3: a send path skips the budget", r->name, P.n);
		/* the first three go (a DNS lookup reserves 8 at once: none) */
		assert_int_equal(P.n, r->id == DIAG_C_DNS ? 0 : r->total_max < 3 ? r->total_max : 3);
		if (r->total_max > 3) {
			assert_non_null(v);
			assert_true(atoi(v) > 0);
			assert_non_null(strstr(res->advice, "held back by the send budget, not lost"));
			/* never judged as loss on the network: not a FAIL */
			assert_int_not_equal(res->verdict, DIAG_FAIL);
		}
		diag_runner_free(run);
		for (int k = 0; k < 5; k++)
			ev_run_once(0);
		peer_close();
	}
	diag_bgt_sizes[0] = keep[0];
	diag_bgt_sizes[1] = keep[1];
}

static int setup(void **state)
{
	FILE *f;

	if (ev_init())
		return -1;
	ev_clock_virtual(1000000);
	utl_random_range_fixed(0x9e3779b97f4a7c15ull);
	snprintf(resolv_path, sizeof(resolv_path), "/tmp/dsa-probebudget-%d.conf", (int)getpid());
	f = fopen(resolv_path, "w");
	if (!f)
		return -1;
	fprintf(f, "nameserver %s\n", PEER_IP);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	unlink(resolv_path);
	ev_done();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_rows_starved),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

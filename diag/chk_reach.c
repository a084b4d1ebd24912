/* chk_reach.c - the reachability matrix: HTTPS to provisioning and SIP over UDP/TCP (sip_port)
 * and TLS (sip_tls_port) to both registrars, each over IPv4 and, when the phone has a global
 * IPv6 address and the name an AAAA record, over IPv6 too (in parallel; the result names the
 * family). UDP and TCP send a fixed OPTIONS and want any SIP answer; HTTPS and TLS go through
 * libcurl (verification always on) on the loop. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>                /* the result codes only: libcurl runs in job processes */

#include "common/ev.h"
#include "diag/check.h"
#include "diag/famverdict.h"
#include "diag/probe.h"
#include "diag/sipprobe.h"
#include "provisioning/fetch.h"
#include "system/system.h"

#define UDP_T1_MS 500
#define UDP_BUDGET_MS 4000
#define TCP_BUDGET_MS 5000
#define TLS_BUDGET_MS 6000
#define HTTPS_BUDGET_MS 8000
#define SIP_MAX 4096
/* CURLOPT_RESOLVE "name:port:[v6]": the longest name, port and bracketed IPv6 address whole */
#define RESOLVE_MAX (DIAG_HOST_MAX + 8 + INET6_ADDRSTRLEN + 2)

enum { T_UDP = 0, T_TCP, T_TLS };
enum { F_V4 = 0, F_V6 };

struct sip_check;

/* One probe: one registrar, transport and family. */
struct sip_state {
	struct sip_check *own;
	struct diag_check *c;
	int family;               /* F_V4 / F_V6 */
	bool done;
	struct diag_result res;   /* the probe's own outcome, merged into the check's */
	char tname[16];           /* "UDP 5060" with the provisioned port */
	int h;                    /* DIAG_H_EAST / DIAG_H_WEST */
	int transport;
	struct ev_fd w;
	struct ev_timer retx, budget;
	unsigned interval_ms;
	char branch[24];
	char req[2048];
	size_t reqlen;
	char rx[SIP_MAX];
	size_t rxlen;
	bool connected;
	uint64_t sent_ms;
	struct pf_req *tls;       /* the TLS handshake, in a job process */
	char resolve[RESOLVE_MAX];
};

/* The check: the IPv4 probe and, when possible, the IPv6 one. */
struct sip_check {
	struct diag_check *c;
	struct sip_state *p[2];
};

static void sip_settle(struct sip_check *k);

static void sip_release(struct sip_state *st)
{
	ev_timer_cancel(&st->retx);
	ev_timer_cancel(&st->budget);
	if (st->w.fd >= 0) {
		ev_fd_del(&st->w);
		close(st->w.fd);
		st->w.fd = -1;
	}
	pf_cancel(st->tls);
	st->tls = NULL;
}

static void sip_finish(struct sip_state *st, enum diag_verdict v, const char *fmt, ...) DSA_PRINTF(3, 4);
static void sip_finish(struct sip_state *st, enum diag_verdict v, const char *fmt, ...)
{
	struct diag_result *r = &st->res;
	va_list ap;

	if (st->done)
		return;
	sip_release(st);
	if (v == DIAG_FAIL && !r->brief[0]) {
		/* the short cause for the display: what is in brackets, else "no answer" */
		const char *b = strchr(fmt, '(') ? NULL : "no answer";

		utl_strlcpy(r->brief, b ? b : "no connection", sizeof(r->brief));
	}
	r->verdict = v;
	va_start(ap, fmt);
	vsnprintf(r->advice, sizeof(r->advice), fmt, ap);
	va_end(ap);
	st->done = true;
	sip_settle(st->own);
}

static const char *host_of(struct sip_state *st)
{
	return st->c->ctx->host[st->h];
}

static void sip_answered(struct sip_state *st, int code)
{
	struct diag_result *r = &st->res;
	unsigned ms = (unsigned)(ev_now_ms() - st->sent_ms);

	diag_value_add(r, "status", "", "%d", code);
	diag_value_add(r, "time", "ms", "%u", ms);
	snprintf(r->brief, sizeof(r->brief), "%d in %u ms", code, ms);
	sip_finish(st, DIAG_PASS, "%s answers SIP over %s", host_of(st), st->tname);
}

static int build_req(struct sip_state *st, int fd)
{
	char ip[INET6_ADDRSTRLEN + 2];
	unsigned lport;
	struct sipprobe p;
	int n;

	if ((n = diag_local_host(fd, ip, &lport)) < 0)
		return n;
	(void)utl_random_hex(st->branch, 6);
	p = (struct sipprobe){ st->transport == T_UDP ? "UDP" : "TCP", ip, lport, host_of(st),
			       st->c->ctx->opts->sip_port, st->branch,
			       st->branch + 6, false };
	n = sipprobe_options(st->req, sizeof(st->req), &p);
	if (n < 0)
		return n;
	st->reqlen = (size_t)n;
	return 0;
}

static void sip_on_budget(struct ev_timer *t)
{
	struct sip_state *st = container_of(t, struct sip_state, budget);

	switch (st->transport) {
	case T_UDP:
		sip_finish(st, DIAG_FAIL, "no answer to OPTIONS over %s from %s", st->tname, host_of(st));
		break;
	case T_TCP:
		sip_finish(st, DIAG_FAIL, st->connected ? "%s to %s connects but OPTIONS is not answered"
							: "no %s connection to %s (timed out)", st->tname, host_of(st));
		break;
	default:
		sip_finish(st, DIAG_FAIL, "no %s connection to %s (timed out)", st->tname, host_of(st));
		break;
	}
}

static void udp_send(struct sip_state *st)
{
	ssize_t n = diag_send(st->c, st->h, st->w.fd, st->req, st->reqlen, 0);

	/* refused by the budget: nothing sent, diag_budget_note says so */
	if (n < 0 && n != -ECONNREFUSED && n != -EAGAIN && n != -EDQUOT)
		sip_finish(st, DIAG_FAIL, "cannot send to %s over %s: %s", host_of(st), st->tname, strerror((int)-n));
}

static void udp_on_retx(struct ev_timer *t)
{
	struct sip_state *st = container_of(t, struct sip_state, retx);

	st->interval_ms = st->interval_ms * 2 > 4000 ? 4000 : st->interval_ms * 2;
	ev_timer_set(&st->retx, diag_jitter(st->interval_ms));
	udp_send(st);
}

static void udp_on_read(struct ev_fd *w, unsigned ev)
{
	struct sip_state *st = container_of(w, struct sip_state, w);
	struct diag_rx rx;
	ssize_t n;

	while ((n = diag_udp_recv(w->fd, st->rx, sizeof(st->rx) - 1, &rx)) != -EAGAIN) {
		int code;

		if (n < 0) /* ICMP: port unreachable now, maybe not on the retransmission */
			continue;
		code = sipprobe_response_status(st->rx, (size_t)n, st->branch);
		if (code >= 100 && code < 200)
			continue; /* provisional: keep waiting */
		if (code > 0) {
			sip_answered(st, code);
			return;
		}
	}
}

static void tcp_on_io(struct ev_fd *w, unsigned ev)
{
	struct sip_state *st = container_of(w, struct sip_state, w);
	int code, soerr = 0;
	socklen_t sl = sizeof(soerr);
	ssize_t n;

	if (!st->connected) {
		getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			snprintf(st->res.brief, sizeof(st->res.brief), "%.40s", strerror(soerr));
			sip_finish(st, DIAG_FAIL, "no %s connection to %s (%s)", st->tname, host_of(st), strerror(soerr));
			return;
		}
		st->connected = true;
		if (build_req(st, w->fd) < 0 ||
		    diag_send(st->c, st->h, w->fd, st->req, st->reqlen, MSG_NOSIGNAL) != (ssize_t)st->reqlen) {
			sip_finish(st, DIAG_FAIL, "%s to %s connects but the request cannot be sent", st->tname,
				   host_of(st));
			return;
		}
		st->sent_ms = ev_now_ms();
		ev_fd_add(w, EV_READ);
		return;
	}
	n = recv(w->fd, st->rx + st->rxlen, sizeof(st->rx) - 1 - st->rxlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		sip_finish(st, DIAG_FAIL, "%s to %s connects but closes without answering", st->tname, host_of(st));
		return;
	}
	st->rxlen += (size_t)n;
	st->rx[st->rxlen] = '\0';
	if (!strstr(st->rx, "\r\n\r\n")) {
		if (st->rxlen >= sizeof(st->rx) - 1)
			sip_finish(st, DIAG_FAIL, "%s to %s answers with something that is not SIP", st->tname,
				   host_of(st));
		return;
	}
	code = sipprobe_response_status(st->rx, st->rxlen, st->branch);
	if (code >= 100 && code < 200) {
		/* drop the provisional response and wait for the final one */
		char *e = strstr(st->rx, "\r\n\r\n") + 4;

		st->rxlen -= (size_t)(e - st->rx);
		memmove(st->rx, e, st->rxlen + 1);
		return;
	}
	if (code > 0)
		sip_answered(st, code);
	else
		sip_finish(st, DIAG_FAIL, "%s to %s answers with something that is not SIP", st->tname, host_of(st));
}

static const char *curl_cause(int rc, const char *words)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return "server certificate not trusted";
	case CURLE_SSL_CACERT_BADFILE:
		return "CA bundle unreadable";
	case CURLE_SSL_CERTPROBLEM:
		return "client certificate unusable";
	case CURLE_SSL_CONNECT_ERROR:
		return "TLS handshake failed";
	case CURLE_COULDNT_CONNECT:
		return "refused/unreachable";
	case CURLE_OPERATION_TIMEDOUT:
		return "timed out";
	case CURLE_COULDNT_RESOLVE_HOST:
		return "name does not resolve";
	default:
		return words;
	}
}

static void tls_done(const struct pf_reply *p, void *arg)
{
	struct sip_state *st = arg;
	struct diag_result *r = &st->res;
	const char *cause = curl_cause(p->rc, p->why);

	st->tls = NULL;
	if (p->rc == CURLE_OK) {
		diag_value_add(r, "handshake", "ms", "%u", p->time_ms);
		snprintf(r->brief, sizeof(r->brief), "verified, %u ms", p->time_ms);
		sip_finish(st, DIAG_PASS, "%s: %s handshake verified", host_of(st), st->tname);
		return;
	}
	diag_value_add(r, "error", "", "%s", p->why);
	snprintf(r->brief, sizeof(r->brief), "%s", cause);
	if (p->rc == CURLE_PEER_FAILED_VERIFICATION || p->rc == CURLE_SSL_CACERT_BADFILE)
		sip_finish(st, DIAG_FAIL, "%s to %s: %s (check the clock and that nothing intercepts TLS)",
			   st->tname, host_of(st), cause);
	else
		sip_finish(st, DIAG_FAIL, "no %s connection to %s (%s)", st->tname, host_of(st), cause);
}

/* The outcome of one family's probe in a few words: "answered (200 in 3 ms)". */
static void fam_words(const struct sip_state *st, char *buf, size_t cap)
{
	if (st->res.verdict == DIAG_SKIP)   /* "not probed: no IPv4 address" */
		utl_strlcpy(buf, st->res.advice, cap);
	else
		snprintf(buf, cap, "%s (%s)", st->res.verdict == DIAG_PASS ? "answered" : "failed",
			 st->res.brief[0] ? st->res.brief : "no answer");
}

/* Both probes done: merge them into the check's result (IPv4's values as before, then the
 * families), record what answered for the family check, and finish. */
static void sip_settle(struct sip_check *k)
{
	struct diag_check *c = k->c;
	struct diag_ctx *x = c->ctx;
	struct diag_result *r = &c->res;
	struct sip_state *v4 = k->p[F_V4], *v6 = k->p[F_V6];
	unsigned bit = 1u << c->type->arg;
	char w[72];

	for (int f = 0; f < 2; f++)
		if (k->p[f] && !k->p[f]->done)
			return;
	for (unsigned i = 0; i < v4->res.nvalues && r->nvalues < DIAG_MAX_VALUES; i++)
		r->values[r->nvalues++] = v4->res.values[i];
	fam_words(v4, w, sizeof(w));
	diag_value_add(r, "ipv4", "", "%s", w);
	if (v4->res.verdict != DIAG_SKIP)   /* SKIP: no IPv4 address or no A record */
		x->tried4 |= bit;
	if (v4->res.verdict == DIAG_PASS)
		x->reach4 |= bit;
	if (v6) {
		x->tried6 |= bit;
		if (v6->res.verdict == DIAG_PASS)
			x->reach6 |= bit;
		for (unsigned i = 0; i < v6->res.nvalues; i++)
			if (!strcmp(v6->res.values[i].name, "server"))
				diag_value_add(r, "ipv6_server", "", "%s", v6->res.values[i].value);
		fam_words(v6, w, sizeof(w));
		diag_value_add(r, "ipv6", "", "%s", w);
	} else {
		diag_value_add(r, "ipv6", "", "not probed (%s)",
			       x->v6 != DIAG_V6_GLOBAL ? "no global IPv6 address" : "no AAAA record");
	}
	if (v4->res.verdict == DIAG_PASS || !v6 || (v6->res.verdict != DIAG_PASS && v4->res.verdict != DIAG_SKIP)) {
		/* IPv4 decides, as on an IPv4-only site; IPv6 is named beside it */
		enum diag_verdict v = v4->res.verdict;

		utl_strlcpy(r->brief, v4->res.brief, sizeof(r->brief));
		if (!v6)
			diag_verdict_set(r, v, "%s", v4->res.advice);
		else if (v == DIAG_PASS && v6->res.verdict == DIAG_PASS)
			diag_verdict_set(r, v, "%.280s over IPv4 and IPv6", v4->res.advice);
		else if (v == DIAG_PASS)
			diag_verdict_set(r, v, "%.100s over IPv4; over IPv6: %.180s", v4->res.advice, v6->res.advice);
		else
			diag_verdict_set(r, v, "%.280s over IPv4 and IPv6", v4->res.advice);
	} else {
		/* only IPv6 answers (or only IPv6 was probed): the phone registers over it (see family) */
		snprintf(r->brief, sizeof(r->brief), "IPv6 %.40s", v6->res.brief);
		diag_verdict_set(r, v6->res.verdict,
				 v4->res.verdict == DIAG_SKIP ? "%.240s over IPv6 (IPv4 %.60s)"
							      : "%.100s over IPv6 only; over IPv4: %.180s",
				 v6->res.advice, v4->res.advice);
	}
	for (int f = 0; f < 2; f++)
		free(k->p[f]);
	free(k);
	c->priv = NULL;
	diag_check_done(c);
}

/* Open a non-blocking socket of dst's family for the probe and start connecting; the fd or -errno. */
static int probe_socket(const struct sockaddr_storage *dst, socklen_t dlen, int type, int dscp)
{
	int one = 1, fd = socket(dst->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (type == SOCK_DGRAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	/* DSCP on IPv6 sockets is IPV6_TCLASS (system/: sys_set_dscp) */
	(void)sys_set_dscp(fd, dscp);
	if (connect(fd, (const struct sockaddr *)dst, dlen) < 0 && errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Start one probe; 0 (it finishes later or already did) or -errno. */
static int probe_start(struct sip_state *st)
{
	struct diag_ctx *x = st->c->ctx;
	const struct diag_opts *o = x->opts;
	struct sockaddr_storage dst = { 0 };
	socklen_t dlen;
	char ip[INET6_ADDRSTRLEN], url[DIAG_HOST_MAX + 32];
	unsigned port = st->transport == T_TLS ? o->sip_tls_port : o->sip_port;
	int fd;

	if (st->family == F_V6) {
		struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&dst;

		d6->sin6_family = AF_INET6;
		d6->sin6_addr = x->addr6[st->h];
		d6->sin6_port = htons((uint16_t)port);
		dlen = sizeof(*d6);
		inet_ntop(AF_INET6, &d6->sin6_addr, ip, sizeof(ip));
	} else {
		diag_sin((struct sockaddr_in *)&dst, x->addr[st->h], port);
		dlen = sizeof(struct sockaddr_in);
		diag_ntoa(x->addr[st->h], ip);
	}
	diag_value_add(&st->res, "server", "", "%s", ip);
	switch (st->transport) {
	case T_UDP:
		fd = probe_socket(&dst, dlen, SOCK_DGRAM, o->dscp_signal);
		if (fd < 0)
			return fd;
		st->w.fd = fd;
		st->w.cb = udp_on_read;
		if (build_req(st, fd) < 0)
			return -EIO;
		ev_fd_add(&st->w, EV_READ);
		st->interval_ms = UDP_T1_MS;
		ev_timer_set(&st->retx, diag_jitter(st->interval_ms));
		ev_timer_set(&st->budget, UDP_BUDGET_MS);
		st->sent_ms = ev_now_ms();
		udp_send(st);
		return 0;
	case T_TCP:
		if (diag_take(st->c, st->h) < 0) /* the SYN is a send too */
			return -EDQUOT;   /* diag_budget_note names the cause */
		fd = probe_socket(&dst, dlen, SOCK_STREAM, o->dscp_signal);
		if (fd < 0) {
			sip_finish(st, DIAG_FAIL, "no %s connection to %s (%s)", st->tname, host_of(st), strerror(-fd));
			return 0;
		}
		st->w.fd = fd;
		st->w.cb = tcp_on_io;
		ev_fd_add(&st->w, EV_WRITE);
		ev_timer_set(&st->budget, TCP_BUDGET_MS);
		return 0;
	default:
		if (st->family == F_V6)
			snprintf(st->resolve, sizeof(st->resolve), "%s:%u:[%s]", host_of(st), port, ip);
		else
			snprintf(st->resolve, sizeof(st->resolve), "%s:%u:%s", host_of(st), port, ip);
		snprintf(url, sizeof(url), "https://%s:%u/", host_of(st), port);
		if (diag_take(st->c, st->h) < 0)
			return -EDQUOT;
		if (pf_probe(x->http, PF_CONNECT | (st->family == F_V6 ? PF_V6 : 0), url, st->resolve, x->ifname,
			     TLS_BUDGET_MS, tls_done, st, &st->tls) < 0)
			return -EIO;
		st->sent_ms = ev_now_ms();
		return 0;
	}
}

static const char tp_names[][4] = { "UDP", "TCP", "TLS" };

static int sip_start(struct diag_check *c)
{
	const struct diag_check_type *t = c->type;
	struct diag_ctx *x = c->ctx;
	struct sip_check *k = calloc(1, sizeof(*k));
	int h = t->arg / 3 ? DIAG_H_WEST : DIAG_H_EAST, transport = t->arg % 3;
	unsigned port = transport == T_TLS ? x->opts->sip_tls_port : x->opts->sip_port;

	if (!k)
		return -ENOMEM;
	k->c = c;
	c->priv = k;
	/* the title names the provisioned port ("East UDP 5060"); it lives as long as the report */
	snprintf(x->sip_title[t->arg], sizeof(x->sip_title[0]), "%s %s %u", h == DIAG_H_EAST ? "East" : "West",
		 tp_names[transport], port);
	c->res.title = x->sip_title[t->arg];
	if (transport == T_UDP)
		diag_threshold_set(&c->res, "a SIP answer to OPTIONS within %d s", UDP_BUDGET_MS / 1000);
	else if (transport == T_TCP)
		diag_threshold_set(&c->res, "connect and a SIP answer to OPTIONS within %d s", TCP_BUDGET_MS / 1000);
	else
		diag_threshold_set(&c->res, "a verified TLS handshake within %d s", TLS_BUDGET_MS / 1000);
	for (int f = 0; f < 2; f++) {
		struct sip_state *st;

		if (f == F_V6 && (x->v6 != DIAG_V6_GLOBAL || !x->resolved6[h]))
			continue;
		if (!(st = calloc(1, sizeof(*st))))
			goto nomem;
		k->p[f] = st;
		st->own = k;
		st->c = c;
		st->family = f;
		st->h = h;
		st->transport = transport;
		st->w.fd = -1;
		st->retx.cb = udp_on_retx;
		st->budget.cb = sip_on_budget;
		snprintf(st->tname, sizeof(st->tname), "%s %u", tp_names[transport], port);
	}
	/* every probe exists before the first starts: a probe finishing at once settles only
	 * when the others are done too */
	for (int f = 0; f < 2; f++) {
		struct sip_state *st = k->p[f];
		int err;

		if (!st)
			continue;
		if (f == F_V4 && !(x->have_addr && x->resolved[h]))  /* IPv6 only (phone or name) */
			sip_finish(st, DIAG_SKIP, "not probed: %s", x->have_addr ? "no A record" : "no IPv4 address");
		else if ((err = probe_start(st)) < 0)
			sip_finish(st, DIAG_FAIL, "the %s probe could not run: %s", f == F_V6 ? "IPv6" : "IPv4",
				   diag_strerror(err));
		if (c->priv != k)
			break; /* settled (and freed) */
	}
	return 0;
nomem:
	for (int f = 0; f < 2; f++)
		free(k->p[f]);
	free(k);
	c->priv = NULL;
	return -ENOMEM;
}

static void sip_cancel(struct diag_check *c)
{
	struct sip_check *k = c->priv;

	if (!k)
		return;
	for (int f = 0; f < 2; f++) {
		if (k->p[f])
			sip_release(k->p[f]);
		free(k->p[f]);
	}
	free(k);
	c->priv = NULL;
}

#define SIPT(i, idv, nm, title, host) \
	{ idv, nm, title, 2, false, host, i, sip_start, sip_cancel }
const struct diag_check_type diag_chk_sip[6] = {
	SIPT(0, DIAG_C_EAST_UDP, "east-udp", "East UDP", DIAG_H_EAST),
	SIPT(1, DIAG_C_EAST_TCP, "east-tcp", "East TCP", DIAG_H_EAST),
	SIPT(2, DIAG_C_EAST_TLS, "east-tls", "East TLS", DIAG_H_EAST),
	SIPT(3, DIAG_C_WEST_UDP, "west-udp", "West UDP", DIAG_H_WEST),
	SIPT(4, DIAG_C_WEST_TCP, "west-tcp", "West TCP", DIAG_H_WEST),
	SIPT(5, DIAG_C_WEST_TLS, "west-tls", "West TLS", DIAG_H_WEST),
};

void diag_sip_reach_advise(const struct diag_opts *o, struct diag_result *res[6])
{
	char allow[3][16];

	for (int t = 0; t < 3; t++)
		snprintf(allow[t], sizeof(allow[t]), "%s %u", tp_names[t], t == T_TLS ? o->sip_tls_port : o->sip_port);

	for (int i = 0; i < 6; i++) {
		struct diag_result *r = res[i];
		int reg = i / 3, other = 1 - reg, nworks = 0;
		char works[64] = "", pv[32] = "", cause[sizeof(r->advice)];
		bool other_ok = false;

		if (!r->done || r->verdict != DIAG_FAIL)
			continue;
		for (int t = 0; t < 3; t++) {
			if (res[reg * 3 + t]->done && res[reg * 3 + t]->verdict == DIAG_PASS) {
				size_t l = strlen(works), lp = strlen(pv);

				snprintf(works + l, sizeof(works) - l, "%s%s", nworks ? " and " : "", allow[t]);
				snprintf(pv + lp, sizeof(pv) - lp, "%s%s", nworks ? "/" : "", tp_names[t]);
				nworks++;
			}
			if (res[other * 3 + t]->done && res[other * 3 + t]->verdict == DIAG_PASS)
				other_ok = true;
		}
		utl_strlcpy(cause, r->advice, sizeof(cause));
		if (nworks)
			diag_verdict_set(r, DIAG_FAIL, "%s; %s work%s: allow %s or provision %s", cause, works,
				 nworks > 1 ? "" : "s", allow[i % 3], pv);
		else if (other_ok)
			diag_verdict_set(r, DIAG_FAIL,
				 "%s; the other region works, calls fail over to it: allow outbound SIP to both "
				 "regions (UDP/TCP %u, TLS %u)", cause, o->sip_port, o->sip_tls_port);
		else
			diag_verdict_set(r, DIAG_FAIL,
				 "%s: allow outbound SIP (UDP/TCP %u, TLS %u) to both regions", cause, o->sip_port,
				 o->sip_tls_port);
		if (!r->brief[0])
			snprintf(r->brief, sizeof(r->brief), "no answer");
	}
}

/* ---------------------------------------------------------------- HTTPS */

struct https_state {
	struct diag_check *c;
	struct pf_req *req;       /* the HEAD request, in a job process */
	bool v6;                  /* over IPv6 (no IPv4 address, or no A record) */
	char resolve[RESOLVE_MAX];
};

static void https_done(const struct pf_reply *p, void *arg)
{
	struct https_state *st = arg;
	struct diag_check *c = st->c;
	struct diag_result *r = &c->res;
	const char *host = c->ctx->host[DIAG_H_PROV], *cause = curl_cause(p->rc, p->why);

	if (p->rc == CURLE_OK) {
		diag_value_add(r, "http_status", "", "%d", p->http_status);
		diag_value_add(r, "time", "ms", "%u", p->time_ms);
		snprintf(r->brief, sizeof(r->brief), "TLS ok, HTTP %d", p->http_status);
		diag_verdict_set(r, DIAG_PASS, "%s answers over HTTPS (TLS verified)", host);
	} else {
		diag_value_add(r, "error", "", "%s", p->why);
		snprintf(r->brief, sizeof(r->brief), "%s", cause);
		if (p->rc == CURLE_PEER_FAILED_VERIFICATION || p->rc == CURLE_SSL_CACERT_BADFILE ||
		    p->rc == CURLE_SSL_CONNECT_ERROR)
			diag_verdict_set(r, DIAG_FAIL,
					 "HTTPS to %s: %s; check the clock and that no firewall intercepts TLS", host,
					 cause);
		else
			diag_verdict_set(r, DIAG_FAIL,
					 "no HTTPS connection to %s (%s): allow outbound HTTPS (TCP 443)%s to %s", host,
					 cause, st->v6 ? " over IPv6" : "", host);
	}
	c->priv = NULL;
	free(st);
	diag_check_done(c);
}

static int https_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	const char *url = x->opts->prov_url, *p = url + 8 + strlen(x->host[DIAG_H_PROV]);
	struct https_state *st = calloc(1, sizeof(*st));
	struct sockaddr_in6 dst;
	unsigned port = 443;
	char ip[INET6_ADDRSTRLEN + 2];

	if (!st)
		return -ENOMEM;
	st->c = c;
	c->priv = st;
	if (*p == ':')
		port = (unsigned)strtoul(p + 1, NULL, 10);
	/* IPv4 when the phone and the name have it, else IPv6 ("[addr]": libcurl's bracketed form) */
	st->v6 = diag_dst(x, DIAG_H_PROV, port, &dst) == 6;
	diag_value_add(&c->res, "server", "", "%s:%u", diag_host_str(&dst, ip), port);
	diag_threshold_set(&c->res, "a verified TLS connection and an HTTP answer within %d s",
			   HTTPS_BUDGET_MS / 1000);
	snprintf(st->resolve, sizeof(st->resolve), "%s:%u:%s", x->host[DIAG_H_PROV], port, ip);
	if (diag_take(c, DIAG_H_PROV) < 0)
		return -EDQUOT;   /* the runner's FAIL becomes INCONCLUSIVE, cause first (diag_budget_note) */
	return pf_probe(x->http, PF_HEAD, url, st->resolve, x->ifname, HTTPS_BUDGET_MS, https_done, st, &st->req) < 0
	       ? -EIO : 0;
}

static void https_cancel(struct diag_check *c)
{
	struct https_state *st = c->priv;

	if (!st)
		return;
	pf_cancel(st->req);
	free(st);
	c->priv = NULL;
}

const struct diag_check_type diag_chk_https = {
	DIAG_C_HTTPS, "https", "HTTPS 443", 2, false, DIAG_H_PROV, 0, https_start, https_cancel,
};

/* chk_reach.c - the reachability matrix: HTTPS to provisioning and SIP over UDP/TCP 5060 and
 * TLS 5061 to both registrars. UDP and TCP send a fixed OPTIONS and want any SIP answer;
 * HTTPS and TLS go through libcurl (verification always on) on the loop. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/ev.h"
#include "diag/check.h"
#include "diag/probe.h"
#include "diag/sipprobe.h"
#include "system/system.h"
#include "common/lazylibs.h"          /* last: the libraries are loaded on use */

#define UDP_T1_MS 500
#define UDP_BUDGET_MS 4000
#define TCP_BUDGET_MS 5000
#define TLS_BUDGET_MS 6000
#define HTTPS_BUDGET_MS 8000
#define SIP_MAX 4096

enum { T_UDP = 0, T_TCP, T_TLS };
static const char *const tnames[] = { "UDP 5060", "TCP 5060", "TLS 5061" };

struct sip_state {
	struct diag_check *c;
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
	CURL *easy;
	char curl_err[CURL_ERROR_SIZE];
	char resolve[DIAG_HOST_MAX + 32];
	struct curl_slist *rlist;
};

static void sip_release(struct sip_state *st)
{
	ev_timer_cancel(&st->retx);
	ev_timer_cancel(&st->budget);
	if (st->w.fd >= 0) {
		ev_fd_del(&st->w);
		close(st->w.fd);
		st->w.fd = -1;
	}
	if (st->easy) {
		diag_curl_remove(st->c->ctx->curl, st->easy);
		st->easy = NULL;
	}
	curl_slist_free_all(st->rlist);
	st->rlist = NULL;
}

static void sip_finish(struct sip_state *st, enum diag_verdict v, const char *fmt, ...) DSA_PRINTF(3, 4);
static void sip_finish(struct sip_state *st, enum diag_verdict v, const char *fmt, ...)
{
	struct diag_check *c = st->c;
	va_list ap;

	sip_release(st);
	if (v == DIAG_FAIL && !c->res.brief[0]) {
		/* the short cause for the display: what is in brackets, else "no answer" */
		const char *b = strchr(fmt, '(') ? NULL : "no answer";

		utl_strlcpy(c->res.brief, b ? b : "no connection", sizeof(c->res.brief));
	}
	c->res.verdict = v;
	va_start(ap, fmt);
	vsnprintf(c->res.advice, sizeof(c->res.advice), fmt, ap);
	va_end(ap);
	c->priv = NULL;
	free(st);
	diag_check_done(c);
}

static const char *host_of(struct sip_state *st)
{
	return st->c->ctx->host[st->h];
}

static void sip_answered(struct sip_state *st, int code)
{
	struct diag_result *r = &st->c->res;
	unsigned ms = (unsigned)(ev_now_ms() - st->sent_ms);

	diag_value_add(r, "status", "", "%d", code);
	diag_value_add(r, "time", "ms", "%u", ms);
	snprintf(r->brief, sizeof(r->brief), "%d in %u ms", code, ms);
	sip_finish(st, DIAG_PASS, "%s answers SIP over %s", host_of(st), tnames[st->transport]);
}

static int build_req(struct sip_state *st, int fd)
{
	struct sockaddr_in local;
	char ip[INET_ADDRSTRLEN];
	uint8_t rnd[6];
	struct sipprobe p;
	int n;

	if (diag_local_addr(fd, &local) < 0)
		return -errno;
	utl_random(rnd, sizeof(rnd));
	snprintf(st->branch, sizeof(st->branch), "%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
		 rnd[4], rnd[5]);
	p = (struct sipprobe){ st->transport == T_UDP ? "UDP" : "TCP", diag_ntoa(local.sin_addr, ip),
			       ntohs(local.sin_port), host_of(st), st->c->ctx->opts->sip_port, st->branch,
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
		sip_finish(st, DIAG_FAIL, "no answer to OPTIONS over UDP 5060 from %s", host_of(st));
		break;
	case T_TCP:
		sip_finish(st, DIAG_FAIL, st->connected ? "TCP 5060 to %s connects but OPTIONS is not answered"
							: "no TCP 5060 connection to %s (timed out)", host_of(st));
		break;
	default:
		sip_finish(st, DIAG_FAIL, "no TLS 5061 connection to %s (timed out)", host_of(st));
		break;
	}
}

static void udp_send(struct sip_state *st)
{
	if (send(st->w.fd, st->req, st->reqlen, 0) < 0 && errno != ECONNREFUSED && errno != EAGAIN)
		sip_finish(st, DIAG_FAIL, "cannot send to %s over UDP 5060: %s", host_of(st), strerror(errno));
}

static void udp_on_retx(struct ev_timer *t)
{
	struct sip_state *st = container_of(t, struct sip_state, retx);

	st->interval_ms = st->interval_ms * 2 > 4000 ? 4000 : st->interval_ms * 2;
	ev_timer_set(&st->retx, st->interval_ms);
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
			snprintf(st->c->res.brief, sizeof(st->c->res.brief), "%.40s", strerror(soerr));
			sip_finish(st, DIAG_FAIL, "no TCP 5060 connection to %s (%s)", host_of(st), strerror(soerr));
			return;
		}
		st->connected = true;
		if (build_req(st, w->fd) < 0 || send(w->fd, st->req, st->reqlen, MSG_NOSIGNAL) != (ssize_t)st->reqlen) {
			sip_finish(st, DIAG_FAIL, "TCP 5060 to %s connects but the request cannot be sent", host_of(st));
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
		sip_finish(st, DIAG_FAIL, "TCP 5060 to %s connects but closes without answering", host_of(st));
		return;
	}
	st->rxlen += (size_t)n;
	st->rx[st->rxlen] = '\0';
	if (!strstr(st->rx, "\r\n\r\n")) {
		if (st->rxlen >= sizeof(st->rx) - 1)
			sip_finish(st, DIAG_FAIL, "TCP 5060 to %s answers with something that is not SIP", host_of(st));
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
		sip_finish(st, DIAG_FAIL, "TCP 5060 to %s answers with something that is not SIP", host_of(st));
}

static const char *curl_cause(CURLcode rc)
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
		return curl_easy_strerror(rc);
	}
}

static void tls_done(CURL *e, CURLcode rc, void *arg)
{
	struct sip_state *st = arg;
	struct diag_result *r = &st->c->res;
	double t = 0;

	curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME, &t);
	curl_easy_cleanup(e);
	st->easy = NULL;
	if (rc == CURLE_OK) {
		diag_value_add(r, "handshake", "ms", "%.0f", t * 1000);
		snprintf(r->brief, sizeof(r->brief), "verified, %.0f ms", t * 1000);
		sip_finish(st, DIAG_PASS, "%s: TLS 5061 handshake verified", host_of(st));
		return;
	}
	diag_value_add(r, "error", "", "%s", st->curl_err[0] ? st->curl_err : curl_easy_strerror(rc));
	snprintf(r->brief, sizeof(r->brief), "%s", curl_cause(rc));
	if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
		sip_finish(st, DIAG_FAIL, "TLS 5061 to %s: %s (check the clock and that nothing intercepts TLS)",
			   host_of(st), curl_cause(rc));
	else
		sip_finish(st, DIAG_FAIL, "no TLS 5061 connection to %s (%s)", host_of(st), curl_cause(rc));
}

/* Common TLS settings: verification on, CA, optional client certificate, our own address. */
static CURL *tls_easy(struct diag_ctx *x, const char *url, char *errbuf, struct curl_slist *rl, long ms)
{
	const struct diag_opts *o = x->opts;
	CURL *e = (lazy_need(&lazy_curl_lib), curl_easy_init());

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#endif
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	if (rl)
		curl_easy_setopt(e, CURLOPT_RESOLVE, rl);
	if (o->ca_file[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
	if (o->cert_file[0] && o->key_file[0]) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, o->cert_file);
		curl_easy_setopt(e, CURLOPT_SSLKEY, o->key_file);
	}
	if (x->ifname[0])
		curl_easy_setopt(e, CURLOPT_INTERFACE, x->ifname);
	return e;
}

static int sip_start(struct diag_check *c)
{
	const struct diag_check_type *t = c->type;
	struct diag_ctx *x = c->ctx;
	struct sip_state *st = calloc(1, sizeof(*st));
	struct sockaddr_in dst;
	char ip[INET_ADDRSTRLEN], url[DIAG_HOST_MAX + 32];
	int fd;

	if (!st)
		return -ENOMEM;
	st->c = c;
	c->priv = st;
	st->h = t->arg / 3 ? DIAG_H_WEST : DIAG_H_EAST;
	st->transport = t->arg % 3;
	st->w.fd = -1;
	st->retx.cb = udp_on_retx;
	st->budget.cb = sip_on_budget;
	diag_value_add(&c->res, "server", "", "%s", diag_ntoa(x->addr[st->h], ip));
	switch (st->transport) {
	case T_UDP:
		diag_threshold_set(&c->res, "a SIP answer to OPTIONS within %d s", UDP_BUDGET_MS / 1000);
		diag_sin(&dst, x->addr[st->h], x->opts->sip_port);
		fd = diag_udp_open(&dst, x->opts->dscp_signal, 0);
		if (fd < 0)
			return fd;
		st->w.fd = fd;
		st->w.cb = udp_on_read;
		if (build_req(st, fd) < 0)
			return -EIO;
		ev_fd_add(&st->w, EV_READ);
		st->interval_ms = UDP_T1_MS;
		ev_timer_set(&st->retx, st->interval_ms);
		ev_timer_set(&st->budget, UDP_BUDGET_MS);
		st->sent_ms = ev_now_ms();
		udp_send(st);
		return 0;
	case T_TCP:
		diag_threshold_set(&c->res, "connect and a SIP answer to OPTIONS within %d s", TCP_BUDGET_MS / 1000);
		diag_sin(&dst, x->addr[st->h], x->opts->sip_port);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		st->w.fd = fd;
		st->w.cb = tcp_on_io;
		sys_set_dscp(fd, x->opts->dscp_signal);
		if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 && errno != EINPROGRESS) {
			int e = errno;

			sip_finish(st, DIAG_FAIL, "no TCP 5060 connection to %s (%s)", host_of(st), strerror(e));
			return 0;
		}
		ev_fd_add(&st->w, EV_WRITE);
		ev_timer_set(&st->budget, TCP_BUDGET_MS);
		return 0;
	default:
		diag_threshold_set(&c->res, "a verified TLS handshake within %d s", TLS_BUDGET_MS / 1000);
		snprintf(st->resolve, sizeof(st->resolve), "%s:%u:%s", host_of(st), x->opts->sip_tls_port, ip);
		st->rlist = curl_slist_append(NULL, st->resolve);
		snprintf(url, sizeof(url), "https://%s:%u/", host_of(st), x->opts->sip_tls_port);
		st->easy = tls_easy(x, url, st->curl_err, st->rlist, TLS_BUDGET_MS);
		if (!st->easy)
			return -ENOMEM;
		curl_easy_setopt(st->easy, CURLOPT_CONNECT_ONLY, 1L);
		if (diag_curl_add(x->curl, st->easy, tls_done, st) < 0) {
			curl_easy_cleanup(st->easy);
			st->easy = NULL;
			return -EIO;
		}
		st->sent_ms = ev_now_ms();
		return 0;
	}
}

static void sip_cancel(struct diag_check *c)
{
	struct sip_state *st = c->priv;

	if (!st)
		return;
	sip_release(st);
	free(st);
	c->priv = NULL;
}

#define SIPT(i, idv, nm, title, host) \
	{ idv, nm, title, 2, false, host, i, sip_start, sip_cancel }
const struct diag_check_type diag_chk_sip[6] = {
	SIPT(0, DIAG_C_EAST_UDP, "east-udp", "East UDP 5060", DIAG_H_EAST),
	SIPT(1, DIAG_C_EAST_TCP, "east-tcp", "East TCP 5060", DIAG_H_EAST),
	SIPT(2, DIAG_C_EAST_TLS, "east-tls", "East TLS 5061", DIAG_H_EAST),
	SIPT(3, DIAG_C_WEST_UDP, "west-udp", "West UDP 5060", DIAG_H_WEST),
	SIPT(4, DIAG_C_WEST_TCP, "west-tcp", "West TCP 5060", DIAG_H_WEST),
	SIPT(5, DIAG_C_WEST_TLS, "west-tls", "West TLS 5061", DIAG_H_WEST),
};

void diag_sip_reach_advise(struct diag_result *res[6])
{
	static const char *const allow[] = { "UDP 5060", "TCP 5060", "TLS 5061" };
	static const char *const prov[] = { "UDP", "TCP", "TLS" };

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
				snprintf(pv + lp, sizeof(pv) - lp, "%s%s", nworks ? "/" : "", prov[t]);
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
				 "regions (UDP/TCP 5060, TLS 5061)", cause);
		else
			diag_verdict_set(r, DIAG_FAIL,
				 "%s: allow outbound SIP (UDP/TCP 5060, TLS 5061) to both regions", cause);
		if (!r->brief[0])
			snprintf(r->brief, sizeof(r->brief), "no answer");
	}
}

/* ---------------------------------------------------------------- HTTPS */

struct https_state {
	struct diag_check *c;
	CURL *easy;
	struct curl_slist *rlist;
	char resolve[DIAG_HOST_MAX + 32];
	char err[CURL_ERROR_SIZE];
};

static void https_release(struct https_state *st)
{
	if (st->easy)
		diag_curl_remove(st->c->ctx->curl, st->easy);
	st->easy = NULL;
	curl_slist_free_all(st->rlist);
	st->rlist = NULL;
}

static void https_done(CURL *e, CURLcode rc, void *arg)
{
	struct https_state *st = arg;
	struct diag_check *c = st->c;
	struct diag_result *r = &c->res;
	const char *host = c->ctx->host[DIAG_H_PROV];
	long code = 0;
	double t = 0;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &t);
	curl_easy_cleanup(e);
	st->easy = NULL;
	if (rc == CURLE_OK) {
		diag_value_add(r, "http_status", "", "%ld", code);
		diag_value_add(r, "time", "ms", "%.0f", t * 1000);
		snprintf(r->brief, sizeof(r->brief), "TLS ok, HTTP %ld", code);
		diag_verdict_set(r, DIAG_PASS, "%s answers over HTTPS (TLS verified)", host);
	} else {
		diag_value_add(r, "error", "", "%s", st->err[0] ? st->err : curl_easy_strerror(rc));
		snprintf(r->brief, sizeof(r->brief), "%s", curl_cause(rc));
		if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
		    rc == CURLE_SSL_CONNECT_ERROR)
			diag_verdict_set(r, DIAG_FAIL,
					 "HTTPS to %s: %s; check the clock and that no firewall intercepts TLS", host,
					 curl_cause(rc));
		else
			diag_verdict_set(r, DIAG_FAIL,
					 "no HTTPS connection to %s (%s): allow outbound HTTPS (TCP 443) to %s", host,
					 curl_cause(rc), host);
	}
	https_release(st);
	c->priv = NULL;
	free(st);
	diag_check_done(c);
}

static int https_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	const char *url = x->opts->prov_url, *p = url + 8 + strlen(x->host[DIAG_H_PROV]);
	struct https_state *st = calloc(1, sizeof(*st));
	unsigned port = 443;
	char ip[INET_ADDRSTRLEN];

	if (!st)
		return -ENOMEM;
	st->c = c;
	c->priv = st;
	if (*p == ':')
		port = (unsigned)strtoul(p + 1, NULL, 10);
	diag_value_add(&c->res, "server", "", "%s:%u", diag_ntoa(x->addr[DIAG_H_PROV], ip), port);
	diag_threshold_set(&c->res, "a verified TLS connection and an HTTP answer within %d s",
			   HTTPS_BUDGET_MS / 1000);
	snprintf(st->resolve, sizeof(st->resolve), "%s:%u:%s", x->host[DIAG_H_PROV], port, ip);
	st->rlist = curl_slist_append(NULL, st->resolve);
	st->easy = tls_easy(x, url, st->err, st->rlist, HTTPS_BUDGET_MS);
	if (!st->easy)
		return -ENOMEM;
	curl_easy_setopt(st->easy, CURLOPT_NOBODY, 1L);
	if (diag_curl_add(x->curl, st->easy, https_done, st) < 0) {
		curl_easy_cleanup(st->easy);
		st->easy = NULL;
		return -EIO;
	}
	return 0;
}

static void https_cancel(struct diag_check *c)
{
	struct https_state *st = c->priv;

	if (!st)
		return;
	https_release(st);
	free(st);
	c->priv = NULL;
}

const struct diag_check_type diag_chk_https = {
	DIAG_C_HTTPS, "https", "HTTPS 443", 2, false, DIAG_H_PROV, 0, https_start, https_cancel,
};

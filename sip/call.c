/* call.c - a minimal SIP UAC test call: INVITE, digest, Timer A/B, ACK, BYE. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ev.h"
#include "common/log.h"
#include "common/resolv.h"
#include "common/util.h"
#include "sip/call.h"
#include "sip/digest.h"
#include "sip/msg.h"

#define T2_MS       4000
#define ROUTE_MAX   1024
#define AUTH_MAX    1024
#define FIELD_MAX   128

enum call_state { CS_RESOLVING, CS_CONNECTING, CS_INVITING, CS_ANSWERED, CS_BYE, CS_DONE };

struct sip_call {
	struct sip_call_opts o;
	char host[FIELD_MAX], user[FIELD_MAX], auth_user[FIELD_MAX], password[FIELD_MAX];
	char domain[FIELD_MAX], target[FIELD_MAX], ca_file[256];
	char *sdp;
	enum call_state state;
	struct rsv_query *dns;
	struct sip_tp *tp;
	struct ev_timer t_retx, t_timeout, t_event;
	unsigned retx_ms;
	bool reliable;
	bool got_1xx;
	char local[64];
	int local_port;
	char call_id[48], from_tag[24], to_tag[256], branch[24], ack_branch[24];
	uint32_t cseq;                /* of the current INVITE / BYE */
	uint32_t invite_cseq;
	char ruri[2 * FIELD_MAX + 8];  /* initial Request-URI */
	char proxy_route[96];         /* "Route: <sip:registrar-ip:port;lr>\r\n" (preloaded, see learn_dialog) */
	char remote_target[256];      /* in-dialog Request-URI (remote Contact) */
	char route[ROUTE_MAX];        /* "Route: ...\r\n" lines, or "" */
	char auth_hdr[AUTH_MAX];      /* "Authorization: ...\r\n" of the current request, or "" */
	char last_nonce[SIP_DIGEST_FIELD_MAX];
	uint32_t nc;
	char *req;                    /* current request (retransmissions) */
	size_t reqlen;
	char *ack;                    /* ACK of the 2xx (resent on retransmitted 2xx) */
	size_t acklen;
	uint64_t invite_ms;
	struct sip_call_media media;
	/* pending event delivered from t_event */
	struct sip_call_event ev;
	char why[256];
	bool in_cb;
	bool free_pending;
};

static void call_release(struct sip_call *c)
{
	ev_timer_cancel(&c->t_retx);
	ev_timer_cancel(&c->t_timeout);
	ev_timer_cancel(&c->t_event);
	if (c->dns) {
		rsv_cancel(c->dns);
		c->dns = NULL;
	}
	if (c->tp) {
		sip_tp_close(c->tp);
		c->tp = NULL;
	}
}

/* Deliver an event from the loop (never from inside a public call). */
static void call_emit(struct sip_call *c, enum sip_call_event_kind kind, int status, const char *fmt, ...)
	DSA_PRINTF(4, 5);

static void call_emit(struct sip_call *c, enum sip_call_event_kind kind, int status, const char *fmt, ...)
{
	va_list ap;

	c->why[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
	}
	ev_timer_cancel(&c->t_retx);
	ev_timer_cancel(&c->t_timeout);
	if (kind != SIP_CALL_ANSWERED) {
		c->state = CS_DONE;
		if (c->tp && kind == SIP_CALL_FAILED && status == 0) {
			sip_tp_close(c->tp);
			c->tp = NULL;
		}
	}
	memset(&c->ev, 0, sizeof(c->ev));
	c->ev.kind = kind;
	c->ev.status = status;
	c->ev.why = c->why;
	c->ev.media = kind == SIP_CALL_ANSWERED ? &c->media : NULL;
	c->ev.setup_ms = (unsigned)(ev_now_ms() - c->invite_ms);
	if (kind == SIP_CALL_FAILED)
		log_notice("call", "test call failed: %s", c->why);
	ev_timer_set(&c->t_event, 0);
}

static void on_event_timer(struct ev_timer *t)
{
	struct sip_call *c = container_of(t, struct sip_call, t_event);
	struct sip_call_event ev = c->ev;

	c->in_cb = true;
	if (c->o.cb)
		c->o.cb(c, &ev, c->o.arg);
	c->in_cb = false;
	if (c->free_pending)
		sip_call_free(c);
}

/* ------------------------------------------------------------ pure helpers */

const char *sip_call_body(const char *buf, size_t len, size_t *body_len)
{
	for (size_t i = 0; i + 3 < len; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
			*body_len = len - i - 4;
			return buf + i + 4;
		}
	}
	*body_len = 0;
	return NULL;
}

int sip_call_header(const char *buf, size_t len, const char *name, const char *compact, char *out,
		    size_t size)
{
	size_t blen, nl = strlen(name), cl = compact ? strlen(compact) : 0, used = 0;
	const char *body = sip_call_body(buf, len, &blen);
	const char *end = body ? body : buf + len, *p = buf;
	int found = 0;

	if (size)
		out[0] = '\0';
	/* skip the start line */
	while (p < end && *p != '\n')
		p++;
	while (p < end) {
		const char *line = ++p, *eol, *v;
		size_t vl;

		while (p < end && *p != '\n')
			p++;
		eol = p;
		if (eol > line && eol[-1] == '\r')
			eol--;
		if (eol <= line)
			continue;
		if ((size_t)(eol - line) > nl && !strncasecmp(line, name, nl) &&
		    (line[nl] == ':' || line[nl] == ' ' || line[nl] == '\t'))
			v = line + nl;
		else if (cl && (size_t)(eol - line) > cl && !strncasecmp(line, compact, cl) &&
			 (line[cl] == ':' || line[cl] == ' ' || line[cl] == '\t'))
			v = line + cl;
		else
			continue;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		if (v >= eol || *v != ':')
			continue;
		v++;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		vl = (size_t)(eol - v);
		if (used + vl + (found ? 2 : 0) + 1 > size)
			return -ENOSPC;
		if (found) {
			memcpy(out + used, ", ", 2);
			used += 2;
		}
		memcpy(out + used, v, vl);
		used += vl;
		out[used] = '\0';
		found++;
	}
	return found;
}

int sip_call_parse_sdp(const char *body, size_t len, struct sip_call_media *m, const char **why)
{
	const char *p = body, *end = body + len;
	char sess_addr[64] = "", media_addr[64] = "";
	bool in_audio = false, seen_audio = false;
	const char *dummy;

	if (!why)
		why = &dummy;
	memset(m, 0, sizeof(*m));
	m->pt = -1;
	if (!body || len == 0) {
		*why = "the answer has no SDP body";
		return -EBADMSG;
	}
	if (len > SIP_CALL_SDP_MAX) {
		*why = "the answer's SDP is larger than 2048 bytes";
		return -EBADMSG;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char line[512];
		size_t ll;

		if (!eol)
			eol = end;
		ll = (size_t)(eol - p);
		if (ll && p[ll - 1] == '\r')
			ll--;
		if (ll >= sizeof(line)) {
			*why = "an SDP line of the answer is longer than 511 bytes";
			return -EBADMSG;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		p = eol < end ? eol + 1 : end;
		if (memchr(line, '\0', ll)) {
			*why = "the answer's SDP contains a NUL byte";
			return -EBADMSG;
		}
		if (!strncmp(line, "m=", 2)) {
			in_audio = false;
			if (!strncmp(line, "m=audio ", 8) && !seen_audio) {
				char proto[32];
				int port, pt, n = 0;

				if (sscanf(line + 8, "%d %31s %d%n", &port, proto, &pt, &n) != 3 ||
				    port < 0 || port > 65535 || pt < 0 || pt > 127) {
					*why = "the answer's m=audio line is malformed";
					return -EBADMSG;
				}
				m->port = port;
				m->pt = pt;
				in_audio = seen_audio = true;
			}
		} else if (!strncmp(line, "c=", 2)) {
			char addr[64], v = '\0';
			struct in6_addr ia;

			/* RFC 4566 / 3266: IN IP4 a.b.c.d or IN IP6 x:y::z (no brackets) */
			if (sscanf(line + 2, "IN IP%c %63[^/ ]", &v, addr) != 2 ||
			    inet_pton(v == '6' ? AF_INET6 : v == '4' ? AF_INET : -1, addr, &ia) != 1) {
				*why = "the answer's c= line is not IN IP4 / IN IP6 with a numeric address";
				return -EBADMSG;
			}
			utl_strlcpy(in_audio ? media_addr : sess_addr, addr, sizeof(media_addr));
		} else if (in_audio && !m->has_crypto && !strncmp(line, "a=crypto:", 9)) {
			utl_strlcpy(m->crypto, line + 2, sizeof(m->crypto));
			m->has_crypto = true;
		}
	}
	if (!seen_audio) {
		*why = "the answer's SDP has no m=audio line";
		return -EBADMSG;
	}
	if (m->port == 0) {
		*why = "the echo service refused the audio stream (m=audio port 0)";
		return -EBADMSG;
	}
	utl_strlcpy(m->addr, media_addr[0] ? media_addr : sess_addr, sizeof(m->addr));
	if (!m->addr[0]) {
		*why = "the answer's SDP has no c= address";
		return -EBADMSG;
	}
	m->ip6 = strchr(m->addr, ':');   /* IN IP6: inet_pton(AF_INET6) took it, an IPv4 one has none */
	if (!strcmp(m->addr, "0.0.0.0")) {
		*why = "the answer's SDP holds the stream (c=0.0.0.0)";
		return -EBADMSG;
	}
	return 0;
}

/* ------------------------------------------------------------ requests */

static int build_request(struct sip_call *c, const char *method, const char *ruri, const char *branch,
			 uint32_t cseq, const char *body, char **out, size_t *outlen)
{
	size_t cap = 4096 + (body ? strlen(body) : 0);
	char *buf = malloc(cap);
	int n;

	if (!buf)
		return -ENOMEM;
	n = snprintf(buf, cap,
		     "%s %s SIP/2.0\r\n"
		     "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "%s"
		     "From: <sip:%s@%s>;tag=%s\r\n"
		     "To: <sip:%s@%s>%s%s\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u %s\r\n"
		     "%s"
		     "Contact: <sip:%s@%s:%d%s>\r\n"
		     "User-Agent: dialstack-agent/" PACKAGE_VERSION " selftest\r\n"
		     "%s"
		     "Content-Length: %zu\r\n\r\n%s",
		     method, ruri, sip_tp_name(c->o.transport), c->local, c->local_port, branch,
		     c->state >= CS_ANSWERED ? c->route : "", c->user, c->domain, c->from_tag, c->target,
		     c->domain, c->to_tag[0] ? ";tag=" : "", c->to_tag, c->call_id, cseq, method,
		     c->auth_hdr, c->user, c->local, c->local_port,
		     c->o.transport == SIP_TP_UDP ? "" : c->o.transport == SIP_TP_TCP ? ";transport=tcp" : ";transport=tls",
		     body ? "Content-Type: application/sdp\r\n" : "", body ? strlen(body) : 0, body ? body : "");
	if (n < 0 || (size_t)n >= cap || (size_t)n > SIP_MSG_MAX) {
		free(buf);
		return -ENOSPC;
	}
	*out = buf;
	*outlen = (size_t)n;
	return 0;
}

static void retx_arm(struct sip_call *c)
{
	if (c->reliable)
		return;
	ev_timer_set(&c->t_retx, c->retx_ms);
}

static int send_current(struct sip_call *c)
{
	int err = sip_tp_send(c->tp, c->req, c->reqlen);

	if (err < 0)
		log_info("call", "send failed: %s", strerror(-err));
	return err;
}

static int send_invite(struct sip_call *c)
{
	int err;

	free(c->req);
	c->req = NULL;
	(void)utl_random_hex(c->branch, 8);
	c->invite_cseq = c->cseq;
	err = build_request(c, "INVITE", c->ruri, c->branch, c->cseq, c->sdp, &c->req, &c->reqlen);
	if (err < 0)
		return err;
	c->retx_ms = c->o.t1_ms;
	c->got_1xx = false;
	if ((err = send_current(c)) < 0 && err != -EAGAIN)
		return err;
	retx_arm(c);
	ev_timer_set(&c->t_timeout, 64ull * c->o.t1_ms);
	return 0;
}

static void send_ack(struct sip_call *c, bool for_2xx)
{
	char *ack = NULL;
	size_t len;
	uint32_t cseq = c->invite_cseq;
	char save_auth[AUTH_MAX];

	/* the ACK carries the INVITE's CSeq number; credentials are not needed */
	utl_strlcpy(save_auth, c->auth_hdr, sizeof(save_auth));
	c->auth_hdr[0] = '\0';
	if (for_2xx) {
		(void)utl_random_hex(c->ack_branch, 8);
		if (build_request(c, "ACK", c->remote_target, c->ack_branch, cseq, NULL, &ack, &len) == 0) {
			free(c->ack);
			c->ack = ack;
			c->acklen = len;
			(void)sip_tp_send(c->tp, ack, len);
		}
	} else {
		enum call_state st = c->state;

		c->state = CS_INVITING;   /* no route set: same path as the INVITE */
		if (build_request(c, "ACK", c->ruri, c->branch, cseq, NULL, &ack, &len) == 0) {
			(void)sip_tp_send(c->tp, ack, len);
			free(ack);
		}
		c->state = st;
	}
	utl_strlcpy(c->auth_hdr, save_auth, sizeof(c->auth_hdr));
}

static void on_retx(struct ev_timer *t)
{
	struct sip_call *c = container_of(t, struct sip_call, t_retx);

	if (!c->req || c->state == CS_DONE || c->state == CS_ANSWERED)
		return;
	if (c->state == CS_INVITING && c->got_1xx)
		return;    /* Timer A stops in Proceeding */
	(void)send_current(c);
	c->retx_ms *= 2;
	if (c->state == CS_BYE && c->retx_ms > T2_MS)
		c->retx_ms = T2_MS;
	retx_arm(c);
}

static void on_timeout(struct ev_timer *t)
{
	struct sip_call *c = container_of(t, struct sip_call, t_timeout);

	if (c->state == CS_BYE) {
		call_emit(c, SIP_CALL_ENDED, 0, "the echo service did not answer the BYE within %u ms",
			  64 * c->o.t1_ms);
		return;
	}
	if (c->state == CS_INVITING && c->got_1xx)
		call_emit(c, SIP_CALL_FAILED, 0, "the echo service rang but did not answer within %u ms",
			  c->o.answer_timeout_ms);
	else if (c->state == CS_INVITING)
		call_emit(c, SIP_CALL_FAILED, 0, "no answer to the INVITE from %s within %u ms (Timer B): "
			  "check that SIP %s %d reaches the registrar", c->host, 64 * c->o.t1_ms,
			  sip_tp_name(c->o.transport), c->o.port);
	else
		call_emit(c, SIP_CALL_FAILED, 0, "could not reach the registrar %s within %u ms", c->host,
			  64 * c->o.t1_ms);
}

/* Answer a 401/407 once per nonce; false when we cannot (the caller fails the call). */
static bool answer_challenge(struct sip_call *c, const struct sip_msg *m, const char *method,
			     const char *uri)
{
	char cnonce[40], val[AUTH_MAX - 64];

	if (!m->has_challenge || !c->password[0])
		return false;
	if (!strcmp(c->last_nonce, m->challenge.nonce) && !m->challenge.stale)
		return false;
	if (strcmp(c->last_nonce, m->challenge.nonce))
		c->nc = 0;
	utl_strlcpy(c->last_nonce, m->challenge.nonce, sizeof(c->last_nonce));
	c->nc++;
	if (sip_digest_cnonce(cnonce, sizeof(cnonce)) < 0 ||
	    sip_digest_authorization(&m->challenge, c->auth_user, c->password, method, uri, c->nc, cnonce, val,
				     sizeof(val)) < 0)
		return false;
	snprintf(c->auth_hdr, sizeof(c->auth_hdr), "%s: %s\r\n",
		 m->challenge.proxy ? "Proxy-Authorization" : "Authorization", val);
	return true;
}

/* Route set (Record-Route reversed) and remote target (Contact) of a 2xx. */
static void learn_dialog(struct sip_call *c, const char *buf, size_t len)
{
	char rr[ROUTE_MAX], contact[512];
	char *items[16];
	int n = 0, depth = 0;
	bool quote = false;

	utl_strlcpy(c->remote_target, c->ruri, sizeof(c->remote_target));
	c->route[0] = '\0';
	if (sip_call_header(buf, len, "Contact", "m", contact, sizeof(contact)) > 0) {
		char *lt = strchr(contact, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		char uri[256];

		if (lt && gt && gt - lt - 1 > 4 && (size_t)(gt - lt - 1) < sizeof(uri)) {
			memcpy(uri, lt + 1, (size_t)(gt - lt - 1));
			uri[gt - lt - 1] = '\0';
			if ((!strncasecmp(uri, "sip:", 4) || !strncasecmp(uri, "sips:", 5)) &&
			    sip_header_value_ok(uri, sizeof(uri) - 1) && !strchr(uri, ' '))
				utl_strlcpy(c->remote_target, uri, sizeof(c->remote_target));
		}
	}
	if (sip_call_header(buf, len, "Record-Route", NULL, rr, sizeof(rr) - 64) <= 0 ||
	    !sip_header_value_ok(rr, sizeof(rr))) {
		/* No route set (the echo did not copy Record-Route): in-dialog requests still go through
		 * the registrar, our outbound proxy, so name it in a preloaded Route (RFC 3261 8.1.2):
		 * it loose-routes them on to the remote target. */
		utl_strlcpy(c->route, c->proxy_route, sizeof(c->route));
		return;
	}
	items[n++] = rr;
	for (char *p = rr; *p && n < 16; p++) {
		if (*p == '"')
			quote = !quote;
		else if (!quote && *p == '<')
			depth++;
		else if (!quote && *p == '>')
			depth--;
		else if (!quote && depth == 0 && *p == ',') {
			*p = '\0';
			items[n] = p + 1;
			while (*items[n] == ' ')
				items[n]++;
			n++;
		}
	}
	for (int i = n - 1; i >= 0; i--) {
		size_t l = strlen(c->route);

		snprintf(c->route + l, sizeof(c->route) - l, "Route: %s\r\n", items[i]);
	}
}

static void on_invite_response(struct sip_call *c, const struct sip_msg *m, const char *buf, size_t len)
{
	const char *why = NULL;
	size_t blen;
	const char *body;

	if (m->status < 200) {
		c->got_1xx = true;
		ev_timer_cancel(&c->t_retx);
		ev_timer_set(&c->t_timeout, c->o.answer_timeout_ms);
		return;
	}
	if (m->status >= 300) {
		if (strlen(m->to_tag) < sizeof(c->to_tag)) {    /* an ACK with a cut tag would be wrong */
			utl_strlcpy(c->to_tag, m->to_tag, sizeof(c->to_tag));
			send_ack(c, false);
		}
		c->to_tag[0] = '\0';
		if ((m->status == 401 || m->status == 407) && (c->cseq++, answer_challenge(c, m, "INVITE", c->ruri))) {
			if (send_invite(c) == 0)
				return;
			call_emit(c, SIP_CALL_FAILED, m->status, "could not resend the INVITE with credentials");
			return;
		}
		if (m->status == 401 || m->status == 407)
			call_emit(c, SIP_CALL_FAILED, m->status,
				  "the echo call was refused: %d %s (authentication failed: check the SIP user "
				  "and password)", m->status, m->reason);
		else
			call_emit(c, SIP_CALL_FAILED, m->status, "the echo service refused the call: %d %s",
				  m->status, m->reason);
		return;
	}
	/* 2xx */
	if (!m->to_tag[0]) {
		call_emit(c, SIP_CALL_FAILED, m->status, "the 2xx to the INVITE has no To tag");
		return;
	}
	if (strlen(m->to_tag) >= sizeof(c->to_tag)) {
		/* never cut: a shortened tag would name another dialog in the ACK and BYE */
		call_emit(c, SIP_CALL_FAILED, m->status,
			  "the 2xx to the INVITE has a To tag of %zu bytes (at most %zu are kept): "
			  "the echo service's answer cannot be used", strlen(m->to_tag), sizeof(c->to_tag) - 1);
		return;
	}
	utl_strlcpy(c->to_tag, m->to_tag, sizeof(c->to_tag));
	c->state = CS_ANSWERED;
	learn_dialog(c, buf, len);
	send_ack(c, true);
	free(c->req);
	c->req = NULL;
	body = sip_call_body(buf, len, &blen);
	if (sip_call_parse_sdp(body, blen, &c->media, &why) == 0 && c->media.ip6 != (c->local[0] == '['))
		why = "its c= is in the other IP family";
	if (why) {
		/* hang up the dialog (one BYE, not waited for), then report */
		(void)sip_call_hangup(c);
		call_emit(c, SIP_CALL_FAILED, m->status, "the echo service answered but %s", why);
		return;
	}
	call_emit(c, SIP_CALL_ANSWERED, m->status, NULL);
}

static void on_msg(struct sip_tp *tp, const char *buf, size_t len, const struct sockaddr_storage *from,
		   void *arg)
{
	struct sip_call *c = arg;
	struct sip_msg m;
	const char *why = NULL;
	char want_branch[40];

	if (sip_msg_parse(buf, len, c->o.transport != SIP_TP_UDP, &m, &why) != 0) {
		log_info("call", "ignored a malformed message: %s", why ? why : "?");
		return;
	}
	if (m.is_request) {
		/* in-dialog requests from the echo (BYE): answer 200, the call is over for it */
		char *out;
		size_t olen;

		if (!strcmp(m.call_id, c->call_id) &&
		    sip_msg_build_response(&m, strcmp(m.method, "BYE") && strcmp(m.method, "OPTIONS") ? 501 : 200,
					   "OK", m.to_tag, "", &out, &olen) == 0) {
			(void)sip_tp_send_to(c->tp, out, olen, from);
			free(out);
		}
		goto out;
	}
	if (strcmp(m.call_id, c->call_id))
		goto out;
	if (c->state == CS_ANSWERED && !strcmp(m.cseq_method, "INVITE") && m.status >= 200 && m.status < 300) {
		if (c->ack)
			(void)sip_tp_send(c->tp, c->ack, c->acklen);   /* retransmitted 2xx */
		goto out;
	}
	snprintf(want_branch, sizeof(want_branch), "z9hG4bK%s", c->branch);
	if (strcmp(m.via_branch, want_branch) || m.cseq != c->cseq)
		goto out;
	if (c->state == CS_INVITING && !strcmp(m.cseq_method, "INVITE")) {
		on_invite_response(c, &m, buf, len);
	} else if (c->state == CS_BYE && !strcmp(m.cseq_method, "BYE") && m.status >= 200) {
		if ((m.status == 401 || m.status == 407) && (c->cseq++, answer_challenge(c, &m, "BYE", c->remote_target))) {
			free(c->req);
			c->req = NULL;
			(void)utl_random_hex(c->branch, 8);
			if (build_request(c, "BYE", c->remote_target, c->branch, c->cseq, NULL, &c->req, &c->reqlen) == 0) {
				c->retx_ms = c->o.t1_ms;
				(void)send_current(c);
				retx_arm(c);
				goto out;
			}
		}
		call_emit(c, SIP_CALL_ENDED, m.status, m.status < 300 ? NULL : "the BYE was answered %d %s",
			  m.status, m.reason);
	}
out:
	sip_msg_free(&m);
}

static void on_up(struct sip_tp *tp, void *arg)
{
	struct sip_call *c = arg;
	char l[INET6_ADDRSTRLEN];
	int err;

	if (c->state != CS_CONNECTING)
		return;
	if ((err = sip_tp_local(tp, l, sizeof(l), &c->local_port)) < 0) {
		call_emit(c, SIP_CALL_FAILED, 0, "no local address for the call: %s", strerror(-err));
		return;
	}
	/* Via and Contact: an IPv6 literal in brackets (RFC 5118) */
	snprintf(c->local, sizeof(c->local), strchr(l, ':') ? "[%s]" : "%s", l);
	c->state = CS_INVITING;
	c->invite_ms = ev_now_ms();
	if ((err = send_invite(c)) < 0)
		call_emit(c, SIP_CALL_FAILED, 0, "cannot send the INVITE: %s", strerror(-err));
}

static void on_tp_error(struct sip_tp *tp, int err, const char *why, void *arg)
{
	struct sip_call *c = arg;

	if (c->state == CS_DONE)
		return;
	if (c->state == CS_BYE) {
		call_emit(c, SIP_CALL_ENDED, 0, "the connection failed during the BYE: %s", why);
		return;
	}
	if (c->state == CS_ANSWERED)
		return;   /* the media test goes on; BYE will report */
	call_emit(c, SIP_CALL_FAILED, 0, "SIP %s to %s failed: %s", sip_tp_name(c->o.transport), c->host,
		  why ? why : strerror(-err));
}

static const struct sip_tp_cbs tp_cbs = { .up = on_up, .msg = on_msg, .error = on_tp_error };

static void on_resolved(struct rsv_query *d, const struct rsv_result *res, void *arg)
{
	struct sip_call *c = arg;
	struct sip_tp_opts to = { 0 };
	int e;

	c->dns = NULL;
	if (res->err < 0) {
		call_emit(c, SIP_CALL_FAILED, 0, "cannot resolve the registrar %s: %s", c->host, rsv_strerror(res->err));
		return;
	}
	to.kind = c->o.transport;
	to.peer = res->addr[0];
	if (to.peer.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&to.peer)->sin6_port = htons((uint16_t)c->o.port);
	else
		((struct sockaddr_in *)&to.peer)->sin_port = htons((uint16_t)c->o.port);
	to.host = c->host;
	to.ca_file = c->ca_file[0] ? c->ca_file : NULL;
	to.dscp = c->o.dscp;
	{
		char a[64];

		sip_sockaddr_str(&to.peer, a, sizeof(a));
		snprintf(c->proxy_route, sizeof(c->proxy_route), "Route: <sip:%s;lr%s>\r\n", a,
			 c->o.transport == SIP_TP_TCP ? ";transport=tcp" : c->o.transport == SIP_TP_TLS ?
			 ";transport=tls" : "");
	}
	c->state = CS_CONNECTING;
	if ((e = sip_tp_open(&to, &tp_cbs, c, &c->tp)) < 0) {
		c->tp = NULL;
		call_emit(c, SIP_CALL_FAILED, 0, "cannot open SIP %s to %s: %s", sip_tp_name(c->o.transport), c->host,
			  strerror(-e));
		return;
	}
	ev_timer_set(&c->t_timeout, 64ull * c->o.t1_ms);
}

/* ------------------------------------------------------------ API */

static bool field_ok(const char *s, size_t max, bool allow_empty)
{
	if (!s)
		return allow_empty;
	if (!*s)
		return allow_empty;
	if (!sip_header_value_ok(s, max))
		return false;
	for (const char *p = s; *p; p++)
		if (strchr(" <>\";,@", *p))
			return false;
	return true;
}

int sip_call_start(const struct sip_call_opts *o, struct sip_call **out, const char **why)
{
	struct sip_call *c = NULL;
	const char *dummy;
	int err = -EINVAL;

	if (!why)
		why = &dummy;
	*out = NULL;
	*why = NULL;
	if (!o || !field_ok(o->host, FIELD_MAX - 1, false))
		*why = "the call needs a registrar host name or address";
	else if (!field_ok(o->user, FIELD_MAX - 1, false))
		*why = "the call needs a valid SIP user";
	else if (!field_ok(o->auth_user, FIELD_MAX - 1, true))
		*why = "the SIP auth user is not valid";
	else if (o->password && (strlen(o->password) >= FIELD_MAX || !sip_header_value_ok(o->password, FIELD_MAX)))
		*why = "the SIP password is too long or has control characters";
	else if (!field_ok(o->domain, FIELD_MAX - 1, false))
		*why = "the call needs a valid SIP domain";
	else if (!field_ok(o->target, FIELD_MAX - 1, false))
		*why = "the call needs a target user (\"echo\")";
	else if (!o->sdp || !*o->sdp || strlen(o->sdp) > SIP_CALL_SDP_MAX)
		*why = "the call needs an SDP offer of at most 2048 bytes";
	else if (o->port < 0 || o->port > 65535 || o->dscp < 0 || o->dscp > 63 ||
		 (unsigned)o->transport > SIP_TP_TLS)
		*why = "the call's port, DSCP or transport is out of range";
	else if (o->transport == SIP_TP_TLS && (!o->ca_file || !*o->ca_file))
		*why = "a TLS call needs the CA bundle";
	else if (o->t1_ms > 10000 || o->answer_timeout_ms > 120000)
		*why = "the call's timers are out of range";
	if (*why)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		*why = "out of memory";
		return -ENOMEM;
	}
	c->o = *o;
	if (!c->o.t1_ms)
		c->o.t1_ms = 500;
	if (!c->o.port)
		c->o.port = o->transport == SIP_TP_TLS ? 5061 : 5060;
	if (!c->o.answer_timeout_ms)
		c->o.answer_timeout_ms = 64 * c->o.t1_ms;
	c->reliable = o->transport != SIP_TP_UDP;
	utl_strlcpy(c->host, o->host, sizeof(c->host));
	utl_strlcpy(c->user, o->user, sizeof(c->user));
	utl_strlcpy(c->auth_user, o->auth_user && *o->auth_user ? o->auth_user : o->user, sizeof(c->auth_user));
	utl_strlcpy(c->password, o->password ? o->password : "", sizeof(c->password));
	utl_strlcpy(c->domain, o->domain, sizeof(c->domain));
	utl_strlcpy(c->target, o->target, sizeof(c->target));
	if (o->ca_file)
		utl_strlcpy(c->ca_file, o->ca_file, sizeof(c->ca_file));
	c->o.host = c->o.user = c->o.auth_user = c->o.password = c->o.domain = c->o.target = c->o.ca_file = NULL;
	c->sdp = strdup(o->sdp);
	c->o.sdp = NULL;
	if (!c->sdp) {
		err = -ENOMEM;
		goto out;
	}
	(void)utl_random_hex(c->call_id, 16);
	(void)utl_random_hex(c->from_tag, 8);
	c->cseq = utl_random_range(1, 10000);
	snprintf(c->ruri, sizeof(c->ruri), "sip:%s@%s", c->target, c->domain);
	c->t_retx.cb = on_retx;
	c->t_timeout.cb = on_timeout;
	c->t_event.cb = on_event_timer;
	c->state = CS_RESOLVING;
	c->invite_ms = ev_now_ms();
	if ((err = rsv_lookup(c->host, RSV_ADDR, &(struct rsv_opts){ .family = o->family }, on_resolved, c,
			      &c->dns)) < 0) {
		*why = "cannot start resolving the registrar";
		goto out;
	}
	*out = c;
	return 0;
out:
	free(c->sdp);
	free(c);
	if (!*why)
		*why = "out of memory";
	return err;
}

int sip_call_hangup(struct sip_call *c)
{
	int err;

	if (!c || c->state != CS_ANSWERED || !c->tp)
		return -ENOTCONN;
	c->auth_hdr[0] = '\0';
	c->cseq++;
	(void)utl_random_hex(c->branch, 8);
	free(c->req);
	c->req = NULL;
	c->state = CS_BYE;
	if ((err = build_request(c, "BYE", c->remote_target, c->branch, c->cseq, NULL, &c->req, &c->reqlen)) < 0) {
		call_emit(c, SIP_CALL_ENDED, 0, "cannot build the BYE");
		return 0;
	}
	c->retx_ms = c->o.t1_ms;
	(void)send_current(c);
	retx_arm(c);
	ev_timer_set(&c->t_timeout, 64ull * c->o.t1_ms);
	return 0;
}

void sip_call_free(struct sip_call *c)
{
	if (!c)
		return;
	if (c->in_cb) {
		c->free_pending = true;
		c->o.cb = NULL;
		call_release(c);
		return;
	}
	call_release(c);
	free(c->req);
	free(c->ack);
	free(c->sdp);
	explicit_bzero(c->password, sizeof(c->password));
	free(c);
}

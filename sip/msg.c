/* msg.c - SIP message checks, parsing and building; see msg.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <osipparser2/osip_parser.h>

#include "common/util.h"
#include "sip/msg.h"

static bool parser_ready;

static void osip_trace_drop(const char *fi, int li, osip_trace_level_t level, const char *chfr,
			    va_list ap)
{
}

static const char *find_crlfcrlf(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
			return buf + i;
	return NULL;
}

static bool is_token_char(unsigned char c)
{
	return isalnum(c) || strchr("-.!%*_+`'~", c);
}

/* The start line: the shape of a request or response line. A request line is
 * printable ASCII; a status line's reason phrase may also hold UTF-8 (RFC
 * 3261 25.1 Reason-Phrase: UTF8-NONASCII / UTF8-CONT, RFC 4475 3.1.1.12).
 * Control bytes stay refused, HTAB too although the grammar allows it there:
 * no server of ours sends one, and a tab in a reason is a broken-reply case
 * the sipp test (tests/e2e/sip-sipp-malformed.xml) expects dropped. */
static int check_start_line(const char *l, size_t n, const char **why)
{
	size_t i, sp = 0;
	bool status = n >= 12 && !strncmp(l, "SIP/2.0 ", 8);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)l[i];

		if (status && i >= 12 && c >= 0x80)
			continue;
		if (c < 0x20 || c > 0x7e) {
			*why = status ? "status line holds a control byte"
				      : "start line holds a control or non-ASCII byte";
			return -EBADMSG;
		}
		if (c == ' ')
			sp++;
	}
	if (status) {
		if (!isdigit((unsigned char)l[8]) || !isdigit((unsigned char)l[9]) ||
		    !isdigit((unsigned char)l[10]) || (n > 11 && l[11] != ' ')) {
			*why = "status line without a three-digit code";
			return -EBADMSG;
		}
		return 0;
	}
	if (sp != 2 || n < 13 || strncmp(l + n - 8, " SIP/2.0", 8)) {
		*why = "start line is neither a SIP/2.0 request nor a response";
		return -EBADMSG;
	}
	for (i = 0; l[i] != ' '; i++)
		if (!is_token_char((unsigned char)l[i])) {
			*why = "request method is not a token";
			return -EBADMSG;
		}
	return 0;
}

/* Walk the header section [buf, buf+hlen) (hlen includes the final CRLF of the
 * last header line, not the empty line). *cl gets Content-Length or -1. */
static int scan_headers(const char *buf, size_t hlen, long *cl, const char **why)
{
	const char *p = buf, *end = buf + hlen;
	int count = 0, err;
	bool first = true, inq = false;

	*cl = -1;
	while (p < end) {
		const char *eol = p;
		size_t n;

		while (eol < end && *eol != '\r' && *eol != '\n')
			eol++;
		if (eol + 1 >= end || eol[0] != '\r' || eol[1] != '\n') {
			*why = "bare CR or LF inside the headers";
			return -EBADMSG;
		}
		n = (size_t)(eol - p);
		if (n > SIP_LINE_MAX) {
			*why = "header line longer than 2048 bytes";
			return -EMSGSIZE;
		}
		if (first) {
			err = check_start_line(p, n, why);
			if (err)
				return err;
			first = false;
		} else {
			const char *colon;
			size_t i;

			/* a new field (not a folded continuation) starts outside quotes */
			if (p[0] != ' ' && p[0] != '\t')
				inq = false;
			for (i = 0; i < n; i++) {
				unsigned char c = (unsigned char)p[i];

				if (inq && c == '\\' && i + 1 < n && (unsigned char)p[i + 1] <= 0x7f) {
					/* RFC 3261 25.1 quoted-pair: "\" and any byte
					 * but CR/LF, NUL, BEL and DEL included (RFC
					 * 4475 3.1.1.2); sip_msg_parse hands a NUL to
					 * libosip2 as SP */
					i++;
					continue;
				}
				if (c == '"')
					inq = !inq;
				if ((c < 0x20 && c != '\t') || c == 0x7f) {
					*why = c ? "header holds a control byte (outside a quoted-pair)"
						 : "header holds a NUL byte (outside a quoted-pair)";
					return -EBADMSG;
				}
			}
			if (++count > SIP_HEADERS_MAX) {
				*why = "more than 64 header lines";
				return -EMSGSIZE;
			}
			if (p[0] != ' ' && p[0] != '\t') {
				size_t nl;

				colon = memchr(p, ':', n);
				if (!colon || colon == p) {
					*why = "header line without a name and colon";
					return -EBADMSG;
				}
				nl = (size_t)(colon - p);
				while (nl && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
					nl--;
				for (i = 0; i < nl; i++)
					if (!is_token_char((unsigned char)p[i])) {
						*why = "header name is not a token";
						return -EBADMSG;
					}
				if ((nl == 14 && !strncasecmp(p, "Content-Length", 14)) ||
				    (nl == 1 && (p[0] == 'l' || p[0] == 'L'))) {
					const char *v = colon + 1;
					long val = 0;
					int digits = 0;

					while (v < eol && (*v == ' ' || *v == '\t'))
						v++;
					while (v < eol && isdigit((unsigned char)*v) && digits < 6) {
						val = val * 10 + (*v++ - '0');
						digits++;
					}
					while (v < eol && (*v == ' ' || *v == '\t'))
						v++;
					if (!digits || v != eol) {
						*why = "Content-Length is not a number";
						return -EBADMSG;
					}
					if (val > SIP_MSG_MAX) {
						*why = "Content-Length larger than 8192";
						return -EMSGSIZE;
					}
					if (*cl >= 0 && *cl != val) {
						*why = "two different Content-Length headers";
						return -EBADMSG;
					}
					*cl = val;
				}
			}
		}
		p = eol + 2;
	}
	if (first) {
		*why = "no start line";
		return -EBADMSG;
	}
	return 0;
}

/* sip_msg_check, with *msglen the length of the first message: on a datagram
 * a Content-Length smaller than what follows the headers ends the message
 * there (RFC 3261 18.3: the rest is discarded; RFC 4475 3.1.1.8). */
static int check_msg(const char *buf, size_t len, bool stream, size_t *msglen, const char **why)
{
	const char *hend;
	size_t hlen, body;
	long cl;
	int err;

	*why = "";
	*msglen = 0;
	if (!buf || len == 0) {
		*why = "empty message";
		return -EBADMSG;
	}
	if (len > SIP_MSG_MAX) {
		*why = "message larger than 8192 bytes";
		return -EMSGSIZE;
	}
	hend = find_crlfcrlf(buf, len);
	if (!hend) {
		*why = "no end of headers (truncated message)";
		return -EBADMSG;
	}
	hlen = (size_t)(hend - buf) + 2;
	err = scan_headers(buf, hlen, &cl, why);
	if (err)
		return err;
	body = len - hlen - 2;
	if (stream && cl < 0) {
		*why = "no Content-Length on a stream transport";
		return -EBADMSG;
	}
	if (cl >= 0 && (size_t)cl > body) {
		*why = "Content-Length larger than the body (truncated message)";
		return -EBADMSG;
	}
	if (cl >= 0 && (size_t)cl < body && stream) {
		*why = "Content-Length smaller than the body";
		return -EBADMSG;
	}
	*msglen = cl >= 0 ? hlen + 2 + (size_t)cl : len;
	return 0;
}

int sip_msg_check(const char *buf, size_t len, bool stream, const char **why)
{
	size_t msglen;

	return check_msg(buf, len, stream, &msglen, why);
}

int sip_msg_frame(const char *buf, size_t len, size_t *consumed, enum sip_frame *kind,
		  const char **why)
{
	const char *hend;
	size_t hlen, total;
	long cl;
	int err;

	*why = "";
	if (len >= 1 && buf[0] == '\r') {
		if (len < 2)
			return 0;
		if (buf[1] != '\n') {
			*why = "stray CR on the stream";
			return -EBADMSG;
		}
		/* a client receives pongs (CRLF); CRLFCRLF at once is a ping */
		if (len < 4 || buf[2] != '\r' || buf[3] != '\n') {
			*consumed = 2;
			*kind = SIP_FRAME_PONG;
			return 1;
		}
		*consumed = 4;
		*kind = SIP_FRAME_PING;
		return 1;
	}
	hend = find_crlfcrlf(buf, len > SIP_MSG_MAX ? SIP_MSG_MAX : len);
	if (!hend) {
		if (len >= SIP_MSG_MAX) {
			*why = "headers longer than 8192 bytes";
			return -EMSGSIZE;
		}
		return 0;
	}
	hlen = (size_t)(hend - buf) + 2;
	err = scan_headers(buf, hlen, &cl, why);
	if (err)
		return err;
	if (cl < 0) {
		*why = "no Content-Length on a stream transport";
		return -EBADMSG;
	}
	total = hlen + 2 + (size_t)cl;
	if (total > SIP_MSG_MAX) {
		*why = "message larger than 8192 bytes";
		return -EMSGSIZE;
	}
	if (len < total)
		return 0;
	*consumed = total;
	*kind = SIP_FRAME_MSG;
	return 1;
}

/* A generic parameter by name (libosip2 takes a non-const name). */
static osip_generic_param_t *gparam(osip_list_t *list, const char *name)
{
	osip_generic_param_t *gp = NULL;
	char n[32];

	if (utl_strlcpy(n, name, sizeof(n)) < 0)
		return NULL;
	if (osip_generic_param_get_byname(list, n, &gp) != 0)
		return NULL;
	return gp;
}

/* Copy src (may be NULL) into dst; -EBADMSG when it does not fit. */
static int copy_field(char *dst, size_t size, const char *src)
{
	dst[0] = '\0';
	if (!src)
		return 0;
	return utl_strlcpy(dst, src, size) < 0 ? -EBADMSG : 0;
}

/* Copy text src (may be NULL) for logs: printable ASCII kept, every other
 * byte (UTF-8 of a reason phrase) as '?', cut to fit. */
static void copy_text(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; src && *src && o + 1 < size; src++)
		dst[o++] = (unsigned char)*src >= 0x20 && (unsigned char)*src < 0x7f ? *src : '?';
	dst[o] = '\0';
}

/* ------------------------------------------------------------ numbers from the server */

/* The one table of floors and ceilings for every number a server sends that
 * can drive a timer (docs/sip.md). zero_ok: 0 is a meaning of its own (Expires:
 * the binding is gone), kept as 0 instead of being raised to the floor. */
static const struct {
	const char *name;
	int floor, ceiling;
	bool zero_ok;
} num_bounds[SIP_NUM_COUNT] = {
	[SIP_NUM_RETRY_AFTER] = { "Retry-After", 1, 3600, false },
	[SIP_NUM_MIN_EXPIRES] = { "Min-Expires", 1, 86400, false },
	[SIP_NUM_EXPIRES] = { "Expires", 60, 86400, true },
	[SIP_NUM_FLOW_TIMER] = { "Flow-Timer", 10, 3600, false },
};

#define NUM_SATURATE 1000000000000000LL     /* 10^15: far above every ceiling */

long long sip_num_parse(const char *s)
{
	long long v = 0;
	int digits = 0;

	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	for (; isdigit((unsigned char)*s); s++, digits++)
		if (v < NUM_SATURATE)
			v = v * 10 + (*s - '0');
	if (!digits)
		return -1;
	if (v > NUM_SATURATE)
		v = NUM_SATURATE;
	if (*s && *s != ' ' && *s != '\t' && *s != ';' && *s != ',' && *s != '(')
		return -1;
	return v;
}

int sip_num_clamp(enum sip_num kind, long long v)
{
	if ((unsigned)kind >= SIP_NUM_COUNT || v < 0)
		return -1;
	if (v == 0 && num_bounds[kind].zero_ok)
		return 0;
	if (v < num_bounds[kind].floor)
		return num_bounds[kind].floor;
	if (v > num_bounds[kind].ceiling)
		return num_bounds[kind].ceiling;
	return (int)v;
}

const char *sip_num_name(enum sip_num kind, int *floor, int *ceiling)
{
	if ((unsigned)kind >= SIP_NUM_COUNT)
		return NULL;
	if (floor)
		*floor = num_bounds[kind].floor;
	if (ceiling)
		*ceiling = num_bounds[kind].ceiling;
	return num_bounds[kind].name;
}

/* A header's number, parsed and clamped; -1 when absent or garbage. */
static int header_num(osip_message_t *om, const char *name, enum sip_num kind)
{
	osip_header_t *h = NULL;

	if (osip_message_header_get_byname(om, name, 0, &h) < 0 || !h || !h->hvalue)
		return -1;
	return sip_num_clamp(kind, sip_num_parse(h->hvalue));
}

static void take_challenges(struct sip_msg *m, osip_list_t *list, bool proxy)
{
	int i, n = osip_list_size(list);

	for (i = 0; i < n && i < 8; i++) {
		osip_www_authenticate_t *wa = osip_list_get(list, i);
		struct sip_challenge ch;
		char *s = NULL;
		int err;

		if (!wa || osip_www_authenticate_to_str(wa, &s) != 0 || !s)
			continue;
		err = sip_digest_parse(s, &ch);
		osip_free(s);
		if (err) {
			if (!m->has_challenge)
				m->challenge_err = err;
			continue;
		}
		ch.proxy = proxy;
		if (!m->has_challenge || sip_digest_better(&ch, &m->challenge)) {
			m->challenge = ch;
			m->has_challenge = true;
			m->challenge_err = 0;
		}
	}
}

void sip_msg_free(struct sip_msg *m)
{
	if (!m)
		return;
	if (m->osip)
		osip_message_free(m->osip);
	free(m->raw);
	memset(m, 0, sizeof(*m));
}

/* Whether the message's Content-Type is multipart/... (header names in any
 * case, the compact "c", folded white space before the value). libosip2's MIME
 * body parser leaks on a part with two Content-Type headers (fuzz_sip_msg),
 * and nothing here needs a multipart body: such messages never reach it. */
static bool is_multipart(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = 0;

		if (i + 12 <= len && !strncasecmp(buf + i, "Content-Type", 12))
			n = 12;
		else if (i + 1 < len && (buf[i] == 'c' || buf[i] == 'C') &&
			 (buf[i + 1] == ':' || buf[i + 1] == ' ' || buf[i + 1] == '\t'))
			n = 1;
		if (n) {
			size_t j = i + n;

			while (j < len && (buf[j] == ' ' || buf[j] == '\t'))
				j++;
			if (j < len && buf[j] == ':') {
				for (j++; j < len && (buf[j] == ' ' || buf[j] == '\t' || buf[j] == '\r' || buf[j] == '\n'); j++)
					;
				if (j + 10 <= len && !strncasecmp(buf + j, "multipart/", 10))
					return true;
			}
		}
		while (i < len && buf[i] != '\n')
			i++;
		i++;
		if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
			break;     /* end of the header section */
	}
	return false;
}

/* A Via port or rport value: 1-65535, else 0 (absent, empty or not a port). */
static int via_num(const char *v)
{
	char *end;
	unsigned long n;

	if (!v || !isdigit((unsigned char)*v))
		return 0;
	n = strtoul(v, &end, 10);
	return *end == '\0' && n >= 1 && n <= 65535 ? (int)n : 0;
}

int sip_msg_parse(const char *buf, size_t len, bool stream, struct sip_msg *m, const char **why)
{
	osip_message_t *om = NULL;
	osip_via_t *via;
	osip_generic_param_t *gp;
	size_t hlen;
	int err, perr;

	memset(m, 0, sizeof(*m));
	err = check_msg(buf, len, stream, &len, why);
	if (err)
		return err;
	if (!parser_ready) {
		/* libosip2's own traces would go to stdout/stderr (and break TAP
		 * output); we report causes ourselves */
		int lvl;

		osip_trace_initialize_func(TRACE_LEVEL0, osip_trace_drop);
		for (lvl = 0; lvl < END_TRACE_LEVEL; lvl++)
			osip_trace_disable_level((osip_trace_level_t)lvl);
		parser_init();
		parser_ready = true;
	}
	err = -EBADMSG;
	if (osip_message_init(&om) != 0 || !om) {
		*why = "out of memory";
		return -ENOMEM;
	}
	m->osip = om;
	if (is_multipart(buf, len)) {
		*why = "multipart body (not supported)";
		goto out;
	}
	hlen = (size_t)(find_crlfcrlf(buf, len) - buf);
	if (memchr(buf, '\0', hlen)) {
		/* a quoted-pair NUL (the only NUL check_msg lets through the
		 * headers): libosip2 works on C strings, so it gets a copy with SP
		 * there; the raw request below keeps the byte */
		char *copy = malloc(len);
		size_t i;

		if (!copy) {
			err = -ENOMEM;
			*why = "out of memory";
			goto out;
		}
		memcpy(copy, buf, len);
		for (i = 0; i < hlen; i++)
			if (!copy[i])
				copy[i] = ' ';
		perr = osip_message_parse(om, copy, len);
		free(copy);
	} else {
		perr = osip_message_parse(om, buf, len);
	}
	if (perr != 0) {
		*why = "SIP parser rejected the message";
		goto out;
	}
	if (!om->call_id || !om->call_id->number || !om->cseq || !om->cseq->number ||
	    !om->cseq->method || !om->from || !om->to) {
		*why = "missing Call-ID, CSeq, From or To";
		goto out;
	}
	via = osip_list_get(&om->vias, 0);
	if (!via || !via->host || !via->protocol) {
		*why = "missing Via";
		goto out;
	}
	m->via_count = osip_list_size(&om->vias);
	if (MSG_IS_RESPONSE(om)) {
		if (om->status_code < 100 || om->status_code > 699) {
			*why = "status code out of range";
			goto out;
		}
		m->status = om->status_code;
		copy_text(m->reason, sizeof(m->reason), om->reason_phrase);
	} else {
		if (!om->sip_method || !om->req_uri) {
			*why = "request without method or Request-URI";
			goto out;
		}
		m->is_request = true;
		if (copy_field(m->method, sizeof(m->method), om->sip_method)) {
			*why = "method name too long";
			goto out;
		}
		m->raw = malloc(len + 1);
		if (!m->raw) {
			err = -ENOMEM;
			*why = "out of memory";
			goto out;
		}
		memcpy(m->raw, buf, len);
		m->raw[len] = '\0';
		m->rawlen = len;
	}
	{
		char *ptr, *end;
		unsigned long n;

		errno = 0;
		n = strtoul(om->cseq->number, &end, 10);
		ptr = om->cseq->number;
		if (errno || end == ptr || *end || n > 0x7fffffffUL) {
			*why = "CSeq number is not a number";
			goto out;
		}
		m->cseq = (uint32_t)n;
	}
	if (copy_field(m->cseq_method, sizeof(m->cseq_method), om->cseq->method)) {
		*why = "CSeq method too long";
		goto out;
	}
	if (om->call_id->host) {
		if (snprintf(m->call_id, sizeof(m->call_id), "%s@%s", om->call_id->number,
			     om->call_id->host) >= (int)sizeof(m->call_id)) {
			*why = "Call-ID too long";
			goto out;
		}
	} else if (copy_field(m->call_id, sizeof(m->call_id), om->call_id->number)) {
		*why = "Call-ID too long";
		goto out;
	}
	gp = gparam(&om->from->gen_params, "tag");
	if (gp && copy_field(m->from_tag, sizeof(m->from_tag), gp->gvalue)) {
		*why = "From tag too long";
		goto out;
	}
	gp = gparam(&om->to->gen_params, "tag");
	if (gp && copy_field(m->to_tag, sizeof(m->to_tag), gp->gvalue)) {
		*why = "To tag too long";
		goto out;
	}
	if (copy_field(m->via_transport, sizeof(m->via_transport), via->protocol) ||
	    copy_field(m->via_host, sizeof(m->via_host), via->host)) {
		*why = "Via transport or host too long";
		goto out;
	}
	m->via_port = via_num(via->port);
	gp = gparam(&via->via_params, "branch");
	if (gp &&
	    copy_field(m->via_branch, sizeof(m->via_branch), gp->gvalue)) {
		*why = "Via branch too long";
		goto out;
	}
	gp = gparam(&via->via_params, "received");
	if (gp &&
	    copy_field(m->via_received, sizeof(m->via_received), gp->gvalue)) {
		*why = "Via received too long";
		goto out;
	}
	m->via_rport = -1;
	gp = gparam(&via->via_params, "rport");
	if (gp) {
		m->via_rport = via_num(gp->gvalue);
	}
	m->expires = header_num(om, "expires", SIP_NUM_EXPIRES);
	m->min_expires = header_num(om, "min-expires", SIP_NUM_MIN_EXPIRES);
	m->retry_after = header_num(om, "retry-after", SIP_NUM_RETRY_AFTER);
	m->flow_timer = header_num(om, "flow-timer", SIP_NUM_FLOW_TIMER);
	{
		osip_header_t *h = NULL;

		if ((osip_message_header_get_byname(om, "event", 0, &h) >= 0 ||
		     osip_message_header_get_byname(om, "o", 0, &h) >= 0) && h && h->hvalue) {
			size_t n = strcspn(h->hvalue, "; \t");

			if (n < sizeof(m->event)) {
				memcpy(m->event, h->hvalue, n);
				m->event[n] = '\0';
			}
		}
	}
	take_challenges(m, &om->www_authenticates, false);
	take_challenges(m, &om->proxy_authenticates, true);
	return 0;
out:
	sip_msg_free(m);
	return err;
}

/* ------------------------------------------------------------ URI comparison */

#define URI_PARAMS_MAX 16

struct uri_kv {
	char name[32];
	char value[128];
	bool has_value;
};

struct uri_parts {
	char scheme[8];
	char user[128];            /* userinfo, %HH decoded; "" when none */
	bool has_user;
	char host[128];            /* lower case */
	int port;                  /* -1 absent */
	struct uri_kv params[URI_PARAMS_MAX];
	int n_params;
	struct uri_kv headers[URI_PARAMS_MAX];
	int n_headers;
};

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? (utl_lower(c) - 'a' + 10) : -1;
}

/* Copy [s, s+n) into out decoding %HH; lower-cases when fold. false when it does not fit or is broken. */
static bool unescape(const char *s, size_t n, char *out, size_t size, bool fold)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return false;
			h = hexval((unsigned char)s[i + 1]);
			l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return false;
			c = h * 16 + l;
			i += 2;
		}
		if (c == 0 || o + 1 >= size)
			return false;
		out[o++] = (char)(fold ? utl_lower(c) : c);
	}
	out[o] = '\0';
	return true;
}

/* Split "name[=value]" items separated by sep from [s, end) into kv. */
static bool split_kv(const char *s, const char *end, char sep, struct uri_kv *kv, int *n)
{
	while (s < end) {
		const char *e = memchr(s, sep, (size_t)(end - s)), *eq;
		struct uri_kv *k;

		if (!e)
			e = end;
		if (e == s) {
			s++;
			continue;
		}
		if (*n >= URI_PARAMS_MAX)
			return false;
		k = &kv[(*n)++];
		eq = memchr(s, '=', (size_t)(e - s));
		k->has_value = eq != NULL;
		if (!unescape(s, (size_t)((eq ? eq : e) - s), k->name, sizeof(k->name), true))
			return false;
		if (eq && !unescape(eq + 1, (size_t)(e - eq - 1), k->value, sizeof(k->value), true))
			return false;
		if (!eq)
			k->value[0] = '\0';
		s = e + 1;
	}
	return true;
}

static bool uri_parse(const char *u, struct uri_parts *p)
{
	const char *s, *end, *at, *hp, *hend, *q;
	size_t n;

	memset(p, 0, sizeof(*p));
	p->port = -1;
	if (!u)
		return false;
	while (*u == ' ' || *u == '\t')
		u++;
	if (*u == '<') {
		u++;
		end = strchr(u, '>');
		if (!end)
			return false;
	} else {
		end = u + strlen(u);
		while (end > u && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
	}
	s = memchr(u, ':', (size_t)(end - u));
	if (!s || s - u >= (ptrdiff_t)sizeof(p->scheme))
		return false;
	for (n = 0; u + n < s; n++)
		p->scheme[n] = (char)utl_lower((unsigned char)u[n]);
	if (strcmp(p->scheme, "sip") && strcmp(p->scheme, "sips"))
		return false;
	s++;
	q = memchr(s, '?', (size_t)(end - s));
	if (!q)
		q = end;
	at = memchr(s, '@', (size_t)(q - s));
	if (at) {
		p->has_user = true;
		if (!unescape(s, (size_t)(at - s), p->user, sizeof(p->user), false))
			return false;
		hp = at + 1;
	} else {
		hp = s;
	}
	hend = memchr(hp, ';', (size_t)(q - hp));
	if (!hend)
		hend = q;
	if (*hp == '[') {
		const char *rb = memchr(hp, ']', (size_t)(hend - hp));

		if (!rb)
			return false;
		s = rb + 1;
	} else {
		s = memchr(hp, ':', (size_t)(hend - hp));
		if (!s)
			s = hend;
	}
	if (s == hp || !unescape(hp, (size_t)(s - hp), p->host, sizeof(p->host), true))
		return false;
	if (s < hend) {
		long port = 0;

		if (*s != ':' || s + 1 == hend)
			return false;
		for (s++; s < hend; s++) {
			if (!isdigit((unsigned char)*s) || (port = port * 10 + (*s - '0')) > 65535)
				return false;
		}
		p->port = (int)port;
	}
	if (hend < q && !split_kv(hend + 1, q, ';', p->params, &p->n_params))
		return false;
	if (q < end && !split_kv(q + 1, end, '&', p->headers, &p->n_headers))
		return false;
	return true;
}

static const struct uri_kv *kv_find(const struct uri_kv *kv, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(kv[i].name, name))
			return &kv[i];
	return NULL;
}

/* Parameters that never match when present in only one URI (RFC 3261 19.1.4,
 * plus transport from its "omitting a component with a default value" rule). */
static bool param_one_sided_fatal(const char *name)
{
	return !strcmp(name, "user") || !strcmp(name, "ttl") || !strcmp(name, "method") ||
	       !strcmp(name, "maddr") || !strcmp(name, "transport");
}

static bool params_match(const struct uri_parts *a, const struct uri_parts *b)
{
	int i;

	for (i = 0; i < a->n_params; i++) {
		const struct uri_kv *o = kv_find(b->params, b->n_params, a->params[i].name);

		if (!o) {
			if (param_one_sided_fatal(a->params[i].name))
				return false;
			continue;
		}
		if (o->has_value != a->params[i].has_value || strcmp(o->value, a->params[i].value))
			return false;
	}
	for (i = 0; i < b->n_params; i++)
		if (!kv_find(a->params, a->n_params, b->params[i].name) &&
		    param_one_sided_fatal(b->params[i].name))
			return false;
	return true;
}

static bool headers_match(const struct uri_parts *a, const struct uri_parts *b)
{
	int i;

	if (a->n_headers != b->n_headers)
		return false;
	for (i = 0; i < a->n_headers; i++) {
		const struct uri_kv *o = kv_find(b->headers, b->n_headers, a->headers[i].name);

		if (!o || strcmp(o->value, a->headers[i].value))
			return false;
	}
	return true;
}

bool sip_uri_equal(const char *a, const char *b)
{
	struct uri_parts pa, pb;

	if (!uri_parse(a, &pa) || !uri_parse(b, &pb))
		return false;
	return !strcmp(pa.scheme, pb.scheme) && pa.has_user == pb.has_user &&
	       !strcmp(pa.user, pb.user) && !strcmp(pa.host, pb.host) && pa.port == pb.port &&
	       params_match(&pa, &pb) && headers_match(&pa, &pb);
}

/* The value of a quoted/bracketed contact parameter without quotes and <>, lower case. */
static void bare_value(const char *v, char *out, size_t size)
{
	size_t o = 0;

	for (; v && *v && o + 1 < size; v++)
		if (*v != '"' && *v != '<' && *v != '>')
			out[o++] = (char)utl_lower((unsigned char)*v);
	out[o] = '\0';
}

bool sip_msg_our_contact(const struct sip_msg *m, const char *our_uri, const char *instance,
			 int reg_id, int *expires)
{
	osip_message_t *om = m->osip;
	int i, n;

	*expires = -1;
	if (!om || !our_uri)
		return false;
	n = osip_list_size(&om->contacts);
	for (i = 0; i < n && i < 32; i++) {
		osip_contact_t *c = osip_list_get(&om->contacts, i);
		osip_generic_param_t *gp;
		char *s = NULL, got[128], want[128];
		bool same;

		if (!c || !c->url || osip_uri_to_str(c->url, &s) != 0 || !s)
			continue;
		same = sip_uri_equal(s, our_uri);
		osip_free(s);
		if (!same)
			continue;
		gp = gparam(&c->gen_params, "+sip.instance");
		if (gp && instance) {
			bare_value(gp->gvalue, got, sizeof(got));
			snprintf(want, sizeof(want), "urn:uuid:%s", instance);
			bare_value(want, want, sizeof(want));
			if (strcmp(got, want))
				continue;
		}
		gp = gparam(&c->gen_params, "reg-id");
		if (gp && reg_id > 0 && sip_num_parse(gp->gvalue) != reg_id)
			continue;
		gp = gparam(&c->gen_params, "expires");
		*expires = gp ? sip_num_clamp(SIP_NUM_EXPIRES, sip_num_parse(gp->gvalue)) : -1;
		if (*expires < 0)
			*expires = m->expires;
		return true;
	}
	return false;
}

int sip_msg_unsupported(const struct sip_msg *m, const char *const *supported, char *out,
			size_t size)
{
	osip_message_t *om = m->osip;
	osip_header_t *h = NULL;
	int pos = 0, count = 0;
	size_t o = 0;

	if (size)
		out[0] = '\0';
	if (!om)
		return 0;
	while (pos < SIP_HEADERS_MAX &&
	       (pos = osip_message_header_get_byname(om, "require", pos, &h)) >= 0) {
		const char *v = h && h->hvalue ? h->hvalue : "";

		while (*v) {
			size_t len, k;
			bool known = false;

			v += strspn(v, " \t,");
			len = strcspn(v, " \t,");
			if (!len)
				break;
			for (k = 0; supported && supported[k]; k++)
				if (strlen(supported[k]) == len && !strncasecmp(supported[k], v, len))
					known = true;
			if (!known) {
				count++;
				if (o + len + 3 < size) {
					if (o) {
						memcpy(out + o, ", ", 2);
						o += 2;
					}
					memcpy(out + o, v, len);
					o += len;
					out[o] = '\0';
				}
			}
			v += len;
		}
		pos++;
	}
	return count;
}

static int append(char **buf, size_t *len, size_t *cap, const char *a, const char *b, const char *c)
{
	const char *parts[3] = { a, b, c };
	size_t i;

	for (i = 0; i < 3; i++) {
		size_t n = parts[i] ? strlen(parts[i]) : 0;

		if (*len + n + 1 > *cap) {
			size_t ncap = (*len + n + 1) * 2;
			char *nb;

			if (ncap > 4 * SIP_MSG_MAX)
				return -EMSGSIZE;
			nb = realloc(*buf, ncap);
			if (!nb)
				return -ENOMEM;
			*buf = nb;
			*cap = ncap;
		}
		memcpy(*buf + *len, parts[i] ? parts[i] : "", n);
		*len += n;
		(*buf)[*len] = '\0';
	}
	return 0;
}

int sip_msg_build_response(const struct sip_msg *req, int code, const char *reason,
			   const char *to_tag, const char *extra, char **out, size_t *outlen)
{
	osip_message_t *om = req ? req->osip : NULL;
	char *buf = NULL, *s = NULL, line[96];
	size_t len = 0, cap = 0;
	int i, n, err;

	if (!om || !req->is_request || code < 100 || code > 699 || !reason)
		return -EINVAL;
	snprintf(line, sizeof(line), "SIP/2.0 %d %s\r\n", code, reason);
	err = append(&buf, &len, &cap, line, NULL, NULL);
	n = osip_list_size(&om->vias);
	for (i = 0; !err && i < n; i++) {
		osip_via_t *via = osip_list_get(&om->vias, i);

		if (!via || osip_via_to_str(via, &s) != 0 || !s) {
			err = -EBADMSG;
			break;
		}
		err = append(&buf, &len, &cap, "Via: ", s, "\r\n");
		osip_free(s);
		s = NULL;
	}
	if (!err && osip_from_to_str(om->from, &s) == 0 && s) {
		err = append(&buf, &len, &cap, "From: ", s, "\r\n");
		osip_free(s);
		s = NULL;
	}
	if (!err && osip_to_to_str(om->to, &s) == 0 && s) {
		bool add_tag = !req->to_tag[0] && to_tag && code > 100;

		err = append(&buf, &len, &cap, "To: ", s, add_tag ? ";tag=" : "");
		if (!err)
			err = append(&buf, &len, &cap, add_tag ? to_tag : "", "\r\n", NULL);
		osip_free(s);
		s = NULL;
	}
	if (!err)
		err = append(&buf, &len, &cap, "Call-ID: ", req->call_id, "\r\n");
	if (!err) {
		snprintf(line, sizeof(line), "CSeq: %u ", (unsigned)req->cseq);
		err = append(&buf, &len, &cap, line, req->cseq_method, "\r\n");
	}
	if (!err) {
		err = append(&buf, &len, &cap, extra ? extra : "", "Content-Length: 0\r\n\r\n", NULL);
	}
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

bool sip_header_value_ok(const char *value, size_t max)
{
	size_t n = 0;

	if (!value)
		return false;
	for (; *value; value++, n++)
		if ((unsigned char)*value < 0x20 || (unsigned char)*value > 0x7e || n >= max)
			return false;
	return true;
}

int sip_msg_contact_uri(const struct sip_register_req *r, char *out, size_t size)
{
	const char *tp_param = "";
	int n;

	if (!r->transport || !r->user || !r->local_host)
		return -EINVAL;
	if (!strcasecmp(r->transport, "TCP"))
		tp_param = ";transport=tcp";
	else if (!strcasecmp(r->transport, "TLS"))
		tp_param = ";transport=tls";
	n = snprintf(out, size, strchr(r->local_host, ':') ? "sip:%s@[%s]:%d%s;ob" : "sip:%s@%s:%d%s;ob",
		     r->user, r->local_host, r->local_port, tp_param);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

/* The fields REGISTER and OPTIONS share, checked; the Via host ("[v6]") in host. 0 or -EINVAL. */
static int req_common(const struct sip_register_req *r, char *host, size_t hsize, const char **ua)
{
	if (!r->transport || !r->registrar || !r->user || !r->domain || !r->local_host ||
	    !r->branch || !r->from_tag || !r->call_id)
		return -EINVAL;
	if (!sip_header_value_ok(r->registrar, 255) || !sip_header_value_ok(r->user, 128) ||
	    !sip_header_value_ok(r->domain, 255) || !sip_header_value_ok(r->local_host, 64) ||
	    strpbrk(r->user, "<>\"@ ;") || strpbrk(r->domain, "<>\" ;") || strpbrk(r->registrar, "<>\" ;"))
		return -EINVAL;
	snprintf(host, hsize, strchr(r->local_host, ':') ? "[%s]" : "%s", r->local_host);
	*ua = r->user_agent && sip_header_value_ok(r->user_agent, 128) ? r->user_agent : "dialstack-agent";
	return 0;
}

/* REGISTER (reg: with the contact block and the auth and self-test headers)
 * or OPTIONS (To the registrar): the shared text once (armhf size). */
static int req_build(const struct sip_register_req *r, bool reg, char *out, size_t size, size_t *len)
{
	const char *method = reg ? "REGISTER" : "OPTIONS", *av = reg ? r->auth_value : NULL;
	const char *st = reg ? r->selftest : NULL, *ua;
	char host[72], contact[300];
	int n, m;

	if ((reg && (!r->instance || r->expires < 0)) || req_common(r, host, sizeof(host), &ua) < 0 ||
	    (reg && sip_msg_contact_uri(r, contact, sizeof(contact)) != 0))
		return -EINVAL;
	n = snprintf(out, size,
		     "%s sip:%s SIP/2.0\r\n"
		     "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:%s@%s>;tag=%s\r\n"
		     "To: <sip:%s%s%s>\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u %s\r\n",
		     method, r->registrar, r->transport, host, r->local_port, r->branch, r->user, r->domain,
		     r->from_tag, reg ? r->user : r->registrar, reg ? "@" : "", reg ? r->domain : "", r->call_id,
		     (unsigned)r->cseq, method);
	if (reg && n >= 0 && (size_t)n < size) {
		m = snprintf(out + n, size - (size_t)n,
			     "Contact: <%s>;+sip.instance=\"<urn:uuid:%s>\";reg-id=%d\r\n"
			     "Expires: %d\r\n"
			     "Supported: path, outbound\r\n"
			     "Allow: OPTIONS, NOTIFY\r\n",
			     contact, r->instance, r->reg_id > 0 ? r->reg_id : 1, r->expires);
		n = m < 0 ? m : n + m;
	}
	if (n >= 0 && (size_t)n < size) {
		m = snprintf(out + n, size - (size_t)n,
			     "User-Agent: %s\r\n"
			     "%s%s%s%s"
			     "%s%s%s"
			     "Content-Length: 0\r\n\r\n",
			     ua, av ? r->auth_header : "", av ? ": " : "", av ? av : "", av ? "\r\n" : "",
			     st ? "X-Dialstack-Selftest: " : "", st ? st : "", st ? "\r\n" : "");
		n = m < 0 ? m : n + m;
	}
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	*len = (size_t)n;
	return 0;
}

int sip_msg_build_register(const struct sip_register_req *r, char *out, size_t size, size_t *len)
{
	return req_build(r, true, out, size, len);
}

int sip_msg_build_options(const struct sip_register_req *r, char *out, size_t size, size_t *len)
{
	return req_build(r, false, out, size, len);
}

int sip_instance_uuid(const char *mac, char *out, size_t size)
{
	/* RFC 4122 appendix C name space for URLs; the name is "urn:dialstack:mac:<12 hex>". */
	static const unsigned char ns[16] = { 0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
					      0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char name[40], hex[13];
	size_t nh = 0;
	const char *p;
	EVP_MD_CTX *ctx;
	int err = -EIO, ok;

	if (!mac || size < 37)
		return -EINVAL;
	for (p = mac; *p; p++) {
		if (isxdigit((unsigned char)*p)) {
			if (nh >= 12)
				return -EINVAL;
			hex[nh++] = (char)utl_lower((unsigned char)*p);
		} else if (*p != ':' && *p != '-' && *p != '.') {
			return -EINVAL;
		}
	}
	if (nh != 12)
		return -EINVAL;
	hex[12] = '\0';
	snprintf(name, sizeof(name), "urn:dialstack:mac:%s", hex);
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 && EVP_DigestUpdate(ctx, ns, sizeof(ns)) == 1 &&
	     EVP_DigestUpdate(ctx, name, strlen(name)) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	if (!ok || mdlen < 16)
		goto out;
	md[6] = (md[6] & 0x0f) | 0x50;
	md[8] = (md[8] & 0x3f) | 0x80;
	snprintf(out, size,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10],
		 md[11], md[12], md[13], md[14], md[15]);
	err = 0;
out:
	EVP_MD_CTX_free(ctx);
	return err;
}

/* sipprobe.c - fixed SIP OPTIONS probes and the SIP ALG comparison (pure). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "diag/sipprobe.h"

int sipprobe_options(char *buf, size_t cap, const struct sipprobe *p)
{
	char sdp[512];
	int sl = 0, n;

	if (p->echo) {
		/* SDP names IPv6 "IP6" and without the brackets of Via and Contact (RFC 4566) */
		int v6 = p->local_ip[0] == '[', al = (int)strlen(p->local_ip) - 2 * v6;
		char fam = v6 ? '6' : '4';

		sl = snprintf(sdp, sizeof(sdp),
			      "v=0\r\n"
			      "o=dsa-selftest 1 1 IN IP%c %.*s\r\n"
			      "s=-\r\n"
			      "c=IN IP%c %.*s\r\n"
			      "t=0 0\r\n"
			      "m=audio %u RTP/AVP 0 8\r\n"
			      "a=rtpmap:0 PCMU/8000\r\n",
			      fam, al, p->local_ip + v6, fam, al, p->local_ip + v6, p->local_port + 2);
		if (sl < 0 || (size_t)sl >= sizeof(sdp))
			return -ENOSPC;
	}
	n = snprintf(buf, cap,
		     "OPTIONS sip:%s:%u SIP/2.0\r\n"
		     "Via: SIP/2.0/%s %s:%u;branch=z9hG4bK%s;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:selftest@%s>;tag=%s\r\n"
		     "To: <sip:%s>\r\n"
		     "Call-ID: %s-%s@dsa-selftest\r\n"
		     "CSeq: 1 OPTIONS\r\n"
		     "Contact: <sip:selftest@%s:%u;transport=%s>\r\n"
		     "User-Agent: dialstack-agent-selftest\r\n"
		     "Accept: application/sdp\r\n"
		     "%s"
		     "%s"
		     "Content-Length: %d\r\n"
		     "\r\n"
		     "%s",
		     p->host, p->port, p->transport, p->local_ip, p->local_port, p->branch,
		     p->host, p->tag, p->host, p->tag, p->branch,
		     p->local_ip, p->local_port, strcasecmp(p->transport, "TCP") ? "udp" : "tcp",
		     p->echo ? SIPPROBE_ECHO_HEADER ": 1\r\n" : "",
		     p->echo ? "Content-Type: application/sdp\r\n" : "",
		     sl, p->echo ? sdp : "");
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

int sipprobe_response_status(const char *msg, size_t len, const char *branch)
{
	char b[96];
	int code;

	if (len < 12 || memcmp(msg, "SIP/2.0 ", 8) != 0)
		return -1;
	if (msg[8] < '1' || msg[8] > '6' || msg[9] < '0' || msg[9] > '9' || msg[10] < '0' ||
	    msg[10] > '9')
		return -1;
	code = (msg[8] - '0') * 100 + (msg[9] - '0') * 10 + (msg[10] - '0');
	snprintf(b, sizeof(b), "branch=z9hG4bK%s", branch);
	if (!memmem(msg, len, b, strlen(b)))
		return -1;
	return code;
}

const char *sipprobe_body(const char *msg, size_t len, size_t *blen)
{
	const char *e = memmem(msg, len, "\r\n\r\n", 4);

	if (!e)
		return NULL;
	e += 4;
	*blen = len - (size_t)(e - msg);
	return e;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int sipprobe_b64decode(const char *in, size_t len, char *out, size_t cap)
{
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0;
	bool pad = false;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)in[i], v;

		if (c == ' ' || c == '\r' || c == '\n' || c == '\t')
			continue;
		if (c == '=') {
			pad = true;
			continue;
		}
		if (pad || (v = b64val(c)) < 0)
			return -EBADMSG;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -ENOSPC;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return (int)o;
}

/* Find the first header line named name (or its compact form) before the blank line;
 * copy its value (trimmed) into out. 0 or -ENOENT. */
static int header(const char *msg, size_t len, const char *name, char compact, char *out, size_t cap)
{
	const char *p = msg, *end = msg + len;
	size_t nl = strlen(name);

	/* skip the start line */
	p = memchr(p, '\n', len);
	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ll = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *colon;

		if (ll && p[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break; /* end of headers */
		colon = memchr(p, ':', ll);
		if (colon) {
			size_t hn = (size_t)(colon - p);

			while (hn && (p[hn - 1] == ' ' || p[hn - 1] == '\t'))
				hn--;
			if ((hn == nl && !strncasecmp(p, name, nl)) ||
			    (compact && hn == 1 && (p[0] | 0x20) == compact)) {
				const char *v = colon + 1;
				size_t vl = ll - (size_t)(v - p);

				while (vl && (*v == ' ' || *v == '\t'))
					v++, vl--;
				if (vl >= cap)
					vl = cap - 1;
				memcpy(out, v, vl);
				out[vl] = '\0';
				return 0;
			}
		}
		p = eol;
	}
	return -ENOENT;
}

/* Find the SDP line starting with prefix ("c=") in the body; copy it. 0 or -ENOENT. */
static int sdp_line(const char *msg, size_t len, const char *prefix, char *out, size_t cap)
{
	size_t bl, pl = strlen(prefix);
	const char *b = sipprobe_body(msg, len, &bl), *end;

	if (!b)
		return -ENOENT;
	end = b + bl;
	while (b < end) {
		const char *eol = memchr(b, '\n', (size_t)(end - b));
		size_t ll = eol ? (size_t)(eol - b) : (size_t)(end - b);

		if (ll && b[ll - 1] == '\r')
			ll--;
		if (ll >= pl && !memcmp(b, prefix, pl)) {
			if (ll >= cap)
				ll = cap - 1;
			memcpy(out, b, ll);
			out[ll] = '\0';
			return 0;
		}
		if (!eol)
			break;
		b = eol + 1;
	}
	return -ENOENT;
}

/* The names inline (a pointer costs a relocation too): a header, or an SDP line "SDP x=" */
static const struct {
	char label[8];        /* the header's name, or "SDP " and the line's "x=" */
	char compact;         /* the header's compact form; 0: an SDP line */
} fields_tbl[] = {
	{ "Via", 'v' },
	{ "Contact", 'm' },
	{ "SDP o=", 0 },
	{ "SDP c=", 0 },
	{ "SDP m=", 0 },
};

int sipprobe_compare(const char *sent, size_t slen, const char *received, size_t rlen,
		     char *fields, size_t fcap)
{
	char a[512], b[512], cid_s[256], cid_r[256];
	int diff = 0;
	size_t fl = 0;

	if (fcap)
		fields[0] = '\0';
	if (header(sent, slen, "Call-ID", 'i', cid_s, sizeof(cid_s)) < 0 ||
	    header(received, rlen, "Call-ID", 'i', cid_r, sizeof(cid_r)) < 0 || strcmp(cid_s, cid_r))
		return -EBADMSG;
	for (size_t i = 0; i < ARRAY_SIZE(fields_tbl); i++) {
		int ra, rb;

		if (fields_tbl[i].compact) {
			ra = header(sent, slen, fields_tbl[i].label, fields_tbl[i].compact, a, sizeof(a));
			rb = header(received, rlen, fields_tbl[i].label, fields_tbl[i].compact, b, sizeof(b));
		} else {
			ra = sdp_line(sent, slen, fields_tbl[i].label + 4, a, sizeof(a));
			rb = sdp_line(received, rlen, fields_tbl[i].label + 4, b, sizeof(b));
		}
		if (ra < 0)
			continue; /* not in what we sent */
		if (rb == 0 && !strcmp(a, b))
			continue;
		diff++;
		if (fcap) {
			int w = snprintf(fields + fl, fcap - fl, "%s%s", fl ? "," : "", fields_tbl[i].label);

			if (w > 0 && fl + (size_t)w < fcap)
				fl += (size_t)w;
		}
	}
	return diff;
}

long sipprobe_message_len(const char *buf, size_t len, size_t max_body)
{
	size_t hlen = 0, i = 0;
	long clen = 0;

	for (size_t k = 0; k + 3 < len; k++) {
		if (buf[k] == '\r' && buf[k + 1] == '\n' && buf[k + 2] == '\r' && buf[k + 3] == '\n') {
			hlen = k + 4;
			break;
		}
	}
	if (!hlen)
		return 0;
	/* header lines: "Content-Length:" or the compact "l:" (any case), value digits */
	while (i < hlen) {
		size_t e = i, nl;

		while (e + 1 < hlen && !(buf[e] == '\r' && buf[e + 1] == '\n'))
			e++;
		nl = e + 2;
		if (i > 0) {
			size_t n = 0;

			if (e - i >= 15 && !strncasecmp(buf + i, "Content-Length:", 15))
				n = 15;
			else if (e - i >= 2 && !strncasecmp(buf + i, "l:", 2))
				n = 2;
			if (n) {
				size_t p = i + n;
				unsigned long v = 0;
				bool digits = false;

				while (p < e && (buf[p] == ' ' || buf[p] == '\t'))
					p++;
				while (p < e && buf[p] >= '0' && buf[p] <= '9') {
					v = v * 10 + (unsigned long)(buf[p++] - '0');
					digits = true;
					if (v > max_body)
						return -EBADMSG;
				}
				while (p < e && (buf[p] == ' ' || buf[p] == '\t'))
					p++;
				if (!digits || p != e)
					return -EBADMSG;
				clen = (long)v;
			}
		}
		i = nl;
	}
	if (len < hlen + (size_t)clen)
		return 0;
	return (long)(hlen + (size_t)clen);
}

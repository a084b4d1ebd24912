/* sipprobe.h - the fixed SIP OPTIONS probes of the self-test and the SIP ALG comparison (pure).
 *
 * No SIP stack: the probe is a fixed text whose Via, Contact and SDP carry the
 * address of the socket it is sent from. The lab's and the platform's
 * registrars answer an OPTIONS carrying "X-Dialstack-Echo: 1" with the request
 * as received, base64-encoded, as the body; comparing the fields a SIP ALG
 * rewrites (top Via, Contact, SDP o=/c=/m=) names what was changed on the way.
 */
#ifndef DSA_DIAG_SIPPROBE_H
#define DSA_DIAG_SIPPROBE_H

#include <stdbool.h>
#include <stddef.h>

#define SIPPROBE_ECHO_HEADER "X-Dialstack-Echo"

struct sipprobe {
	const char *transport;   /* "UDP" or "TCP" */
	const char *local_ip;    /* the sending socket's address: "a.b.c.d" or "[v6]" (RFC 5118) */
	unsigned local_port;
	const char *host;        /* registrar host (Request-URI and To) */
	unsigned port;
	const char *branch;      /* Via branch suffix (after z9hG4bK) */
	const char *tag;         /* From tag = Call-ID prefix */
	bool echo;               /* add the echo header and an SDP body */
};

/* Render the OPTIONS request into buf; its length, or -ENOSPC. */
int sipprobe_options(char *buf, size_t cap, const struct sipprobe *p);

/* Whether msg (len bytes) is a SIP response to our probe (branch matches); its status code or -1. */
int sipprobe_response_status(const char *msg, size_t len, const char *branch);

/* Framing on a stream (TCP): the length of the first complete SIP message in buf (head, blank
 * line and Content-Length / "l" bytes of body; no Content-Length = no body), 0 when more bytes
 * are needed, -EBADMSG when its Content-Length is not a number in 0..max_body. */
long sipprobe_message_len(const char *buf, size_t len, size_t max_body);

/* Extract the body of a SIP message (after the blank line); pointer into msg and *blen, or NULL. */
const char *sipprobe_body(const char *msg, size_t len, size_t *blen);

/* Decode base64 (whitespace ignored) into out (cap bytes); decoded length or -EBADMSG / -ENOSPC. */
int sipprobe_b64decode(const char *in, size_t len, char *out, size_t cap);

/* Compare what was sent with what the server received. Writes the names of the
 * rewritten fields, comma separated ("Via,Contact,SDP c="), into fields; returns
 * how many differ (0: untouched), or -EBADMSG when received is not our request. */
int sipprobe_compare(const char *sent, size_t slen, const char *received, size_t rlen,
		     char *fields, size_t fcap);

#endif

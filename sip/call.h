/* call.h - a minimal SIP UAC test call (INVITE / ACK / BYE) on the event loop.
 *
 * For the self-test's echo call: resolve the registrar (sip/dns), open one
 * flow (sip/transport, UDP by default), send an INVITE with the caller's SDP
 * offer, answer one digest challenge per nonce (sip/digest), retransmit per
 * RFC 3261 Timer A/B on UDP, ACK the final answer (2xx: a new transaction
 * with the To tag, the route set from Record-Route and the remote Contact;
 * non-2xx: in the INVITE's transaction) and hand the answer SDP to the caller.
 * sip_call_hangup() sends BYE and waits (bounded) for its final response.
 * Everything from the network goes through sip_msg_parse() first; the answer
 * SDP is parsed with size caps and refused with a reason.
 */
#ifndef DSA_SIP_CALL_H
#define DSA_SIP_CALL_H

#include <stdbool.h>
#include <stddef.h>

#include "sip/transport.h"

#define SIP_CALL_SDP_MAX    2048   /* largest offer we send / answer we read */
#define SIP_CALL_CRYPTO_MAX 256

/* The answer's media, as parsed from its SDP. */
struct sip_call_media {
	char addr[64];              /* c= address (numeric IPv4, or IPv6 without brackets) */
	bool ip6;                   /* c=IN IP6 (RFC 4566 / 3266) */
	int port;                   /* m=audio port */
	int pt;                     /* first payload type of m=audio */
	bool has_crypto;
	char crypto[SIP_CALL_CRYPTO_MAX];   /* the first a=crypto line, without "a=" */
};

enum sip_call_event_kind {
	SIP_CALL_ANSWERED = 0,      /* 2xx received and ACKed; media filled */
	SIP_CALL_FAILED,            /* no call: status (0 when no final response) and why */
	SIP_CALL_ENDED,             /* after sip_call_hangup(): BYE answered (or not, see why) */
};

struct sip_call_event {
	enum sip_call_event_kind kind;
	int status;                 /* final response code of the INVITE / BYE, 0 none */
	const char *why;            /* failures in words */
	const struct sip_call_media *media;   /* SIP_CALL_ANSWERED */
	unsigned setup_ms;          /* INVITE sent -> 2xx */
};

struct sip_call;

typedef void (*sip_call_cb)(struct sip_call *c, const struct sip_call_event *ev, void *arg);

struct sip_call_opts {
	const char *host;           /* registrar name or IPv4 / IPv6 literal (required) */
	int family;                 /* AF_INET / AF_INET6: only that family's addresses; 0 any.
				     * The offer's c= must be of the family the call uses: an
				     * answer of the other family fails the call */
	int port;                   /* 0: 5060 (5061 for TLS) */
	enum sip_tp_kind transport; /* SIP_TP_UDP by default */
	const char *ca_file;        /* TLS only */
	const char *user;           /* our account (From) */
	const char *auth_user;      /* digest user name; NULL: user */
	const char *password;       /* NULL: no answer to challenges */
	const char *domain;         /* From and Request-URI host */
	const char *target;         /* Request-URI user ("echo") */
	const char *sdp;            /* the offer body (CRLF lines), required */
	int dscp;                   /* signalling DSCP (0-63) */
	unsigned t1_ms;             /* 0: 500 */
	unsigned answer_timeout_ms; /* 0: 64*T1; bound on waiting for a final answer after 1xx */
	sip_call_cb cb;
	void *arg;
};

/* Start the call; events come from the loop, never from here. 0, or
 * -EINVAL with *why naming the bad option / -ENOMEM. */
int sip_call_start(const struct sip_call_opts *o, struct sip_call **out, const char **why);

/* Hang up an answered call: BYE, then SIP_CALL_ENDED when it is answered or
 * after 64*T1. 0, -ENOTCONN when not answered. */
int sip_call_hangup(struct sip_call *c);

/* Stop everything (no more events) and free c; NULL is fine. Safe from the callback. */
void sip_call_free(struct sip_call *c);

/* Parse an answer SDP (pure): c= (IN IP4 or IN IP6), m=audio, first a=crypto. 0, or
 * -EBADMSG with *why (no audio, port 0, non-numeric address, line too long). */
int sip_call_parse_sdp(const char *body, size_t len, struct sip_call_media *m, const char **why);

/* The body of a whole SIP message buf (len bytes): pointer and length (0 when none). Pure. */
const char *sip_call_body(const char *buf, size_t len, size_t *body_len);

/* All values of header name (or its compact form, may be NULL) in buf joined
 * with ", " into out. Returns the number found, or -ENOSPC. Pure. */
int sip_call_header(const char *buf, size_t len, const char *name, const char *compact, char *out,
		    size_t size);

#endif

/* msg.h - SIP message sanity checks, parsing (libosip2) and building.
 *
 * Every received buffer goes through sip_msg_check() BEFORE libosip2 sees
 * it (size cap, line lengths, allowed bytes, header count, Content-Length
 * consistency): libosip2 has had parser CVEs (CVE-2016-10324/5/6,
 * CVE-2017-7853, CVE-2022-41550). After parsing, every field used is
 * NULL-checked and copied into struct sip_msg, so callers never touch
 * libosip2 structures. Pure: no I/O.
 */
#ifndef DSA_SIP_MSG_H
#define DSA_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/digest.h"

#define SIP_MSG_MAX      8192   /* largest datagram or stream message accepted */
#define SIP_LINE_MAX     2048   /* longest start or header line */
#define SIP_HEADERS_MAX  64     /* most header lines in one message */
/* A token or word field (method, Call-ID, tag, branch): RFC 3261 sets no
 * length, so it may fill a whole header line; longer cannot pass the check. */
#define SIP_FIELD_MAX    (SIP_LINE_MAX + 1)

struct sip_msg {
	bool is_request;
	int status;                 /* responses: 100-699 */
	char reason[64];            /* printable ASCII: other bytes (UTF-8) as '?', cut at 63 */
	char method[SIP_FIELD_MAX]; /* requests: the method */
	char cseq_method[SIP_FIELD_MAX];
	uint32_t cseq;
	char call_id[SIP_FIELD_MAX];
	char from_tag[SIP_FIELD_MAX];
	char to_tag[SIP_FIELD_MAX];
	/* top Via */
	char via_transport[32];
	char via_host[64];
	int via_port;               /* 0 when absent */
	char via_branch[SIP_FIELD_MAX];
	char via_received[64];      /* "" when absent */
	int via_rport;              /* -1 absent, 0 present without value */
	int via_count;
	/* selected numbers, already clamped by sip_num_clamp(); -1 when absent or garbage */
	int expires;
	int min_expires;
	int retry_after;
	int flow_timer;             /* RFC 5626 Flow-Timer */
	char event[32];             /* Event header, without parameters */
	/* the best digest challenge (SHA-256 preferred), from WWW- or Proxy-Authenticate */
	bool has_challenge;
	int challenge_err;          /* 0, or why no challenge could be used */
	struct sip_challenge challenge;
	/* request: the whole request, kept to build a response */
	char *raw;
	size_t rawlen;
	void *osip;                 /* private: the libosip2 message */
};

enum sip_frame {
	SIP_FRAME_MSG = 0,          /* a whole SIP message */
	SIP_FRAME_PING,             /* CRLFCRLF keepalive ping (RFC 5626) */
	SIP_FRAME_PONG,             /* CRLF keepalive pong */
};

/* Check a raw message before parsing; stream=true requires Content-Length.
 * On a datagram, bytes after the Content-Length's body are allowed (RFC 3261
 * 18.3: discarded; sip_msg_parse reads only the first message).
 * 0, or -EMSGSIZE / -EBADMSG with *why naming the cause. */
int sip_msg_check(const char *buf, size_t len, bool stream, const char **why);

/* Find the first frame in a stream buffer: 1 with *consumed and *kind set,
 * 0 when more bytes are needed, -EMSGSIZE / -EBADMSG (with *why) when broken. */
int sip_msg_frame(const char *buf, size_t len, size_t *consumed, enum sip_frame *kind,
		  const char **why);

/* Check and parse one message into m (sip_msg_free after use). 0 or -errno with *why. */
int sip_msg_parse(const char *buf, size_t len, bool stream, struct sip_msg *m, const char **why);

/* Release what sip_msg_parse allocated; m may be reused. */
void sip_msg_free(struct sip_msg *m);

/* Every number a server sends that can drive a timer: one table of floors
 * and ceilings in msg.c (docs/sip.md "Numbers from the server"). */
enum sip_num {
	SIP_NUM_RETRY_AFTER = 0,    /* 1 s .. 1 h */
	SIP_NUM_MIN_EXPIRES,        /* 1 s .. 86400 s */
	SIP_NUM_EXPIRES,            /* 0 (no binding) or 60 s .. 86400 s; header and contact param */
	SIP_NUM_FLOW_TIMER,         /* 10 s .. 3600 s */
	SIP_NUM_COUNT
};

/* A delta-seconds value as the server wrote it: digits, optionally followed by
 * white space, ';', ',' or '(' (parameters, comments), saturating at 10^15;
 * -1 for anything else (empty, sign, exponent, hex, letters). */
long long sip_num_parse(const char *s);

/* v (from sip_num_parse, -1: absent) clamped into kind's floor and ceiling; -1 stays -1. */
int sip_num_clamp(enum sip_num kind, long long v);

/* Name, floor and ceiling of kind (docs, tests). */
const char *sip_num_name(enum sip_num kind, int *floor, int *ceiling);

/* RFC 3261 19.1.4 comparison of two SIP/SIPS URIs (with or without <>):
 * scheme and host case-insensitive, userinfo case-sensitive, %HH escapes
 * decoded, ports equal only when both absent or both the same number,
 * parameters in both must match, user/ttl/method/maddr/transport present in
 * only one never match, other one-sided parameters ignored, headers must all
 * match. Anything unparsable never matches. */
bool sip_uri_equal(const char *a, const char *b);

/* Our Contact in a 2xx to REGISTER: the first Contact whose URI equals
 * our_uri (sip_uri_equal) and whose +sip.instance / reg-id, where echoed,
 * are ours. true when found, with *expires its clamped expires parameter,
 * else the Expires header, else -1. false: the registrar did not keep us. */
bool sip_msg_our_contact(const struct sip_msg *m, const char *our_uri, const char *instance,
			 int reg_id, int *expires);

/* The option tags of the request's Require headers that are not in supported
 * (NULL-terminated), as "a, b" into out; the number of them. */
int sip_msg_unsupported(const struct sip_msg *m, const char *const *supported, char *out,
			size_t size);

/* Build a response to request req (Via, From, To with to_tag, Call-ID, CSeq
 * copied); extra is "" or CRLF-terminated header lines. malloc'd into *out. 0 or -errno. */
int sip_msg_build_response(const struct sip_msg *req, int code, const char *reason,
			   const char *to_tag, const char *extra, char **out, size_t *outlen);

struct sip_register_req {
	const char *transport;      /* "UDP", "TCP", "TLS" */
	const char *registrar;      /* Request-URI host (the domain) */
	const char *user;
	const char *domain;
	const char *local_host;     /* our address as seen from the socket (or learned public) */
	int local_port;
	const char *branch;         /* without the z9hG4bK prefix */
	const char *from_tag;
	const char *call_id;
	uint32_t cseq;
	const char *instance;       /* UUID text, 36 chars */
	int reg_id;
	int expires;
	const char *user_agent;
	const char *auth_header;    /* "Authorization" / "Proxy-Authorization" or NULL */
	const char *auth_value;
	const char *selftest;       /* X-Dialstack-Selftest value or NULL */
};

/* The Contact URI a REGISTER built from r carries (without <>) into out. 0 or -ENOSPC/-EINVAL. */
int sip_msg_contact_uri(const struct sip_register_req *r, char *out, size_t size);

/* Build a REGISTER into out (size bytes); *len gets its length. 0 or -ENOSPC/-EINVAL. */
int sip_msg_build_register(const struct sip_register_req *r, char *out, size_t size, size_t *len);

/* Build an out-of-dialog OPTIONS to the registrar (a keepalive that also returns
 * received/rport), from the same fields (expires, instance, auth, selftest unused). */
int sip_msg_build_options(const struct sip_register_req *r, char *out, size_t size, size_t *len);

/* The device's instance id: a name-based (version 5, SHA-1) UUID of the MAC
 * address (any of aa:bb:.., aa-bb-.., aabb..), lower case; out needs 37 bytes. */
int sip_instance_uuid(const char *mac, char *out, size_t size);

/* Whether value is safe in a header (printable ASCII, no CR/LF), at most max bytes. */
bool sip_header_value_ok(const char *value, size_t max);

#endif

/* stun.h - the agent's one STUN codec (pure): Binding requests and responses,
 * RFC 5389 with the RFC 5780 attributes (CHANGE-REQUEST, OTHER-ADDRESS,
 * RESPONSE-ORIGIN), IPv4 and IPv6, FINGERPRINT. Used by the SIP keepalives,
 * the self-test's NAT check and the test reflectors. Every length is checked;
 * nothing is read past len.
 */
#ifndef DSA_COMMON_STUN_H
#define DSA_COMMON_STUN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HDR 20
#define STUN_MAX 548                  /* RFC 5389 7.1: what a request or answer may take on UDP */

/* stun_build_request flags */
#define STUN_CHANGE_PORT  0x02u       /* CHANGE-REQUEST "change port" (RFC 5780 7.2) */
#define STUN_CHANGE_IP    0x04u       /* CHANGE-REQUEST "change IP" */
#define STUN_FINGERPRINT  0x100u      /* append FINGERPRINT (RFC 5389 15.5) */

/* An address attribute: the family says which view is valid (mapped for IPv4,
 * mapped6 for IPv6, mapped_ss for either). */
#define STUN_ADDR_UNION(n) \
	union { struct sockaddr_in n; struct sockaddr_in6 n##6; struct sockaddr_storage n##_ss; }

struct stun_binding {
	bool have_mapped;
	STUN_ADDR_UNION(mapped);      /* XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS */
	bool have_other;
	STUN_ADDR_UNION(other);       /* OTHER-ADDRESS (RFC 5780; RFC 3489's CHANGED-ADDRESS too) */
	bool have_origin;
	STUN_ADDR_UNION(origin);      /* RESPONSE-ORIGIN (RFC 3489's SOURCE-ADDRESS too) */
	int error_code;               /* ERROR-CODE of an error response (500 without one), else 0 */
	bool fingerprint;             /* a FINGERPRINT was present (and correct: else -EBADMSG) */
};

/* Write a Binding request with transaction id txid into buf (>= STUN_HDR bytes); its length. */
size_t stun_build_binding(uint8_t *buf, const uint8_t txid[12]);

/* A Binding request with flags (STUN_CHANGE_*, STUN_FINGERPRINT) into buf; its length, 0 if cap is short. */
size_t stun_build_request(uint8_t *buf, size_t cap, const uint8_t txid[12], unsigned flags);

/* A Binding success response for txid: XOR-MAPPED-ADDRESS mapped, OTHER-ADDRESS and
 * RESPONSE-ORIGIN when not NULL, FINGERPRINT when asked; its length, 0 if cap is short
 * (reflectors and tests). */
size_t stun_build_response(uint8_t *buf, size_t cap, const uint8_t txid[12],
			   const struct sockaddr_storage *mapped, const struct sockaddr_storage *other,
			   const struct sockaddr_storage *origin, bool fingerprint);

/* Whether buf is a STUN message (top bits 0, magic cookie, length a multiple of 4). */
bool stun_is_stun(const uint8_t *buf, size_t len);

/* Parse a Binding response (success or error) for txid into b.
 * 0; -EAGAIN: not STUN at all; -ESRCH: STUN but not a Binding response for txid;
 * -EBADMSG: malformed (lengths, bad FINGERPRINT). */
int stun_parse_binding(const uint8_t *msg, size_t len, const uint8_t txid[12], struct stun_binding *b);

/* The transaction id of a Binding request in msg (a reflector answering it); 0 or -EBADMSG.
 * *flags gets the CHANGE-REQUEST bits. */
int stun_parse_request(const uint8_t *msg, size_t len, uint8_t txid[12], unsigned *flags);

#endif

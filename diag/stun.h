/* stun.h - STUN Binding (RFC 5389) with the RFC 5780 attributes the NAT check reads (pure). */
#ifndef DSA_DIAG_STUN_H
#define DSA_DIAG_STUN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_HDR 20
#define STUN_MAX 548

struct stun_binding {
	bool have_mapped;
	struct sockaddr_in mapped;   /* XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS */
	bool have_other;
	struct sockaddr_in other;    /* OTHER-ADDRESS (RFC 5780) */
	bool have_origin;
	struct sockaddr_in origin;   /* RESPONSE-ORIGIN */
	int error_code;              /* ERROR-CODE of an error response, else 0 */
};

/* Write a Binding request with transaction id txid (12 bytes) into buf (>= 20 bytes); its length. */
size_t stun_build_binding(uint8_t *buf, const uint8_t txid[12]);

/* Parse a Binding response for txid; 0, -ESRCH (not ours / not a response) or -EBADMSG. */
int stun_parse_binding(const uint8_t *msg, size_t len, const uint8_t txid[12], struct stun_binding *b);

#endif

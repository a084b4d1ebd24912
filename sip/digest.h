/* digest.h - SIP digest authentication (RFC 2617, RFC 7616, RFC 8760).
 *
 * Pure: parses WWW-Authenticate / Proxy-Authenticate values and computes
 * the Authorization / Proxy-Authorization value. No I/O apart from the
 * cnonce, which the caller supplies (sip_digest_cnonce draws it from the
 * kernel's random source). Hashes come from OpenSSL EVP.
 */
#ifndef DSA_SIP_DIGEST_H
#define DSA_SIP_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sip_digest_alg {
	SIP_DIGEST_MD5 = 0,
	SIP_DIGEST_MD5_SESS,
	SIP_DIGEST_SHA256,
	SIP_DIGEST_SHA256_SESS,
};

#define SIP_DIGEST_FIELD_MAX 256

struct sip_challenge {
	char realm[SIP_DIGEST_FIELD_MAX];
	char nonce[SIP_DIGEST_FIELD_MAX];
	char opaque[SIP_DIGEST_FIELD_MAX];
	enum sip_digest_alg alg;
	bool qop_auth;         /* the server offered qop=auth (we never use auth-int) */
	bool has_opaque;
	bool stale;            /* stale=true: nonce expired, credentials were fine */
	bool proxy;            /* came from Proxy-Authenticate (answer in Proxy-Authorization) */
};

/* Parse one challenge value ("Digest realm=..., nonce=..."): 0, -EINVAL when
 * malformed or not Digest, -ENOTSUP for an algorithm or qop we cannot answer. */
int sip_digest_parse(const char *value, struct sip_challenge *ch);

/* Whether challenge a is preferred over b (SHA-256 beats MD5). */
bool sip_digest_better(const struct sip_challenge *a, const struct sip_challenge *b);

/* Name of an algorithm as written on the wire ("SHA-256"). */
const char *sip_digest_alg_name(enum sip_digest_alg alg);

/* Fill cnonce (at least 33 bytes) with 16 random bytes in hex; 0 or -errno. */
int sip_digest_cnonce(char *cnonce, size_t size);

/* Compute the response hash (lower-case hex) for ch; out needs 65 bytes.
 * nc is the nonce count (ignored when the server offered no qop). 0 or -errno. */
int sip_digest_compute(const struct sip_challenge *ch, const char *user, const char *password,
		       const char *method, const char *uri, uint32_t nc, const char *cnonce,
		       char *out, size_t outsize);

/* Write the whole Authorization header value ("Digest username=...") into out.
 * 0, -EINVAL for a user name that cannot be quoted, -ENOSPC when out is too small. */
int sip_digest_authorization(const struct sip_challenge *ch, const char *user, const char *password,
			     const char *method, const char *uri, uint32_t nc, const char *cnonce,
			     char *out, size_t outsize);

#endif

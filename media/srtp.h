/* srtp.h - SRTP through libsrtp2's public API, SDES keys (RFC 4568) and a
 * known-answer self-check.
 *
 * Prefix msrtp_ ("media SRTP"): libsrtp2 owns the srtp_ namespace.
 * Suites: AES_CM_128_HMAC_SHA1_80 and _32 (RFC 4568) and AEAD_AES_128_GCM
 * (RFC 7714) when the linked libsrtp2 was built with GCM (Debian 12's is,
 * with NSS; msrtp_suite_supported() asks the library at run time).
 * Keys come from the kernel's random source; they are never logged.
 */
#ifndef DSA_MEDIA_SRTP_H
#define DSA_MEDIA_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSRTP_MAX_KEY_LEN  30    /* master key || master salt */
#define MSRTP_MAX_TRAILER  16    /* bytes protect may add (GCM tag; HMAC-80 adds 10) */
#define MSRTP_CRYPTO_MAX   128   /* enough for any a=crypto line we build */

enum msrtp_suite {
	MSRTP_AES_CM_128_HMAC_SHA1_80 = 0,
	MSRTP_AES_CM_128_HMAC_SHA1_32,
	MSRTP_AEAD_AES_128_GCM,
	MSRTP_SUITE_MAX
};

struct msrtp_key {
	enum msrtp_suite suite;
	uint8_t key[MSRTP_MAX_KEY_LEN];   /* master key || master salt */
	size_t len;                       /* 30 (AES-CM) or 28 (GCM) */
};

enum msrtp_dir { MSRTP_OUTBOUND, MSRTP_INBOUND };

struct msrtp;

/* Initialise libsrtp2 once per process; 0 or -EPROTO. */
int msrtp_global_init(void);

/* The RFC 4568 name of a suite ("AES_CM_128_HMAC_SHA1_80"), NULL if unknown. */
const char *msrtp_suite_name(enum msrtp_suite suite);

/* The suite for an RFC 4568 name; 0 or -ENOTSUP. */
int msrtp_suite_from_name(const char *name, size_t len, enum msrtp_suite *suite);

/* Master key || salt length of a suite (0 if unknown). */
size_t msrtp_suite_key_len(enum msrtp_suite suite);

/* Whether the linked libsrtp2 can run the suite (GCM needs a crypto backend). */
bool msrtp_suite_supported(enum msrtp_suite suite);

/* Fresh master key and salt for suite from the kernel's random source; 0 or -errno. */
int msrtp_key_generate(enum msrtp_suite suite, struct msrtp_key *key);

/* Build "a=crypto:<tag> <suite> inline:<base64 key||salt>" (no CRLF) into buf.
 * Returns the length, or -EINVAL / -ENOSPC. */
int msrtp_crypto_build(unsigned tag, const struct msrtp_key *key, char *buf, size_t size);

/* Parse one a=crypto attribute (with or without "a=", trailing CR/LF allowed).
 * 0; -EBADMSG malformed; -ENOTSUP unknown suite, MKI, several keys or session
 * parameters; -EINVAL wrong key length. A lifetime is checked, not used. */
int msrtp_crypto_parse(const char *line, unsigned *tag, struct msrtp_key *key);

/* A short reason for a negative msrtp_* result. */
const char *msrtp_strerror(int err);

/* Create a context for one direction with key; 0 or -errno/-EPROTO. */
int msrtp_new(const struct msrtp_key *key, enum msrtp_dir dir, struct msrtp **out);

/* Free a context (NULL is fine); its keys are wiped. */
void msrtp_free(struct msrtp *s);

/* Protect the RTP packet pkt (*len bytes, buffer of cap bytes) in place;
 * *len grows by the tag. 0, -ENOSPC or -EPROTO. */
int msrtp_protect(struct msrtp *s, uint8_t *pkt, size_t *len, size_t cap);

/* Verify and decrypt pkt in place; *len shrinks. 0, -EBADMSG (authentication
 * failed), -EALREADY (replayed), -EPROTO. */
int msrtp_unprotect(struct msrtp *s, uint8_t *pkt, size_t *len);

/* ---------------------------------------------------------------- self-check */

struct msrtp_kat_vector {
	const char *name;
	enum msrtp_suite suite;
	uint8_t key[MSRTP_MAX_KEY_LEN];   /* master key || salt */
	uint8_t plain_len;
	uint8_t cipher_len;
	uint8_t plain[44];                /* one RTP packet, as long as the built-in ones */
	uint8_t cipher[44 + MSRTP_MAX_TRAILER];   /* expected protected packet, tag included */
};

struct msrtp_kat_result {
	unsigned run;                 /* vectors run */
	unsigned passed;
	unsigned failed;
	unsigned skipped;             /* suites this libsrtp2 cannot run (GCM) */
	bool gcm_supported;
	char detail[160];             /* the first failure, or a summary */
};

/* The built-in vectors (RFC 3711 B.3 keys; see srtp.c) and their count. */
const struct msrtp_kat_vector *msrtp_kat_vectors(size_t *n);

/* Run vectors through the public API: protect must give the expected bytes,
 * unprotect must restore the plaintext, a flipped bit must fail
 * authentication. 0 when all pass (skips allowed), -EPROTO otherwise. */
int msrtp_kat_run(const struct msrtp_kat_vector *v, size_t n, struct msrtp_kat_result *r);

/* The self-check of the built-in vectors. */
int msrtp_kat_check(struct msrtp_kat_result *r);

#endif

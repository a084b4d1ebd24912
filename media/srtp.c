/* srtp.c - libsrtp2 behind a small API, RFC 4568 SDES keys, known answers. */
#include "config.h"

#include "media/srtp.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "common/util.h"
#include "media/rtp.h"
#include "common/lazylibs.h"          /* last: the libraries are loaded on use */

#define SCRATCH (RTP_MAX_DATAGRAM + SRTP_MAX_TRAILER_LEN + 4)
#define CRYPTO_LINE_MAX 512

struct msrtp {
	srtp_t ctx;
	size_t tag_len;
	uint8_t buf[SCRATCH];     /* libsrtp2 may write SRTP_MAX_TRAILER_LEN past the packet */
};

struct suite_info {
	const char *name;
	size_t key_len;           /* master key || salt */
	size_t tag_len;
};

static const struct suite_info suites[MSRTP_SUITE_MAX] = {
	[MSRTP_AES_CM_128_HMAC_SHA1_80] = { "AES_CM_128_HMAC_SHA1_80", 30, 10 },
	[MSRTP_AES_CM_128_HMAC_SHA1_32] = { "AES_CM_128_HMAC_SHA1_32", 30, 4 },
	[MSRTP_AEAD_AES_128_GCM] = { "AEAD_AES_128_GCM", 28, 16 },
};

static bool srtp_ready;

int msrtp_global_init(void)
{
	if (srtp_ready)
		return 0;
	lazy_need(&lazy_srtp_lib);
	if (srtp_init() != srtp_err_status_ok)
		return -EPROTO;
	srtp_ready = true;
	return 0;
}

const char *msrtp_suite_name(enum msrtp_suite suite)
{
	return (unsigned)suite < MSRTP_SUITE_MAX ? suites[suite].name : NULL;
}

int msrtp_suite_from_name(const char *name, size_t len, enum msrtp_suite *suite)
{
	unsigned i;

	for (i = 0; i < MSRTP_SUITE_MAX; i++) {
		if (strlen(suites[i].name) == len && memcmp(suites[i].name, name, len) == 0) {
			*suite = (enum msrtp_suite)i;
			return 0;
		}
	}
	return -ENOTSUP;
}

size_t msrtp_suite_key_len(enum msrtp_suite suite)
{
	return (unsigned)suite < MSRTP_SUITE_MAX ? suites[suite].key_len : 0;
}

int msrtp_key_generate(enum msrtp_suite suite, struct msrtp_key *key)
{
	if ((unsigned)suite >= MSRTP_SUITE_MAX)
		return -EINVAL;
	memset(key, 0, sizeof(*key));
	key->suite = suite;
	key->len = suites[suite].key_len;
	return utl_random(key->key, key->len);
}

/* ---------------------------------------------------------------- base64 */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* Decode len chars (padding optional) into out (cap bytes); length or -EBADMSG. */
static int b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	size_t i, o = 0, pad = 0;
	int bits = 0;

	while (len > 0 && in[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if ((len + pad) % 4 == 1 || (pad && (len + pad) % 4))
		return -EBADMSG;
	for (i = 0; i < len; i++) {
		int v = b64_value(in[i]);

		if (v < 0)
			return -EBADMSG;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -EMSGSIZE;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero (canonical encoding). */
	if (bits && (acc & ((1u << bits) - 1)))
		return -EBADMSG;
	return (int)o;
}

/* ---------------------------------------------------------------- RFC 4568 */

int msrtp_crypto_build(unsigned tag, const struct msrtp_key *key, char *buf, size_t size)
{
	char enc[64];
	int n;

	if (!key || (unsigned)key->suite >= MSRTP_SUITE_MAX ||
	    key->len != suites[key->suite].key_len || tag == 0 || tag > 999999999u)
		return -EINVAL;
	b64_encode(key->key, key->len, enc);
	n = snprintf(buf, size, "a=crypto:%u %s inline:%s", tag, suites[key->suite].name, enc);
	explicit_bzero(enc, sizeof(enc));
	if (n < 0 || (size_t)n >= size) {
		if (size)
			explicit_bzero(buf, size);
		return -ENOSPC;
	}
	return n;
}

/* lifetime = ["2^"] 1*DIGIT (RFC 4568 section 6.1); the value itself is not used:
 * a test call is far shorter than any lifetime a server would grant. */
static bool lifetime_ok(const char *p, size_t n)
{
	size_t i;

	if (n > 2 && p[0] == '2' && p[1] == '^') {
		p += 2;
		n -= 2;
	}
	if (n == 0 || n > 20)
		return false;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return false;
	return true;
}

int msrtp_crypto_parse(const char *line, unsigned *tag, struct msrtp_key *key)
{
	const char *p = line, *e, *end;
	unsigned long t = 0;
	enum msrtp_suite suite;
	uint8_t raw[MSRTP_MAX_KEY_LEN + 8];
	size_t n, digits = 0;
	int err;

	if (!line || !key)
		return -EINVAL;
	n = strnlen(line, CRYPTO_LINE_MAX + 1);
	if (n > CRYPTO_LINE_MAX)
		return -EBADMSG;
	end = line + n;
	while (end > p && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (end - p >= 2 && p[0] == 'a' && p[1] == '=')
		p += 2;
	if (end - p < 7 || strncmp(p, "crypto:", 7) != 0)
		return -EBADMSG;
	p += 7;
	while (p < end && isdigit((unsigned char)*p) && digits < 10) {
		t = t * 10 + (unsigned long)(*p++ - '0');
		digits++;
	}
	if (digits == 0 || digits > 9 || p >= end || *p != ' ')
		return -EBADMSG;
	/* suite */
	while (p < end && *p == ' ')
		p++;
	for (e = p; e < end && *e != ' '; e++)
		;
	err = msrtp_suite_from_name(p, (size_t)(e - p), &suite);
	if (err)
		return err;
	p = e;
	while (p < end && *p == ' ')
		p++;
	/* key-params: exactly one inline key */
	if (end - p < 7 || strncmp(p, "inline:", 7) != 0)
		return -EBADMSG;
	p += 7;
	for (e = p; e < end && *e != ' ' && *e != '|' && *e != ';'; e++)
		;
	err = b64_decode(p, (size_t)(e - p), raw, sizeof(raw));
	if (err < 0)
		goto out;
	if ((size_t)err != suites[suite].key_len) {
		err = -EINVAL;
		goto out;
	}
	n = (size_t)err;
	p = e;
	if (p < end && *p == '|') {           /* lifetime, or an MKI (contains ':') */
		for (e = ++p; e < end && *e != ' ' && *e != '|' && *e != ';'; e++)
			;
		if (memchr(p, ':', (size_t)(e - p))) {
			err = -ENOTSUP;
			goto out;
		}
		if (!lifetime_ok(p, (size_t)(e - p))) {
			err = -EBADMSG;
			goto out;
		}
		p = e;
		if (p < end && *p == '|') {   /* an MKI after the lifetime */
			err = -ENOTSUP;
			goto out;
		}
	}
	if (p < end && *p == ';') {           /* several keys */
		err = -ENOTSUP;
		goto out;
	}
	while (p < end && *p == ' ')
		p++;
	if (p < end) {                        /* session parameters: none supported */
		err = -ENOTSUP;
		goto out;
	}
	memset(key, 0, sizeof(*key));
	key->suite = suite;
	key->len = n;
	memcpy(key->key, raw, n);
	if (tag)
		*tag = (unsigned)t;
	err = 0;
out:
	explicit_bzero(raw, sizeof(raw));
	return err;
}

const char *msrtp_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case -EBADMSG: return "malformed a=crypto attribute, or SRTP authentication failed";
	case -ENOTSUP: return "unsupported crypto suite, MKI, key list or session parameter";
	case -EINVAL: return "wrong SRTP key length";
	case -EMSGSIZE: return "SRTP key too long";
	case -EALREADY: return "SRTP packet replayed";
	case -ENOSPC: return "no room for the SRTP tag";
	case -EPROTO: return "libsrtp2 error";
	default: return "SRTP error";
	}
}

/* ---------------------------------------------------------------- contexts */

static int set_policy(srtp_policy_t *p, enum msrtp_suite suite)
{
	switch (suite) {
	case MSRTP_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		return 0;
	case MSRTP_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);  /* RFC 4568: RTCP keeps 80 */
		return 0;
	case MSRTP_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		return 0;
	default:
		return -EINVAL;
	}
}

int msrtp_new(const struct msrtp_key *key, enum msrtp_dir dir, struct msrtp **out)
{
	struct msrtp *s;
	srtp_policy_t p;
	uint8_t k[MSRTP_MAX_KEY_LEN + 2];
	int err;

	*out = NULL;
	if (!key || (unsigned)key->suite >= MSRTP_SUITE_MAX || key->len != suites[key->suite].key_len)
		return -EINVAL;
	err = msrtp_global_init();
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(&p, 0, sizeof(p));
	memset(k, 0, sizeof(k));
	memcpy(k, key->key, key->len);
	err = set_policy(&p, key->suite);
	if (err)
		goto out;
	p.ssrc.type = dir == MSRTP_OUTBOUND ? ssrc_any_outbound : ssrc_any_inbound;
	p.key = k;
	p.window_size = 128;
	p.allow_repeat_tx = 0;
	p.next = NULL;
	s->tag_len = suites[key->suite].tag_len;
	if (srtp_create(&s->ctx, &p) != srtp_err_status_ok) {
		s->ctx = NULL;
		err = -EPROTO;
	}
out:
	explicit_bzero(k, sizeof(k));
	if (err) {
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

void msrtp_free(struct msrtp *s)
{
	if (!s)
		return;
	if (s->ctx)
		srtp_dealloc(s->ctx);    /* libsrtp2 zeroes its key material */
	explicit_bzero(s->buf, sizeof(s->buf));
	free(s);
}

bool msrtp_suite_supported(enum msrtp_suite suite)
{
	struct msrtp_key key;
	struct msrtp *s;

	if ((unsigned)suite >= MSRTP_SUITE_MAX)
		return false;
	memset(&key, 0x5A, sizeof(key));
	key.suite = suite;
	key.len = suites[suite].key_len;
	if (msrtp_new(&key, MSRTP_OUTBOUND, &s))
		return false;
	msrtp_free(s);
	return true;
}

int msrtp_protect(struct msrtp *s, uint8_t *pkt, size_t *len, size_t cap)
{
	int n = (int)*len;

	if (*len < RTP_HDR_LEN || *len > RTP_MAX_DATAGRAM)
		return -EINVAL;
	if (cap < *len + s->tag_len)
		return -ENOSPC;
	memcpy(s->buf, pkt, *len);
	if (srtp_protect(s->ctx, s->buf, &n) != srtp_err_status_ok)
		return -EPROTO;
	if ((size_t)n > cap)
		return -ENOSPC;
	memcpy(pkt, s->buf, (size_t)n);
	*len = (size_t)n;
	return 0;
}

int msrtp_unprotect(struct msrtp *s, uint8_t *pkt, size_t *len)
{
	int n = (int)*len;
	srtp_err_status_t st;

	if (*len < RTP_HDR_LEN || *len > RTP_MAX_DATAGRAM)
		return -EINVAL;
	memcpy(s->buf, pkt, *len);
	st = srtp_unprotect(s->ctx, s->buf, &n);
	if (st == srtp_err_status_auth_fail)
		return -EBADMSG;
	if (st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old)
		return -EALREADY;
	if (st != srtp_err_status_ok || n < 0 || (size_t)n > *len)
		return -EPROTO;
	memcpy(pkt, s->buf, (size_t)n);
	*len = (size_t)n;
	return 0;
}

/* ---------------------------------------------------------------- known answers */

/*
 * Master key and salt of RFC 3711 Appendix B.3; one RTP packet (PT 0, seq
 * 0x1234, ts 0xDECAFBAD, SSRC 0xCAFEBABE, 32 octets). The expected outputs
 * were computed independently of libsrtp2 by
 * tests/unit/data/media/gen-srtp-kat.py, which first reproduces the RFC's
 * B.2 keystream and B.3 session keys, then applies RFC 3711 (AES-CM,
 * HMAC-SHA1) and RFC 7714 (AES-GCM) by the letter. For GCM the 96-bit
 * master salt enters the RFC 3711 KDF padded with zeros on the right, as
 * libsrtp2 does (the script explains).
 */
#define B3_KEY 0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, \
	0x06, 0xde, 0x41, 0x39
#define B3_SALT12 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a
#define B3_SALT B3_SALT12, 0xab, 0xe6
#define KAT_HDR 0x80, 0x00, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe
#define KAT_PLAIN KAT_HDR, \
	0xd5, 0xd4, 0xd7, 0xd6, 0xd1, 0xd0, 0xd3, 0xd2, 0xdd, 0xdc, 0xdf, 0xde, 0xd9, 0xd8, \
	0xdb, 0xda, 0xc5, 0xc4, 0xc7, 0xc6, 0xc1, 0xc0, 0xc3, 0xc2, 0xcd, 0xcc, 0xcf, 0xce, \
	0xc9, 0xc8, 0xcb, 0xca
#define KAT_CM_CT KAT_HDR, \
	0x30, 0x2a, 0xa0, 0x31, 0x9d, 0xe2, 0x00, 0xa1, 0xfa, 0xd3, 0xa6, 0x60, 0xe6, 0xee, \
	0x54, 0x73, 0x5a, 0xd4, 0x54, 0x24, 0x74, 0x8d, 0x67, 0x49, 0x9c, 0x6b, 0xf8, 0xfa, \
	0x66, 0xa7, 0x46, 0xf4

static const struct msrtp_kat_vector kat[] = {
	{
		.name = "AES_CM_128_HMAC_SHA1_80",
		.suite = MSRTP_AES_CM_128_HMAC_SHA1_80,
		.key = { B3_KEY, B3_SALT },
		.plain = { KAT_PLAIN }, .plain_len = 44,
		.cipher = { KAT_CM_CT, 0x79, 0xb9, 0xd8, 0x00, 0xe1, 0xeb, 0x24, 0x1d, 0x49, 0x09 },
		.cipher_len = 54,
	},
	{
		.name = "AES_CM_128_HMAC_SHA1_32",
		.suite = MSRTP_AES_CM_128_HMAC_SHA1_32,
		.key = { B3_KEY, B3_SALT },
		.plain = { KAT_PLAIN }, .plain_len = 44,
		.cipher = { KAT_CM_CT, 0x79, 0xb9, 0xd8, 0x00 },
		.cipher_len = 48,
	},
	{
		.name = "AEAD_AES_128_GCM",
		.suite = MSRTP_AEAD_AES_128_GCM,
		.key = { B3_KEY, B3_SALT12 },
		.plain = { KAT_PLAIN }, .plain_len = 44,
		.cipher = { KAT_HDR,
			0x70, 0xb5, 0x70, 0x84, 0x24, 0x92, 0x2d, 0xcb, 0x1a, 0xa4, 0xa6, 0xfd, 0xc6, 0xec,
			0x1c, 0xd8, 0x7d, 0x9e, 0xaa, 0xc4, 0x86, 0x63, 0x69, 0xba, 0x5e, 0x59, 0x3e, 0xc8,
			0x4e, 0x17, 0x26, 0xb5, 0x90, 0xea, 0x97, 0x5e, 0xa3, 0xab, 0xe5, 0xb9, 0xb3, 0xbb,
			0x8f, 0x4d, 0x8c, 0x65, 0x5a, 0x07 },
		.cipher_len = 60,
	},
};

const struct msrtp_kat_vector *msrtp_kat_vectors(size_t *n)
{
	*n = ARRAY_SIZE(kat);
	return kat;
}

/* One vector: protect == expected, unprotect == plain, tampering rejected. */
static int kat_one(const struct msrtp_kat_vector *v, char *why, size_t whylen)
{
	struct msrtp_key key;
	struct msrtp *tx = NULL, *rx = NULL, *rx2 = NULL;
	uint8_t pkt[128];
	size_t len;
	int err;

	memset(&key, 0, sizeof(key));
	key.suite = v->suite;
	key.len = msrtp_suite_key_len(v->suite);
	memcpy(key.key, v->key, key.len);
	err = msrtp_new(&key, MSRTP_OUTBOUND, &tx);
	if (!err)
		err = msrtp_new(&key, MSRTP_INBOUND, &rx);
	if (!err)
		err = msrtp_new(&key, MSRTP_INBOUND, &rx2);
	if (err) {
		snprintf(why, whylen, "%s: cannot create context: %s", v->name, msrtp_strerror(err));
		goto out;
	}
	err = -EPROTO;
	if (v->plain_len > sizeof(pkt) - MSRTP_MAX_TRAILER || v->plain_len > sizeof(v->plain) ||
	    v->cipher_len > sizeof(v->cipher)) {
		snprintf(why, whylen, "%s: vector too long", v->name);
		goto out;
	}
	memcpy(pkt, v->plain, v->plain_len);
	len = v->plain_len;
	if (msrtp_protect(tx, pkt, &len, sizeof(pkt)) != 0) {
		snprintf(why, whylen, "%s: protect failed", v->name);
		goto out;
	}
	if (len != v->cipher_len || memcmp(pkt, v->cipher, len) != 0) {
		snprintf(why, whylen, "%s: protected packet differs from the known answer", v->name);
		goto out;
	}
	/* The expected ciphertext must decrypt to the plaintext. */
	memcpy(pkt, v->cipher, v->cipher_len);
	len = v->cipher_len;
	if (msrtp_unprotect(rx, pkt, &len) != 0 || len != v->plain_len ||
	    memcmp(pkt, v->plain, len) != 0) {
		snprintf(why, whylen, "%s: known ciphertext does not unprotect to the plaintext", v->name);
		goto out;
	}
	/* One flipped payload bit must fail authentication. */
	memcpy(pkt, v->cipher, v->cipher_len);
	len = v->cipher_len;
	pkt[RTP_HDR_LEN] ^= 0x01;
	if (msrtp_unprotect(rx2, pkt, &len) != -EBADMSG) {
		snprintf(why, whylen, "%s: a tampered packet was accepted", v->name);
		goto out;
	}
	err = 0;
out:
	msrtp_free(tx);
	msrtp_free(rx);
	msrtp_free(rx2);
	explicit_bzero(&key, sizeof(key));
	return err;
}

int msrtp_kat_run(const struct msrtp_kat_vector *v, size_t n, struct msrtp_kat_result *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	if (msrtp_global_init() != 0) {
		snprintf(r->detail, sizeof(r->detail), "libsrtp2 failed to initialise");
		r->failed = 1;
		return -EPROTO;
	}
	r->gcm_supported = msrtp_suite_supported(MSRTP_AEAD_AES_128_GCM);
	for (i = 0; i < n; i++) {
		char why[sizeof(r->detail)];

		if (!msrtp_suite_supported(v[i].suite)) {
			r->skipped++;
			continue;
		}
		r->run++;
		if (kat_one(&v[i], why, sizeof(why)) == 0) {
			r->passed++;
		} else {
			if (r->failed++ == 0)
				utl_strlcpy(r->detail, why, sizeof(r->detail));
		}
	}
	if (r->failed)
		return -EPROTO;
	if (r->run == 0) {
		snprintf(r->detail, sizeof(r->detail), "no SRTP suite could run");
		return -EPROTO;
	}
	snprintf(r->detail, sizeof(r->detail), "%u known-answer vectors passed%s",
		 r->passed, r->gcm_supported ? " (GCM included)" : "; AES-GCM not supported by this libsrtp2");
	return 0;
}

int msrtp_kat_check(struct msrtp_kat_result *r)
{
	return msrtp_kat_run(kat, ARRAY_SIZE(kat), r);
}

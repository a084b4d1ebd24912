/* stun.c - STUN Binding codec (pure, RFC 5389 / RFC 5780); see stun.h. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "common/stun.h"

#define MAGIC            0x2112A442u
#define T_REQUEST        0x0001
#define T_SUCCESS        0x0101
#define T_ERROR          0x0111
#define A_MAPPED         0x0001
#define A_SOURCE         0x0004    /* RFC 3489 SOURCE-ADDRESS */
#define A_CHANGE_REQUEST 0x0003
#define A_CHANGED        0x0005    /* RFC 3489 CHANGED-ADDRESS */
#define A_ERROR          0x0009
#define A_XOR_MAPPED     0x0020
#define A_FINGERPRINT    0x8028
#define A_ORIGIN         0x802b
#define A_OTHER          0x802c
#define FP_XOR           0x5354554eu

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

/* CRC-32 (ISO-HDLC, as zlib), bitwise: messages are small. */
static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static void header(uint8_t *buf, unsigned type, const uint8_t txid[12])
{
	wr16(buf, type);
	wr16(buf + 2, 0);
	wr32(buf + 4, MAGIC);
	memcpy(buf + 8, txid, 12);
}

size_t stun_build_binding(uint8_t *buf, const uint8_t txid[12])
{
	header(buf, T_REQUEST, txid);
	return STUN_HDR;
}

static size_t add_fingerprint(uint8_t *buf, size_t n)
{
	wr16(buf + 2, (unsigned)(n + 8 - STUN_HDR));
	wr16(buf + n, A_FINGERPRINT);
	wr16(buf + n + 2, 4);
	wr32(buf + n + 4, crc32(buf, n) ^ FP_XOR);
	return n + 8;
}

size_t stun_build_request(uint8_t *buf, size_t cap, const uint8_t txid[12], unsigned flags)
{
	size_t n = STUN_HDR;
	unsigned change = flags & (STUN_CHANGE_IP | STUN_CHANGE_PORT);

	if (cap < STUN_HDR + (change ? 8u : 0u) + ((flags & STUN_FINGERPRINT) ? 8u : 0u))
		return 0;
	header(buf, T_REQUEST, txid);
	if (change) {
		wr16(buf + n, A_CHANGE_REQUEST);
		wr16(buf + n + 2, 4);
		wr32(buf + n + 4, change);
		n += 8;
		wr16(buf + 2, (unsigned)(n - STUN_HDR));
	}
	if (flags & STUN_FINGERPRINT)
		n = add_fingerprint(buf, n);
	return n;
}

/* Append an address attribute; its length or 0 when it does not fit. */
static size_t put_addr(uint8_t *buf, size_t n, size_t cap, unsigned type, const struct sockaddr_storage *a,
		       bool xor)
{
	unsigned port;

	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)a;
		uint32_t ip = ntohl(s->sin_addr.s_addr);

		if (n + 12 > cap)
			return 0;
		port = ntohs(s->sin_port);
		wr16(buf + n, type);
		wr16(buf + n + 2, 8);
		buf[n + 4] = 0;
		buf[n + 5] = 0x01;
		wr16(buf + n + 6, xor ? port ^ (MAGIC >> 16) : port);
		wr32(buf + n + 8, xor ? ip ^ MAGIC : ip);
		return n + 12;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
		int i;

		if (n + 24 > cap)
			return 0;
		port = ntohs(s->sin6_port);
		wr16(buf + n, type);
		wr16(buf + n + 2, 20);
		buf[n + 4] = 0;
		buf[n + 5] = 0x02;
		wr16(buf + n + 6, xor ? port ^ (MAGIC >> 16) : port);
		memcpy(buf + n + 8, &s->sin6_addr, 16);
		if (xor)
			for (i = 0; i < 16; i++)
				buf[n + 8 + i] ^= buf[4 + i];    /* cookie, then the transaction id */
		return n + 24;
	}
	return 0;
}

size_t stun_build_response(uint8_t *buf, size_t cap, const uint8_t txid[12],
			   const struct sockaddr_storage *mapped, const struct sockaddr_storage *other,
			   const struct sockaddr_storage *origin, bool fingerprint)
{
	size_t n = STUN_HDR;

	if (cap < STUN_HDR)
		return 0;
	header(buf, T_SUCCESS, txid);
	if (mapped && !(n = put_addr(buf, n, cap, A_XOR_MAPPED, mapped, true)))
		return 0;
	if (other && !(n = put_addr(buf, n, cap, A_OTHER, other, false)))
		return 0;
	if (origin && !(n = put_addr(buf, n, cap, A_ORIGIN, origin, false)))
		return 0;
	wr16(buf + 2, (unsigned)(n - STUN_HDR));
	if (fingerprint) {
		if (n + 8 > cap)
			return 0;
		n = add_fingerprint(buf, n);
	}
	return n;
}

bool stun_is_stun(const uint8_t *buf, size_t len)
{
	return len >= STUN_HDR && !(buf[0] & 0xc0) && rd16(buf + 4) == (MAGIC >> 16) &&
	       rd16(buf + 6) == (MAGIC & 0xffff) && !(rd16(buf + 2) & 3);
}

/* An address attribute value (v, l); xor with the header msg for XOR-* forms. */
static int get_addr(const uint8_t *msg, const uint8_t *v, size_t l, bool xor, struct sockaddr_storage *ss)
{
	unsigned port;

	if (l < 4)
		return -EBADMSG;
	port = rd16(v + 2);
	if (xor)
		port ^= MAGIC >> 16;
	memset(ss, 0, sizeof(*ss));
	if (v[1] == 0x01 && l == 8) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		uint32_t ip = (uint32_t)v[4] << 24 | (uint32_t)v[5] << 16 | (uint32_t)v[6] << 8 | v[7];

		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		s->sin_addr.s_addr = htonl(xor ? ip ^ MAGIC : ip);
		return 0;
	}
	if (v[1] == 0x02 && l == 20) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
		int i;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)port);
		memcpy(&s->sin6_addr, v + 4, 16);
		if (xor)
			for (i = 0; i < 16; i++)
				s->sin6_addr.s6_addr[i] ^= msg[4 + i];
		return 0;
	}
	return -EBADMSG;
}

/* Walk the attributes of a checked message; cb per attribute. -EBADMSG on a bad length
 * or a wrong FINGERPRINT; *fp set when a good one was seen (it must be last). */
static int walk(const uint8_t *msg, size_t len, bool *fp,
		void (*cb)(const uint8_t *msg, unsigned type, const uint8_t *v, size_t l, void *arg), void *arg)
{
	size_t off = STUN_HDR;

	*fp = false;
	while (off + 4 <= len) {
		unsigned at = rd16(msg + off);
		size_t al = rd16(msg + off + 2);
		const uint8_t *v = msg + off + 4;

		if (al > len - off - 4)
			return -EBADMSG;
		if (*fp)
			return -EBADMSG;    /* anything after FINGERPRINT */
		if (at == A_FINGERPRINT) {
			uint32_t want;

			if (al != 4)
				return -EBADMSG;
			want = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
			if ((crc32(msg, off) ^ FP_XOR) != want)
				return -EBADMSG;
			*fp = true;
		} else if (cb) {
			cb(msg, at, v, al, arg);
		}
		off += 4 + ((al + 3) & ~(size_t)3);
	}
	return off == len ? 0 : -EBADMSG;
}

struct resp_ctx {
	struct stun_binding *b;
	bool xor_seen;               /* XOR-MAPPED-ADDRESS wins over MAPPED-ADDRESS */
};

/* Store an address attribute in *dst unless a preferred form was stored already
 * (preferred: this form replaces whatever is there). Whether it was stored. */
static bool take_addr(const uint8_t *msg, const uint8_t *v, size_t al, bool xor, bool preferred,
		      bool *have, struct sockaddr_storage *dst)
{
	struct sockaddr_storage ss;

	if ((preferred || !*have) && get_addr(msg, v, al, xor, &ss) == 0) {
		*dst = ss;
		*have = true;
		return true;
	}
	return false;
}

static void resp_attr(const uint8_t *msg, unsigned at, const uint8_t *v, size_t al, void *arg)
{
	struct resp_ctx *c = arg;
	struct stun_binding *b = c->b;

	switch (at) {
	case A_XOR_MAPPED:
		if (take_addr(msg, v, al, true, true, &b->have_mapped, &b->mapped_ss))
			c->xor_seen = true;
		break;
	case A_MAPPED:
		if (!c->xor_seen)
			take_addr(msg, v, al, false, true, &b->have_mapped, &b->mapped_ss);
		break;
	case A_OTHER:
	case A_CHANGED:      /* RFC 3489's name, used when OTHER-ADDRESS is absent */
		take_addr(msg, v, al, false, at == A_OTHER, &b->have_other, &b->other_ss);
		break;
	case A_ORIGIN:
	case A_SOURCE:       /* RFC 3489's name, used when RESPONSE-ORIGIN is absent */
		take_addr(msg, v, al, false, at == A_ORIGIN, &b->have_origin, &b->origin_ss);
		break;
	case A_ERROR:
		if (al >= 4) {
			int code = (v[2] & 0x7) * 100 + v[3];

			b->error_code = code >= 300 && code <= 699 ? code : 500;
		}
		break;
	default:
		break;
	}
}

int stun_parse_binding(const uint8_t *msg, size_t len, const uint8_t txid[12], struct stun_binding *b)
{
	unsigned type;
	size_t mlen;
	bool fp;
	int err;

	memset(b, 0, sizeof(*b));
	if (!stun_is_stun(msg, len))
		return -EAGAIN;
	type = rd16(msg);
	if ((type != T_SUCCESS && type != T_ERROR) || memcmp(msg + 8, txid, 12))
		return -ESRCH;
	mlen = rd16(msg + 2);
	if (mlen + STUN_HDR > len)
		return -EBADMSG;
	err = walk(msg, mlen + STUN_HDR, &fp, resp_attr, &(struct resp_ctx){ .b = b });
	b->fingerprint = fp;
	if (err) {
		memset(b, 0, sizeof(*b));
		return err;
	}
	if (type == T_ERROR && !b->error_code)
		b->error_code = 500;
	if (type == T_ERROR)
		b->have_mapped = false;
	return 0;
}

static void req_attr(const uint8_t *msg, unsigned at, const uint8_t *v, size_t al, void *arg)
{
	unsigned *flags = arg;

	(void)msg;
	if (at == A_CHANGE_REQUEST && al == 4)
		*flags = v[3] & (STUN_CHANGE_IP | STUN_CHANGE_PORT);
}

int stun_parse_request(const uint8_t *msg, size_t len, uint8_t txid[12], unsigned *flags)
{
	size_t mlen;
	bool fp;

	*flags = 0;
	if (!stun_is_stun(msg, len) || rd16(msg) != T_REQUEST)
		return -EBADMSG;
	mlen = rd16(msg + 2);
	if (mlen + STUN_HDR > len || walk(msg, mlen + STUN_HDR, &fp, req_attr, flags))
		return -EBADMSG;
	memcpy(txid, msg + 8, 12);
	return 0;
}

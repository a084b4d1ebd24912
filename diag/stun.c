/* stun.c - STUN Binding request and response (pure, RFC 5389 / RFC 5780). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "diag/stun.h"

#define MAGIC 0x2112A442u
#define A_MAPPED 0x0001
#define A_ERROR 0x0009
#define A_XOR_MAPPED 0x0020
#define A_ORIGIN 0x802b
#define A_OTHER 0x802c

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

size_t stun_build_binding(uint8_t *buf, const uint8_t txid[12])
{
	buf[0] = 0x00;
	buf[1] = 0x01; /* Binding request */
	buf[2] = buf[3] = 0;
	buf[4] = 0x21;
	buf[5] = 0x12;
	buf[6] = 0xA4;
	buf[7] = 0x42;
	memcpy(buf + 8, txid, 12);
	return STUN_HDR;
}

static int addr_attr(const uint8_t *v, size_t l, bool xor, struct sockaddr_in *sa)
{
	uint16_t port;
	uint32_t a;

	if (l < 8 || v[1] != 0x01) /* IPv4 only */
		return -EBADMSG;
	port = rd16(v + 2);
	a = (uint32_t)v[4] << 24 | (uint32_t)v[5] << 16 | (uint32_t)v[6] << 8 | v[7];
	if (xor) {
		port ^= (uint16_t)(MAGIC >> 16);
		a ^= MAGIC;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	sa->sin_addr.s_addr = htonl(a);
	return 0;
}

int stun_parse_binding(const uint8_t *msg, size_t len, const uint8_t txid[12], struct stun_binding *b)
{
	uint16_t type, mlen;
	size_t off = STUN_HDR;
	bool have_xor = false;

	memset(b, 0, sizeof(*b));
	if (len < STUN_HDR)
		return -EBADMSG;
	type = rd16(msg);
	mlen = rd16(msg + 2);
	if ((msg[0] & 0xc0) || rd16(msg + 4) != 0x2112 || rd16(msg + 6) != 0xA442 ||
	    memcmp(msg + 8, txid, 12) != 0)
		return -ESRCH;
	if (type != 0x0101 && type != 0x0111)
		return -ESRCH;
	if ((size_t)mlen + STUN_HDR > len || (mlen & 3))
		return -EBADMSG;
	len = (size_t)mlen + STUN_HDR;
	while (off + 4 <= len) {
		uint16_t at = rd16(msg + off), al = rd16(msg + off + 2);
		const uint8_t *v = msg + off + 4;

		if (off + 4 + al > len)
			return -EBADMSG;
		switch (at) {
		case A_XOR_MAPPED:
			if (addr_attr(v, al, true, &b->mapped) == 0)
				b->have_mapped = have_xor = true;
			break;
		case A_MAPPED:
			if (!have_xor && addr_attr(v, al, false, &b->mapped) == 0)
				b->have_mapped = true;
			break;
		case A_OTHER:
			b->have_other = addr_attr(v, al, false, &b->other) == 0;
			break;
		case A_ORIGIN:
			b->have_origin = addr_attr(v, al, false, &b->origin) == 0;
			break;
		case A_ERROR:
			if (al >= 4)
				b->error_code = (v[2] & 0x7) * 100 + v[3];
			break;
		default:
			break;
		}
		off += 4 + (((size_t)al + 3) & ~(size_t)3);
	}
	if (type == 0x0111 && !b->error_code)
		b->error_code = 500;
	return 0;
}

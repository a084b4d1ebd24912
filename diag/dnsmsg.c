/* dnsmsg.c - minimal DNS message handling (pure, RFC 1035). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "diag/dnsmsg.h"

#define HDR 12
#define MAX_NAME 255
#define MAX_PTRS 16
#define MAX_CNAMES 8

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int dnsmsg_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype)
{
	size_t nlen = strlen(name), pos = HDR;
	const char *p = name;

	if (nlen == 0 || nlen > 253 || name[0] == '.')
		return -EINVAL;
	if (cap < HDR + nlen + 2 + 4)
		return -ENOSPC;
	memset(buf, 0, HDR);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63) {
			if (l == 0 && !dot[1]) /* trailing dot */
				break;
			return -EINVAL;
		}
		buf[pos++] = (uint8_t)l;
		memcpy(buf + pos, p, l);
		pos += l;
		p += l;
		if (*p == '.')
			p++;
	}
	buf[pos++] = 0;
	buf[pos++] = (uint8_t)(qtype >> 8);
	buf[pos++] = (uint8_t)qtype;
	buf[pos++] = 0;
	buf[pos++] = 1; /* IN */
	return (int)pos;
}

/* Read the (possibly compressed) name at *off into out (dotted, lower case kept);
 * advance *off past it in the message. 0 or -EBADMSG. */
static int read_name(const uint8_t *msg, size_t len, size_t *off, char *out)
{
	size_t pos = *off, o = 0;
	int ptrs = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -EBADMSG;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++ptrs > MAX_PTRS)
				return -EBADMSG;
			if (!jumped)
				*off = pos + 2;
			jumped = true;
			pos = (size_t)((l & 0x3f) << 8 | msg[pos + 1]);
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG;
		pos++;
		if (l == 0)
			break;
		if (pos + l > len || o + l + 1 > MAX_NAME)
			return -EBADMSG;
		if (o)
			out[o++] = '.';
		memcpy(out + o, msg + pos, l);
		o += l;
		pos += l;
	}
	out[o] = '\0';
	if (!jumped)
		*off = pos;
	return 0;
}

static bool name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

int dnsmsg_parse_a(const uint8_t *msg, size_t len, uint16_t id, const char *qname,
		   struct in_addr *out, size_t max, size_t *n, int *rcode)
{
	char name[MAX_NAME + 1], target[MAX_CNAMES + 1][MAX_NAME + 1];
	size_t off = HDR, ntargets = 1;
	unsigned qd, an;

	*n = 0;
	*rcode = -1;
	if (len < HDR)
		return -EBADMSG;
	if (rd16(msg) != id || !(msg[2] & 0x80))
		return -ESRCH;
	*rcode = msg[3] & 0x0f;
	qd = rd16(msg + 4);
	an = rd16(msg + 6);
	if (qd != 1)
		return -EBADMSG;
	if (read_name(msg, len, &off, name) < 0 || off + 4 > len)
		return -EBADMSG;
	if (!name_eq(name, qname) || rd16(msg + off) != DNSMSG_TYPE_A)
		return -ESRCH;
	off += 4;
	utl_strlcpy(target[0], qname, sizeof(target[0]));

	for (unsigned i = 0; i < an; i++) {
		uint16_t type, class, rdlen;
		bool ours = false;

		if (read_name(msg, len, &off, name) < 0 || off + 10 > len)
			return -EBADMSG;
		type = rd16(msg + off);
		class = rd16(msg + off + 2);
		rdlen = rd16(msg + off + 8);
		off += 10;
		if (off + rdlen > len)
			return -EBADMSG;
		for (size_t t = 0; t < ntargets; t++)
			ours |= name_eq(name, target[t]);
		if (ours && class == 1 && type == DNSMSG_TYPE_A) {
			if (rdlen != 4)
				return -EBADMSG;
			if (*n < max)
				memcpy(&out[(*n)++], msg + off, 4);
		} else if (ours && class == 1 && type == DNSMSG_TYPE_CNAME) {
			size_t roff = off;

			if (ntargets > MAX_CNAMES)
				return -EBADMSG;
			if (read_name(msg, len, &roff, target[ntargets]) < 0 || roff > off + rdlen)
				return -EBADMSG;
			ntargets++;
		}
		off += rdlen;
	}
	return 0;
}

const char *dnsmsg_rcode_name(int rcode)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED" };

	if (rcode >= 0 && (size_t)rcode < ARRAY_SIZE(names))
		return names[rcode];
	return "error";
}

/* dnszone.c - a DNS server for unit tests; see dnszone.h. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnszone.h"

struct dz dz;

size_t dz_put_name(uint8_t *b, size_t n, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		b[n++] = (uint8_t)l;
		memcpy(b + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	b[n++] = 0;
	return n;
}

static size_t put_str(uint8_t *b, size_t n, const char *s)
{
	b[n++] = (uint8_t)strlen(s);
	memcpy(b + n, s, strlen(s));
	return n + strlen(s);
}

/* Read the question name of a query into out (dotted); its end offset or 0. */
static size_t get_qname(const uint8_t *b, size_t len, char *out, size_t cap)
{
	size_t o = 12, w = 0;

	while (o < len && b[o]) {
		size_t l = b[o++];

		if (o + l > len || w + l + 2 > cap)
			return 0;
		if (w)
			out[w++] = '.';
		memcpy(out + w, b + o, l);
		w += l;
		o += l;
	}
	out[w] = '\0';
	return o < len ? o + 1 : 0;
}

static void dns_on_read(struct ev_fd *f, unsigned ev)
{
	uint8_t q[512], r[1500];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(f->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	char name[256];
	size_t qend, rl, i;
	unsigned qtype, an = 0, rcode = 0;
	bool known = false;

	if (n < 12)
		return;
	qend = get_qname(q, (size_t)n, name, sizeof(name));
	if (!qend || qend + 4 > (size_t)n)
		return;
	dz.queries++;
	qtype = (unsigned)q[qend] << 8 | q[qend + 1];
	if (!strcasecmp(name, "drop.test") || !strncasecmp(name, "drop.test.", 10)) {
		dz.dropped++;
		return;
	}
	memcpy(r, q, qend + 4);
	rl = qend + 4;
	for (i = 0; i < dz.n; i++) {
		const struct dz_rr *z = &dz.zone[i];
		size_t rd;

		if (strcasecmp(z->name, name))
			continue;
		known = true;
		if ((unsigned)z->type != qtype)
			continue;
		r[rl++] = 0xc0;
		r[rl++] = 12;
		r[rl++] = 0;
		r[rl++] = (uint8_t)z->type;
		r[rl++] = 0;
		r[rl++] = 1;
		r[rl++] = (uint8_t)(z->ttl >> 24);
		r[rl++] = (uint8_t)(z->ttl >> 16);
		r[rl++] = (uint8_t)(z->ttl >> 8);
		r[rl++] = (uint8_t)z->ttl;
		rd = rl;
		rl += 2;
		if (z->type == T_A) {
			inet_pton(AF_INET, z->a, r + rl);
			rl += 4;
		} else if (z->type == T_AAAA) {
			inet_pton(AF_INET6, z->a, r + rl);
			rl += 16;
		} else {
			r[rl++] = (uint8_t)(z->p1 >> 8);
			r[rl++] = (uint8_t)z->p1;
			r[rl++] = (uint8_t)(z->p2 >> 8);
			r[rl++] = (uint8_t)z->p2;
			if (z->type == T_SRV) {
				r[rl++] = (uint8_t)(z->port >> 8);
				r[rl++] = (uint8_t)z->port;
			} else {
				rl = put_str(r, rl, z->flags);
				rl = put_str(r, rl, z->service);
				rl = put_str(r, rl, "");
			}
			rl = strcmp(z->target, ".") ? dz_put_name(r, rl, z->target) : (r[rl] = 0, rl + 1);
		}
		r[rd] = (uint8_t)((rl - rd - 2) >> 8);
		r[rd + 1] = (uint8_t)(rl - rd - 2);
		an++;
	}
	if (!strcasecmp(name, "servfail.test"))
		rcode = 2;
	else if (!known)
		rcode = 3;
	if (rcode)
		an = 0, rl = qend + 4;
	r[2] = 0x81;                      /* QR, RD */
	r[3] = (uint8_t)(0x80 | rcode);   /* RA */
	r[4] = 0; r[5] = 1;
	r[6] = (uint8_t)(an >> 8); r[7] = (uint8_t)an;
	memset(r + 8, 0, 4);
	(void)sendto(f->fd, r, rl, 0, (struct sockaddr *)&from, fl);
}

int dz_start(const struct dz_rr *zone, size_t n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	memset(&dz, 0, sizeof(dz));
	dz.zone = zone;
	dz.n = n;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dz.w.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (dz.w.fd < 0 || bind(dz.w.fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(dz.w.fd, (struct sockaddr *)&sin, &sl))
		return -1;
	dz.port = ntohs(sin.sin_port);
	dz.w.cb = dns_on_read;
	return ev_fd_add(&dz.w, EV_READ) ? -1 : 0;
}

void dz_stop(void)
{
	ev_fd_del(&dz.w);
	close(dz.w.fd);
	dz.w.fd = -1;
}

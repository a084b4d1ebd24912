/* dns.c - non-blocking registrar name resolution; see dns.h. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/log.h"
#include "common/util.h"
#include "sip/dns.h"

#define DNS_MAX_SERVERS 3
#define DNS_TRY_MS      2000
#define DNS_TRIES       3
#define DNS_RESP_MAX    1500

struct sip_dns {
	sip_dns_cb cb;
	void *arg;
	char name[256];
	struct sockaddr_storage servers[DNS_MAX_SERVERS];
	int nservers;
	int tries;
	uint16_t id;
	struct ev_fd fdw;
	struct ev_timer timer;
	int result;
	struct sockaddr_storage addr;
	bool finished;
};

const char *sip_dns_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case -ENOENT: return "name not found (NXDOMAIN): check the registrar name and the DNS server";
	case -ENODATA: return "the name has no IPv4 address";
	case -ETIMEDOUT: return "no answer from the DNS server";
	case -ENXIO: return "no DNS server configured (empty /etc/resolv.conf)";
	case -EBADMSG: return "broken answer from the DNS server";
	case -EINVAL: return "not a valid host name";
	default: return strerror(-err);
	}
}

int sip_dns_build_query(const char *name, uint16_t id, uint16_t qtype, unsigned char *buf,
			size_t size, size_t *len)
{
	size_t n = 12, nl = strlen(name);
	const char *p = name;

	if (nl == 0 || nl > 253)
		return -EINVAL;
	if (size < 12 + nl + 2 + 4)
		return -ENOSPC;
	memset(buf, 0, 12);
	buf[0] = (unsigned char)(id >> 8);
	buf[1] = (unsigned char)id;
	buf[2] = 0x01;          /* RD */
	buf[5] = 1;             /* QDCOUNT */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		size_t i;

		if (l == 0 || l > 63) {
			if (l == 0 && !dot[1])
				break;      /* trailing dot */
			return -EINVAL;
		}
		for (i = 0; i < l; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
				return -EINVAL;
		buf[n++] = (unsigned char)l;
		memcpy(buf + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	buf[n++] = 0;
	buf[n++] = (unsigned char)(qtype >> 8);
	buf[n++] = (unsigned char)qtype;
	buf[n++] = 0;
	buf[n++] = 1;           /* IN */
	*len = n;
	return 0;
}

/* Skip a (possibly compressed) name at *off; -EBADMSG when it runs off the end. */
static int skip_name(const unsigned char *buf, size_t len, size_t *off)
{
	size_t o = *off;
	int labels = 0;

	while (o < len && labels++ < 128) {
		unsigned char l = buf[o];

		if (l == 0) {
			*off = o + 1;
			return 0;
		}
		if ((l & 0xc0) == 0xc0) {
			if (o + 2 > len)
				return -EBADMSG;
			*off = o + 2;
			return 0;
		}
		if (l & 0xc0)
			return -EBADMSG;
		o += 1 + l;
	}
	return -EBADMSG;
}

int sip_dns_parse_answer(const unsigned char *buf, size_t len, uint16_t id,
			 struct sockaddr_storage *addr)
{
	unsigned qd, an, i, rcode;
	size_t off = 12;

	if (len < 12 || len > DNS_RESP_MAX)
		return -EBADMSG;
	if (((unsigned)buf[0] << 8 | buf[1]) != id || !(buf[2] & 0x80) || (buf[2] & 0x02))
		return -EBADMSG;    /* other id, not a response, or truncated */
	rcode = buf[3] & 0x0f;
	if (rcode == 3)
		return -ENOENT;
	if (rcode)
		return -EBADMSG;
	qd = (unsigned)buf[4] << 8 | buf[5];
	an = (unsigned)buf[6] << 8 | buf[7];
	if (qd > 4 || an > 64)
		return -EBADMSG;
	for (i = 0; i < qd; i++) {
		if (skip_name(buf, len, &off) || off + 4 > len)
			return -EBADMSG;
		off += 4;
	}
	for (i = 0; i < an; i++) {
		unsigned type, rdlen;

		if (skip_name(buf, len, &off) || off + 10 > len)
			return -EBADMSG;
		type = (unsigned)buf[off] << 8 | buf[off + 1];
		rdlen = (unsigned)buf[off + 8] << 8 | buf[off + 9];
		off += 10;
		if (off + rdlen > len)
			return -EBADMSG;
		if (type == 1 && rdlen == 4) {
			struct sockaddr_in *sin = (struct sockaddr_in *)addr;

			memset(addr, 0, sizeof(*addr));
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, buf + off, 4);
			return 0;
		}
		off += rdlen;
	}
	return -ENODATA;
}

static int literal(const char *host, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char tmp[64];
	size_t n = strlen(host);

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 0;
	}
	if (n > 2 && n < sizeof(tmp) && host[0] == '[' && host[n - 1] == ']') {
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = '\0';
		host = tmp;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

static int from_hosts(const char *name, struct sockaddr_storage *ss)
{
	const char *path = getenv("DSA_HOSTS") ? getenv("DSA_HOSTS") : "/etc/hosts";
	char *data = NULL, *line, *save = NULL;
	size_t len;
	int found = -1;

	if (utl_read_file(path, 256 * 1024, &data, &len) != 0)
		return -1;
	for (line = strtok_r(data, "\n", &save); line && found; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#'), *tok, *s2 = NULL, *ip;

		if (hash)
			*hash = '\0';
		ip = strtok_r(line, " \t\r", &s2);
		if (!ip)
			continue;
		while ((tok = strtok_r(NULL, " \t\r", &s2)))
			if (!strcasecmp(tok, name) && literal(ip, ss) == 0 && ss->ss_family == AF_INET) {
				found = 0;
				break;
			}
	}
	free(data);
	return found;
}

static void load_servers(struct sip_dns *d)
{
	const char *path = getenv("DSA_RESOLV_CONF") ? getenv("DSA_RESOLV_CONF") : "/etc/resolv.conf";
	char *data = NULL, *line, *save = NULL;
	size_t len;

	if (utl_read_file(path, 64 * 1024, &data, &len) != 0)
		return;
	for (line = strtok_r(data, "\n", &save); line && d->nservers < DNS_MAX_SERVERS;
	     line = strtok_r(NULL, "\n", &save)) {
		char kw[16], ip[64];
		struct sockaddr_storage ss;

		if (sscanf(line, "%15s %63s", kw, ip) != 2 || strcmp(kw, "nameserver"))
			continue;
		if (literal(ip, &ss) != 0)
			continue;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons(53);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(53);
		d->servers[d->nservers++] = ss;
	}
	free(data);
}

static void finish(struct sip_dns *d, int err)
{
	d->finished = true;
	d->result = err;
	if (d->fdw.fd >= 0) {
		ev_fd_del(&d->fdw);
		close(d->fdw.fd);
		d->fdw.fd = -1;
	}
	ev_timer_set(&d->timer, 0);    /* report from the loop */
}

static int send_query(struct sip_dns *d)
{
	const struct sockaddr_storage *srv = &d->servers[d->tries % d->nservers];
	unsigned char q[300];
	size_t qlen;
	int err;

	if (d->fdw.fd >= 0) {
		ev_fd_del(&d->fdw);
		close(d->fdw.fd);
	}
	d->fdw.fd = socket(srv->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fdw.fd < 0)
		return -errno;
	if (connect(d->fdw.fd, (const struct sockaddr *)srv, srv->ss_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0)
		return -errno;
	if (utl_random(&d->id, sizeof(d->id)) != 0)
		d->id ^= 0x5a5a;
	err = sip_dns_build_query(d->name, d->id, 1, q, sizeof(q), &qlen);
	if (err)
		return err;
	if (send(d->fdw.fd, q, qlen, 0) < 0)
		return -errno;
	err = ev_fd_add(&d->fdw, EV_READ);
	if (err)
		return err;
	ev_timer_set(&d->timer, DNS_TRY_MS);
	return 0;
}

static void on_timer(struct ev_timer *t)
{
	struct sip_dns *d = container_of(t, struct sip_dns, timer);
	int err;

	if (d->finished) {
		sip_dns_cb cb = d->cb;
		void *arg = d->arg;
		struct sockaddr_storage addr = d->addr;
		int result = d->result;

		free(d);
		cb(NULL, result, result ? NULL : &addr, arg);
		return;
	}
	if (++d->tries >= DNS_TRIES) {
		finish(d, -ETIMEDOUT);
		return;
	}
	err = send_query(d);
	if (err)
		finish(d, err);
}

static void on_read(struct ev_fd *f, unsigned events)
{
	struct sip_dns *d = container_of(f, struct sip_dns, fdw);
	unsigned char buf[DNS_RESP_MAX + 1];
	ssize_t n;
	int err;

	n = recv(f->fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		/* ICMP unreachable from this server: the timer moves on to the next try */
		ev_fd_del(&d->fdw);
		return;
	}
	err = sip_dns_parse_answer(buf, (size_t)n, d->id, &d->addr);
	if (err == -EBADMSG && ((unsigned)buf[0] << 8 | buf[1]) != d->id)
		return;    /* someone else's answer: keep waiting */
	finish(d, err);
}

int sip_dns_resolve(const char *host, sip_dns_cb cb, void *arg, struct sip_dns **out)
{
	struct sip_dns *d;
	int err;

	if (!host || !*host || strlen(host) > 253)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cb = cb;
	d->arg = arg;
	d->fdw.fd = -1;
	d->fdw.cb = on_read;
	d->timer.cb = on_timer;
	utl_strlcpy(d->name, host, sizeof(d->name));
	*out = d;
	if (literal(host, &d->addr) == 0 || from_hosts(host, &d->addr) == 0) {
		finish(d, 0);
		return 0;
	}
	load_servers(d);
	if (!d->nservers) {
		finish(d, -ENXIO);
		return 0;
	}
	err = send_query(d);
	if (err)
		finish(d, err);
	return 0;
}

void sip_dns_cancel(struct sip_dns *d)
{
	if (!d)
		return;
	ev_timer_cancel(&d->timer);
	if (d->fdw.fd >= 0) {
		ev_fd_del(&d->fdw);
		close(d->fdw.fd);
	}
	free(d);
}

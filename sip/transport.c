/* transport.c - SIP transports on the event loop; see transport.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/ev.h"
#include "common/log.h"
#include "common/stun.h"
#include "common/util.h"
#include "sip/msg.h"
#include "sip/transport.h"
#include "system/system.h"

#define OUT_MAX (64 * 1024)

struct sip_tp {
	enum sip_tp_kind kind;
	struct sip_tp_cbs cbs;
	void *arg;
	struct sockaddr_storage peer;
	char host[256];
	struct ev_fd fdw;
	struct ev_timer timer;        /* connect timeout; UDP: the "up" kick */
	SSL_CTX *ctx;
	SSL *ssl;
	bool connecting, handshaking, up, dead, closing;
	int in_cb;
	unsigned watch;
	char in[2 * SIP_MSG_MAX];
	size_t inlen;
	char *out;
	size_t outlen;
	uint8_t stun_tid[12];
	bool stun_pending;
};

const char *sip_tp_name(enum sip_tp_kind kind)
{
	return kind == SIP_TP_TLS ? "TLS" : kind == SIP_TP_TCP ? "TCP" : "UDP";
}

enum sip_tp_kind sip_tp_kind_of(const struct sip_tp *tp)
{
	return tp->kind;
}

bool sip_tp_is_up(const struct sip_tp *tp)
{
	return tp && tp->up && !tp->dead;
}

static socklen_t sa_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

bool sip_sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

void sip_sockaddr_str(const struct sockaddr_storage *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;

		inet_ntop(AF_INET, &x->sin_addr, ip, sizeof(ip));
		port = ntohs(x->sin_port);
		snprintf(buf, size, "%s:%d", ip, port);
	} else if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;

		inet_ntop(AF_INET6, &x->sin6_addr, ip, sizeof(ip));
		port = ntohs(x->sin6_port);
		snprintf(buf, size, "[%s]:%d", ip, port);
	} else {
		snprintf(buf, size, "?");
	}
}

/* ---------------------------------------------------------------- common */

static void destroy(struct sip_tp *tp)
{
	ev_timer_cancel(&tp->timer);
	if (tp->fdw.fd >= 0) {
		ev_fd_del(&tp->fdw);
		close(tp->fdw.fd);
	}
	if (tp->ssl)
		SSL_free(tp->ssl);
	if (tp->ctx)
		SSL_CTX_free(tp->ctx);
	free(tp->out);
	free(tp);
}

void sip_tp_close(struct sip_tp *tp)
{
	if (!tp)
		return;
	if (tp->in_cb) {
		tp->closing = true;
		tp->dead = true;
		return;
	}
	destroy(tp);
}

/* Report a fatal error once; the owner closes the transport. */
static void fail(struct sip_tp *tp, int err, const char *why)
{
	if (tp->dead)
		return;
	tp->dead = true;
	tp->up = false;
	ev_timer_cancel(&tp->timer);
	if (tp->fdw.fd >= 0)
		ev_fd_del(&tp->fdw);
	if (tp->cbs.error)
		tp->cbs.error(tp, err, why, tp->arg);
}

static void set_watch(struct sip_tp *tp, unsigned ev)
{
	if (tp->dead || ev == tp->watch)
		return;
	if (ev_fd_add(&tp->fdw, ev) == 0)
		tp->watch = ev;
}

int sip_tp_local(const struct sip_tp *tp, char *host, size_t size, int *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(tp->fdw.fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s = (void *)&ss;

		inet_ntop(AF_INET, &s->sin_addr, host, size);
		*port = ntohs(s->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s = (void *)&ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, size);
		*port = ntohs(s->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

/* ---------------------------------------------------------------- UDP */

static void udp_read(struct sip_tp *tp)
{
	char buf[SIP_MSG_MAX + 1];
	int i;

	for (i = 0; i < 32 && !tp->closing; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(tp->fdw.fd, buf, sizeof(buf), MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug("sip", "UDP receive: %s", strerror(errno));
			return;
		}
		if ((size_t)n > SIP_MSG_MAX) {
			log_warn("sip", "dropped a %zd-byte datagram (limit %d)", n, SIP_MSG_MAX);
			continue;
		}
		if (stun_is_stun((const uint8_t *)buf, (size_t)n)) {
			struct stun_binding sb;
			int err = stun_parse_binding((const uint8_t *)buf, (size_t)n, tp->stun_tid, &sb);

			if (err == 0 && sb.have_mapped && tp->stun_pending && sip_sockaddr_equal(&from, &tp->peer)) {
				tp->stun_pending = false;
				if (tp->cbs.pong)
					tp->cbs.pong(tp, &sb.mapped_ss, tp->arg);
			}
			continue;
		}
		if (n <= 4 && strspn(buf, "\r\n") == (size_t)n)
			continue;    /* CRLF keepalive */
		if (tp->cbs.msg)
			tp->cbs.msg(tp, buf, (size_t)n, &from, tp->arg);
	}
}

static int udp_open(struct sip_tp *tp, int want_port)
{
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	int probe, fd;

	/* Learn the source address the kernel picks towards the registrar, so
	 * Via and Contact name a real address, then bind the unconnected socket there
	 * (unconnected: requests from the registrar arrive, their source is checked). */
	probe = socket(tp->peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	if (connect(probe, (struct sockaddr *)&tp->peer, sa_len(&tp->peer)) < 0 ||
	    getsockname(probe, (struct sockaddr *)&local, &ll) < 0) {
		int err = -errno;

		close(probe);
		return err;
	}
	close(probe);
	if (local.ss_family == AF_INET)
		((struct sockaddr_in *)&local)->sin_port = htons((uint16_t)want_port);
	else
		((struct sockaddr_in6 *)&local)->sin6_port = htons((uint16_t)want_port);
	fd = socket(tp->peer.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	tp->fdw.fd = fd;
	if (bind(fd, (struct sockaddr *)&local, sa_len(&local)) == 0)
		return 0;
	if (!want_port || errno != EADDRINUSE)
		return -errno;
	if (local.ss_family == AF_INET)
		((struct sockaddr_in *)&local)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&local)->sin6_port = 0;
	return bind(fd, (struct sockaddr *)&local, sa_len(&local)) < 0 ? -errno : 0;
}

/* ---------------------------------------------------------------- streams */

static void stream_flush(struct sip_tp *tp)
{
	while (tp->outlen && !tp->dead) {
		ssize_t n;

		if (tp->ssl) {
			int r;

			ERR_clear_error();
			r = SSL_write(tp->ssl, tp->out, (int)tp->outlen);
			if (r <= 0) {
				int e = SSL_get_error(tp->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
					break;
				fail(tp, -EIO, "TLS write to the registrar failed");
				return;
			}
			n = r;
		} else {
			n = send(tp->fdw.fd, tp->out, tp->outlen, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					break;
				fail(tp, -errno, "sending to the registrar failed (connection broken)");
				return;
			}
		}
		memmove(tp->out, tp->out + n, tp->outlen - (size_t)n);
		tp->outlen -= (size_t)n;
	}
	set_watch(tp, EV_READ | (tp->outlen ? EV_WRITE : 0));
}

static void stream_frames(struct sip_tp *tp)
{
	while (tp->inlen && !tp->closing && !tp->dead) {
		enum sip_frame kind;
		size_t used = 0;
		const char *why;
		int r = sip_msg_frame(tp->in, tp->inlen, &used, &kind, &why);

		if (r == 0)
			return;
		if (r < 0) {
			char msg[160];

			snprintf(msg, sizeof(msg), "registrar sent a broken message (%s)", why);
			fail(tp, r, msg);
			return;
		}
		if (kind == SIP_FRAME_MSG && tp->cbs.msg)
			tp->cbs.msg(tp, tp->in, used, &tp->peer, tp->arg);
		else if (kind == SIP_FRAME_PONG && tp->cbs.pong)
			tp->cbs.pong(tp, NULL, tp->arg);
		else if (kind == SIP_FRAME_PING)
			(void)sip_tp_send(tp, "\r\n", 2);
		if (tp->closing || tp->dead)
			return;
		memmove(tp->in, tp->in + used, tp->inlen - used);
		tp->inlen -= used;
	}
}

static void stream_read(struct sip_tp *tp)
{
	int rounds;

	for (rounds = 0; rounds < 16 && !tp->dead && !tp->closing; rounds++) {
		size_t room = sizeof(tp->in) - tp->inlen;
		ssize_t n;

		if (!room) {
			fail(tp, -EMSGSIZE, "registrar sent more than the buffer holds");
			return;
		}
		if (tp->ssl) {
			int r;

			ERR_clear_error();
			r = SSL_read(tp->ssl, tp->in + tp->inlen, (int)room);
			if (r <= 0) {
				int e = SSL_get_error(tp->ssl, r);

				if (e == SSL_ERROR_WANT_READ)
					return;
				if (e == SSL_ERROR_WANT_WRITE) {
					set_watch(tp, EV_READ | EV_WRITE);
					return;
				}
				fail(tp, -ECONNRESET, e == SSL_ERROR_ZERO_RETURN ?
				     "registrar closed the TLS connection" : "TLS connection to the registrar broke");
				return;
			}
			n = r;
		} else {
			n = recv(tp->fdw.fd, tp->in + tp->inlen, room, 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					return;
				fail(tp, -errno, "connection to the registrar broke");
				return;
			}
			if (n == 0) {
				fail(tp, -ECONNRESET, "registrar closed the connection");
				return;
			}
		}
		tp->inlen += (size_t)n;
		stream_frames(tp);
	}
}

static void became_up(struct sip_tp *tp)
{
	tp->up = true;
	tp->connecting = tp->handshaking = false;
	ev_timer_cancel(&tp->timer);
	if (tp->cbs.up)
		tp->cbs.up(tp, tp->arg);
	if (!tp->dead && !tp->closing)
		stream_flush(tp);
}

static void tls_step(struct sip_tp *tp)
{
	int r, e;

	ERR_clear_error();
	r = SSL_connect(tp->ssl);
	if (r == 1) {
		became_up(tp);
		return;
	}
	e = SSL_get_error(tp->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		set_watch(tp, EV_READ);
		return;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		set_watch(tp, EV_WRITE);
		return;
	}
	{
		long vr = SSL_get_verify_result(tp->ssl);
		char msg[512];

		if (vr == X509_V_ERR_CERT_NOT_YET_VALID || vr == X509_V_ERR_CERT_HAS_EXPIRED)
			snprintf(msg, sizeof(msg), "TLS: registrar certificate %s (is the clock set?)",
				 X509_verify_cert_error_string(vr));
		else if (vr != X509_V_OK)
			snprintf(msg, sizeof(msg), "TLS: registrar certificate not accepted: %s "
				 "(check the provisioned CA and the registrar name %s)",
				 X509_verify_cert_error_string(vr), tp->host);
		else
			snprintf(msg, sizeof(msg), "TLS handshake with the registrar failed (%s)",
				 ERR_reason_error_string(ERR_peek_last_error()) ?
				 ERR_reason_error_string(ERR_peek_last_error()) : "connection closed");
		fail(tp, -EPROTO, msg);
	}
}

static int tls_setup(struct sip_tp *tp, const char *ca_file)
{
	struct in6_addr a6;
	bool literal;

	tp->ctx = SSL_CTX_new(TLS_client_method());
	if (!tp->ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(tp->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(tp->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(tp->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (ca_file && *ca_file) {
		if (SSL_CTX_load_verify_locations(tp->ctx, ca_file, NULL) != 1)
			return -ENOENT;
	} else if (SSL_CTX_set_default_verify_paths(tp->ctx) != 1) {
		return -ENOENT;
	}
	tp->ssl = SSL_new(tp->ctx);
	if (!tp->ssl || SSL_set_fd(tp->ssl, tp->fdw.fd) != 1)
		return -ENOMEM;
	literal = inet_pton(AF_INET, tp->host, &a6) == 1 || inet_pton(AF_INET6, tp->host, &a6) == 1;
	if (!literal)
		SSL_set_tlsext_host_name(tp->ssl, tp->host);
	if (literal) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(tp->ssl);

		if (X509_VERIFY_PARAM_set1_ip_asc(vp, tp->host) != 1)
			return -EINVAL;
	} else if (SSL_set1_host(tp->ssl, tp->host) != 1) {
		return -EINVAL;
	}
	return 0;
}

static void connected(struct sip_tp *tp)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	char msg[160], peer[64];

	if (getsockopt(tp->fdw.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		sip_sockaddr_str(&tp->peer, peer, sizeof(peer));
		snprintf(msg, sizeof(msg), "cannot connect to the registrar %s over %s: %s", peer,
			 sip_tp_name(tp->kind), strerror(soerr));
		fail(tp, -soerr, msg);
		return;
	}
	tp->connecting = false;
	if (tp->kind == SIP_TP_TLS) {
		tp->handshaking = true;
		tls_step(tp);
	} else {
		became_up(tp);
	}
}

static void on_fd(struct ev_fd *f, unsigned events)
{
	struct sip_tp *tp = container_of(f, struct sip_tp, fdw);

	tp->in_cb++;
	if (tp->kind == SIP_TP_UDP) {
		udp_read(tp);
	} else if (tp->connecting) {
		connected(tp);
	} else if (tp->handshaking) {
		tls_step(tp);
	} else {
		if (events & (EV_READ | EV_ERROR))
			stream_read(tp);
		if (!tp->dead && !tp->closing && (events & EV_WRITE))
			stream_flush(tp);
	}
	tp->in_cb--;
	if (tp->closing && !tp->in_cb)
		destroy(tp);
}

static void on_timer(struct ev_timer *t)
{
	struct sip_tp *tp = container_of(t, struct sip_tp, timer);

	tp->in_cb++;
	if (tp->kind == SIP_TP_UDP) {
		tp->up = true;
		if (tp->cbs.up)
			tp->cbs.up(tp, tp->arg);
	} else {
		char msg[160], peer[64];

		sip_sockaddr_str(&tp->peer, peer, sizeof(peer));
		snprintf(msg, sizeof(msg), "no answer from the registrar %s over %s (%s timed out)",
			 peer, sip_tp_name(tp->kind), tp->handshaking ? "TLS handshake" : "connect");
		fail(tp, -ETIMEDOUT, msg);
	}
	tp->in_cb--;
	if (tp->closing && !tp->in_cb)
		destroy(tp);
}

int sip_tp_open(const struct sip_tp_opts *o, const struct sip_tp_cbs *cbs, void *arg,
		struct sip_tp **out)
{
	struct sip_tp *tp;
	int err, fd;

	if (o->peer.ss_family != AF_INET && o->peer.ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	tp->kind = o->kind;
	tp->cbs = *cbs;
	tp->arg = arg;
	tp->peer = o->peer;
	tp->fdw.fd = -1;
	tp->fdw.cb = on_fd;
	tp->timer.cb = on_timer;
	utl_strlcpy(tp->host, o->host ? o->host : "", sizeof(tp->host));
	if (o->kind == SIP_TP_UDP) {
		err = udp_open(tp, o->local_port > 0 && o->local_port < 65536 ? o->local_port : 0);
		if (err)
			goto out;
	} else {
		fd = socket(o->peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = -errno;
			goto out;
		}
		tp->fdw.fd = fd;
	}
	/* DSCP before the first packet (the SYN on streams) */
	err = sys_set_dscp(tp->fdw.fd, o->dscp);
	if (err)
		log_warn("sip", "cannot set DSCP %d on the signalling socket: %s", o->dscp, strerror(-err));
	if (o->kind == SIP_TP_UDP) {
		err = ev_fd_add(&tp->fdw, EV_READ);
		if (err)
			goto out;
		tp->watch = EV_READ;
		ev_timer_set(&tp->timer, 0);
	} else {
		if (o->kind == SIP_TP_TLS) {
			err = tls_setup(tp, o->ca_file);
			if (err)
				goto out;
		}
		if (connect(tp->fdw.fd, (struct sockaddr *)&tp->peer, sa_len(&tp->peer)) < 0 &&
		    errno != EINPROGRESS) {
			err = -errno;
			goto out;
		}
		tp->connecting = true;
		err = ev_fd_add(&tp->fdw, EV_WRITE);
		if (err)
			goto out;
		tp->watch = EV_WRITE;
		ev_timer_set(&tp->timer, o->connect_timeout_ms > 0 ? (uint64_t)o->connect_timeout_ms : 10000);
	}
	*out = tp;
	return 0;
out:
	destroy(tp);
	return err;
}

int sip_tp_send(struct sip_tp *tp, const char *buf, size_t len)
{
	return sip_tp_send_to(tp, buf, len, NULL);
}

int sip_tp_send_to(struct sip_tp *tp, const char *buf, size_t len, const struct sockaddr_storage *to)
{
	if (!tp || tp->dead)
		return -ENOTCONN;
	if (tp->kind == SIP_TP_UDP) {
		if (!to || (to->ss_family != AF_INET && to->ss_family != AF_INET6))
			to = &tp->peer;
		if (sendto(tp->fdw.fd, buf, len, 0, (const struct sockaddr *)to, sa_len(to)) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;    /* like a lost datagram: retransmission covers it */
			return -errno;
		}
		return 0;
	}
	if (tp->outlen + len > OUT_MAX)
		return -ENOBUFS;
	{
		char *nb = realloc(tp->out, tp->outlen + len);

		if (!nb)
			return -ENOMEM;
		tp->out = nb;
	}
	memcpy(tp->out + tp->outlen, buf, len);
	tp->outlen += len;
	if (tp->up) {
		/* a failure found while flushing is reported through the error
		 * callback; the owner may close tp there, so free it only after */
		tp->in_cb++;
		stream_flush(tp);
		tp->in_cb--;
		if (tp->closing && !tp->in_cb) {
			destroy(tp);
			return 0;    /* already reported through the error callback */
		}
	}
	return 0;
}

int sip_tp_ping(struct sip_tp *tp, bool stun)
{
	if (!tp || tp->dead)
		return -ENOTCONN;
	if (tp->kind == SIP_TP_UDP && stun) {
		uint8_t req[STUN_HDR];
		int err = utl_random(tp->stun_tid, sizeof(tp->stun_tid));

		if (err)
			return err;
		stun_build_binding(req, tp->stun_tid);
		tp->stun_pending = true;
		return sip_tp_send(tp, (const char *)req, sizeof(req));
	}
	return sip_tp_send(tp, "\r\n\r\n", 4);
}

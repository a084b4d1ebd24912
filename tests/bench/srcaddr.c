/* srcaddr.c - LD_PRELOAD shim for the fleet benchmark: every IPv4 socket of
 * the process leaves from $BENCH_SRC (a 127.x.y.z address), so N agents on
 * one host each have their own loopback address at the registrar, as N
 * phones would. bind() to 0.0.0.0 or 127.0.0.1 is moved to $BENCH_SRC;
 * connect() and sendto() on a socket not bound yet bind it there first.
 * Build: cc -shared -fPIC -o srcaddr.so srcaddr.c -ldl
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static struct in_addr src;
static int have_src = -1;

static void init(void)
{
	const char *s;

	if (have_src >= 0)
		return;
	real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
	real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
	real_sendto = (ssize_t (*)(int, const void *, size_t, int, const struct sockaddr *, socklen_t))
		dlsym(RTLD_NEXT, "sendto");
	s = getenv("BENCH_SRC");
	have_src = s && inet_pton(AF_INET, s, &src) == 1 && (ntohl(src.s_addr) >> 24) == 127;
}

/* A not yet bound IPv4 socket gets $BENCH_SRC:0. */
static void bind_first(int fd, const struct sockaddr *to)
{
	struct sockaddr_in me, cur;
	socklen_t l = sizeof(cur);

	if (!have_src || !to || to->sa_family != AF_INET)
		return;
	if (getsockname(fd, (struct sockaddr *)&cur, &l) < 0 || cur.sin_family != AF_INET || cur.sin_port)
		return;
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_addr = src;
	(void)real_bind(fd, (struct sockaddr *)&me, sizeof(me));
}

int bind(int fd, const struct sockaddr *a, socklen_t len)
{
	init();
	if (have_src && a && a->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in s;

		memcpy(&s, a, sizeof(s));
		if (s.sin_addr.s_addr == htonl(INADDR_ANY) || s.sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
			s.sin_addr = src;
			return real_bind(fd, (struct sockaddr *)&s, sizeof(s));
		}
	}
	return real_bind(fd, a, len);
}

int connect(int fd, const struct sockaddr *a, socklen_t len)
{
	init();
	bind_first(fd, a);
	return real_connect(fd, a, len);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t len)
{
	init();
	bind_first(fd, a);
	return real_sendto(fd, buf, n, flags, a, len);
}

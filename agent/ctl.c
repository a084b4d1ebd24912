/* ctl.c - control socket server on the event loop. */
#include "config.h"

#include "agent/ctl.h"
#include "common/ev.h"
#include "common/log.h"
#include "common/sysc.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_MAX_CLIENTS 16
#define CTL_IDLE_MS 5000            /* a request must arrive within this */
#define CTL_MAX_OUTPUT (1024 * 1024)

struct ctl_client {
	struct ev_fd io;
	struct ev_timer idle;
	struct ctl_client *next;
	char in[CTL_MAX_REQUEST + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	bool got_request;
	bool finishing;
	void (*on_close)(struct ctl_client *c, void *arg);
	void *on_close_arg;
};

static struct {
	struct ev_fd listen;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct ctl_command *cmds;
	void *ctx;
	struct ctl_client *clients;
	int nclients;
} ctl = { .listen = { .fd = -1 } };

static void client_free(struct ctl_client *c)
{
	struct ctl_client **pp;

	for (pp = &ctl.clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ctl.nclients--;
	if (c->on_close) {
		void (*fn)(struct ctl_client *, void *) = c->on_close;

		c->on_close = NULL;
		fn(c, c->on_close_arg);
	}
	ev_fd_del(&c->io);
	ev_timer_cancel(&c->idle);
	close(c->io.fd);
	free(c->out);
	free(c);
}

static void client_flush(struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->io.fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ev_fd_add(&c->io, EV_READ | EV_WRITE);
				return;
			}
			log_debug("ctl", "client went away: %s", strerror(errno));
			client_free(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	if (c->finishing) {
		client_free(c);
		return;
	}
	ev_fd_add(&c->io, EV_READ);
}

static void client_queue(struct ctl_client *c, struct json_object *obj)
{
	char *line = ctl_encode_line(obj);
	size_t n;

	json_object_put(obj);
	if (!line)
		return;
	n = strlen(line);
	if (c->out_len + n > CTL_MAX_OUTPUT) {
		/* A client that does not read is dropped rather than grow without bound. */
		free(line);
		log_warn("ctl", "dropping a client that does not read its replies");
		c->finishing = true;
		c->out_len = c->out_off = 0;
		return;
	}
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	{
		char *grown = realloc(c->out, c->out_len + n);

		if (!grown) {
			free(line);
			c->finishing = true;
			return;
		}
		c->out = grown;
	}
	memcpy(c->out + c->out_len, line, n);
	c->out_len += n;
	free(line);
}

void ctl_client_event(struct ctl_client *c, struct json_object *obj)
{
	if (c->finishing) {
		json_object_put(obj);
		return;
	}
	client_queue(c, obj);
	client_flush(c);
}

void ctl_client_finish(struct ctl_client *c, struct json_object *obj)
{
	if (c->finishing) {
		json_object_put(obj);
		return;
	}
	client_queue(c, obj);
	c->finishing = true;
	c->on_close = NULL;
	client_flush(c);
}

void ctl_client_on_close(struct ctl_client *c, void (*fn)(struct ctl_client *c, void *arg), void *arg)
{
	c->on_close = fn;
	c->on_close_arg = arg;
}

int ctl_client_count(void)
{
	return ctl.nclients;
}

static void client_error(struct ctl_client *c, const char *code, const char *why)
{
	log_info("ctl", "rejected request: %s", why);
	ctl_client_finish(c, ctl_error_new(code, why));
}

static void client_dispatch(struct ctl_client *c, const char *line, size_t len)
{
	const struct ctl_command *cmd;
	struct ctl_request req;
	const char *code, *why;

	c->got_request = true;
	ev_timer_cancel(&c->idle);
	if (ctl_parse_request(line, len, &req, &code, &why) < 0) {
		client_error(c, code, why);
		return;
	}
	for (cmd = ctl.cmds; cmd && cmd->name; cmd++) {
		if (strcmp(cmd->name, req.cmd) == 0) {
			log_debug("ctl", "request %s", req.cmd);
			cmd->handler(c, &req, ctl.ctx);
			ctl_request_free(&req);
			return;
		}
	}
	ctl_request_free(&req);
	client_error(c, CTL_E_UNKNOWN, "unknown command (see dialstack-agent --help)");
}

static void client_read(struct ctl_client *c)
{
	for (;;) {
		char *nl;
		ssize_t n;

		if (c->got_request) {
			/* One request per connection: anything more is drained and ignored. */
			char sink[512];

			n = recv(c->io.fd, sink, sizeof(sink), 0);
		} else {
			n = recv(c->io.fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, 0);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			client_free(c);
			return;
		}
		if (n == 0) {
			/* Peer closed: a half-sent request is dropped, a pending stream ends. */
			client_free(c);
			return;
		}
		if (c->got_request)
			continue;
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
		nl = memchr(c->in, '\n', c->in_len);
		if (nl) {
			client_dispatch(c, c->in, (size_t)(nl - c->in));
			return;
		}
		if (c->in_len >= sizeof(c->in) - 1) {
			client_error(c, CTL_E_TOO_LARGE, "request longer than 4096 bytes");
			return;
		}
	}
}

static void client_io(struct ev_fd *f, unsigned events)
{
	struct ctl_client *c = container_of(f, struct ctl_client, io);

	if (events & EV_WRITE) {
		client_flush(c);
		return;
	}
	if (events & EV_READ)
		client_read(c);
}

static void client_idle(struct ev_timer *t)
{
	struct ctl_client *c = container_of(t, struct ctl_client, idle);

	client_error(c, CTL_E_TIMEOUT, "no complete request within 5 s");
}

static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid() || cred.gid == sysc_getegid();
}

static void on_accept(struct ev_fd *f, unsigned events)
{
	for (;;) {
		struct ctl_client *c;
		int fd = sysc_accept4(f->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("ctl", "accept: %s", strerror(errno));
			return;
		}
		if (ctl.nclients >= CTL_MAX_CLIENTS) {
			static const char busy[] = "{\"v\":1,\"type\":\"error\",\"code\":\"busy\","
						   "\"message\":\"too many control clients; try again\"}\n";
			(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->io.fd = fd;
		c->io.cb = client_io;
		c->idle.cb = client_idle;
		c->next = ctl.clients;
		ctl.clients = c;
		ctl.nclients++;
		if (!peer_allowed(fd)) {
			client_error(c, CTL_E_PERMISSION, "not allowed: run as root or as the agent's user or group");
			continue;
		}
		ev_fd_add(&c->io, EV_READ);
		ev_timer_set(&c->idle, CTL_IDLE_MS);
	}
}

int ctl_open(const char *path, const struct ctl_command *cmds, void *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, err;

	if (utl_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) < 0)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The caller holds the instance lock, so a leftover socket is stale. */
	unlink(path);
	old = sysc_umask(0117);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	sysc_umask(old);
	if (err < 0 || chmod(path, 0660) < 0 || sysc_listen(fd, 8) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	ctl.listen.fd = fd;
	ctl.listen.cb = on_accept;
	ctl.cmds = cmds;
	ctl.ctx = ctx;
	utl_strlcpy(ctl.path, path, sizeof(ctl.path));
	err = ev_fd_add(&ctl.listen, EV_READ);
	if (err < 0) {
		ctl_close();
		return err;
	}
	return 0;
}

void ctl_close(void)
{
	while (ctl.clients)
		client_free(ctl.clients);
	if (ctl.listen.fd >= 0) {
		ev_fd_del(&ctl.listen);
		close(ctl.listen.fd);
		ctl.listen.fd = -1;
		unlink(ctl.path);
	}
}

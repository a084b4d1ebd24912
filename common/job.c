/* job.c - job processes and their message codec (see job.h). */
#include "config.h"

#include "common/job.h"
#include "common/ev.h"
#include "common/log.h"
#include "common/sysc.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ codec */

/* The fields of each type, in order ('u', 's', 'b'); index: enum job_type. */
static const char kinds[JOB_NTYPES][JOB_MAX_FIELDS + 1] = {
	[JOB_HTTP] = "uuuuuussssssssbss",    /* method, 5 limits, url, etag, type, ca, cert, key, pin, agent, body,
					      * resolve, interface */
	[JOB_HTTP_REPLY] = "uuussbuu",       /* result, err, status, etag, why, body, curl code, ms */
	[JOB_PARSE] = "sbb",                 /* mac12, dialstack.xml, dialstack-<mac>.xml */
	[JOB_PARSE_REPLY] = "usbb",          /* ok, why, messages, struct cfg_config */
	[JOB_SRTP] = "",
	[JOB_SRTP_REPLY] = "ussb",           /* verdict, brief, advice, struct diag_value[] */
};

static uint32_t get32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

static void set32(char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

int job_decode(const char *buf, size_t len, struct job_msg *m, size_t *used)
{
	const char *k;
	uint32_t plen, off = 0;

	if (len >= 3 && buf[2] != JOB_VERSION)
		return -EPROTO;
	if (len >= 2 && (buf[0] != 'D' || buf[1] != 'J'))
		return -EBADMSG;
	if (len < JOB_HDR)
		return -EAGAIN;
	if ((unsigned char)buf[3] == 0 || (unsigned char)buf[3] >= JOB_NTYPES)
		return -EBADMSG;
	plen = get32(buf + 4);
	if (plen > JOB_MAX_MSG)
		return -EBADMSG;
	if (len - JOB_HDR < plen)
		return -EAGAIN;
	buf += JOB_HDR;
	m->type = (unsigned char)buf[-5];
	k = kinds[m->type];
	for (m->n = 0; k[m->n]; m->n++) {
		uint32_t fl;
		const char *p;

		if (plen - off < 4)
			return -EBADMSG;
		fl = get32(buf + off);
		off += 4;
		if (fl > plen - off)
			return -EBADMSG;
		p = buf + off;
		if (k[m->n] == 'u' ? fl != 4 :
		    !fl || p[fl - 1] || (k[m->n] == 's' && (fl > JOB_MAX_STR || memchr(p, 0, fl - 1))))
			return -EBADMSG;
		m->f[m->n].p = p;
		m->f[m->n].len = fl;
		off += fl;
	}
	if (off != plen)
		return -EBADMSG;
	*used = JOB_HDR + plen;
	return 0;
}

uint32_t job_u32(const struct job_msg *m, unsigned i)
{
	return get32(m->f[i].p);
}

static void grow(struct job_buf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > JOB_HDR + JOB_MAX_MSG) {
		b->err = -EMSGSIZE;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *q;

		while (cap < b->len + n)
			cap *= 2;
		if (!(q = realloc(b->p, cap))) {
			b->err = -ENOMEM;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void job_begin(struct job_buf *b, unsigned t)
{
	char h[JOB_HDR] = { 'D', 'J', JOB_VERSION, (char)t };

	b->len = 0;
	b->err = 0;
	grow(b, h, sizeof(h));
}

void job_put_u32(struct job_buf *b, uint32_t v)
{
	char w[8];

	set32(w, 4);
	set32(w + 4, v);
	grow(b, w, sizeof(w));
}

void job_put(struct job_buf *b, const void *p, size_t len)
{
	char w[4];

	set32(w, (uint32_t)(len + 1));
	if (len >= JOB_MAX_MSG)
		b->err = b->err ? b->err : -EMSGSIZE;
	grow(b, w, sizeof(w));
	grow(b, p ? p : "", p ? len : 0);
	grow(b, "", 1);
}

void job_put_str(struct job_buf *b, const char *s)
{
	job_put(b, s, s ? strlen(s) : 0);
}

int job_end(struct job_buf *b)
{
	struct job_msg m;
	size_t used;
	int err = b->err;

	if (!err) {
		set32(b->p + 4, (uint32_t)(b->len - JOB_HDR));
		if (job_decode(b->p, b->len, &m, &used) < 0 || used != b->len)
			err = -EBADMSG;
	}
	if (err)
		job_buf_free(b);
	return err;
}

void job_buf_free(struct job_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ------------------------------------------------------------------ the child */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int job_main(job_handler h)
{
	struct job_buf out = { 0 };
	struct job_msg m;
	size_t used, len;
	char *in = NULL;
	int err = 1;

	/* stdin is the request's memfd: opened again, it reads from the start
	 * (through /proc: a phone may have no /dev/stdin); a request that cannot
	 * be read: exit status 1, the agent says so */
	if (utl_read_file("/proc/self/fd/0", JOB_HDR + JOB_MAX_MSG, &in, &len) == 0 &&
	    job_decode(in, len, &m, &used) == 0 && used == len && h(&m, &out) == 0 &&
	    write_all(1, out.p, out.len) == 0)
		err = 0;
	free(in);
	job_buf_free(&out);
	return err;
}

/* ------------------------------------------------------------------ the parent */

struct job {
	struct ev_fd rd;             /* the answer */
	struct ev_fd dl;             /* the deadline: a timerfd on CLOCK_MONOTONIC */
	pid_t pid;
	bool reaped;
	int status;
	unsigned reply_type;
	uint32_t deadline_ms;
	char *buf;
	size_t len;
	job_done_cb cb;
	void *arg;
	struct job *next;
};

static struct job *jobs;
static const char *exe = "/proc/self/exe";
/* Who the children run as: looked up in the agent, once (-1: not yet). */
static int usr_ok = -1;
static uid_t usr_uid;
static gid_t usr_gid;

void job_set_exe(const char *path)
{
	exe = path;
	usr_ok = -1;
}

unsigned job_count(void)
{
	unsigned n = 0;

	for (struct job *j = jobs; j; j = j->next)
		n++;
	return n;
}

int job_exited(pid_t pid, int status)
{
	for (struct job *j = jobs; j; j = j->next)
		if (j->pid == pid && !j->reaped) {
			j->reaped = true;
			j->status = status;
			return 1;
		}
	return 0;
}

/* Stop watching, kill when still running (never a pid already reaped:
 * it may be another process's now), reap, unlink and free. */
static void job_free(struct job *j)
{
	struct job **pp;

	for (pp = &jobs; *pp != j; pp = &(*pp)->next)
		;
	*pp = j->next;
	ev_fd_del(&j->rd);
	ev_fd_del(&j->dl);
	close(j->rd.fd);
	close(j->dl.fd);
	if (!j->reaped) {
		sysc_kill(j->pid, SIGKILL);
		while (waitpid(j->pid, &j->status, 0) < 0 && errno == EINTR)
			;
	}
	ev_clock_hold(false);
	free(j->buf);
	free(j);
}

void job_cancel(struct job *j)
{
	if (j)
		job_free(j);
}

static void finish(struct job *j, const struct job_msg *m, const char *what)
{
	char why[160], *buf = j->buf;
	job_done_cb cb = j->cb;
	void *arg = j->arg;
	int st;

	if (!m && !j->reaped) {
		/* no answer: learn how it ended (a hung child is killed first) */
		if (waitpid(j->pid, &j->status, WNOHANG) != j->pid) {
			sysc_kill(j->pid, SIGKILL);
			while (waitpid(j->pid, &j->status, 0) < 0 && errno == EINTR)
				;
		}
		j->reaped = true;
	}
	st = j->status;
	if (m)
		why[0] = '\0';
	else if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
		snprintf(why, sizeof(why), "the job process crashed (signal %d)", WTERMSIG(st));
	else if (WIFEXITED(st) && WEXITSTATUS(st))
		snprintf(why, sizeof(why), "the job process %s (exit status %d)", what, WEXITSTATUS(st));
	else
		snprintf(why, sizeof(why), "the job process %s", what);
	/* m points into buf: keep it past the job */
	j->buf = NULL;
	job_free(j);
	cb(m, why, arg);
	free(buf);
}

static void rd_cb(struct ev_fd *f, unsigned events)
{
	struct job *j = container_of(f, struct job, rd);
	struct job_msg m;
	size_t used;
	ssize_t r;
	int err;
	char *b;

	(void)events;
	if (!(b = realloc(j->buf, j->len + 65536))) {
		finish(j, NULL, "ended without an answer");     /* here: out of memory */
		return;
	}
	j->buf = b;
	r = read(f->fd, b + j->len, 65536);
	if (r < 0)
		return;                          /* EINTR: again from the loop */
	j->len += (size_t)r;
	err = job_decode(b, j->len, &m, &used);
	if (err == -EAGAIN && r)
		return;
	if (!err && (used != j->len || m.type != j->reply_type))
		err = -EBADMSG;
	if (!err)
		finish(j, &m, "");
	else if (err == -EAGAIN)
		finish(j, NULL, "ended without an answer");
	else
		finish(j, NULL, err == -EPROTO ? "answered in another protocol version"
					       : "sent a malformed answer (refused)");
}

static void dl_cb(struct ev_fd *f, unsigned events)
{
	struct job *j = container_of(f, struct job, dl);
	char why[96];

	(void)events;
	snprintf(why, sizeof(why), "did not answer within %u ms and was killed", j->deadline_ms);
	finish(j, NULL, why);
}

/* ------------------------------------------------------------ privileges */

int job_user(uid_t *uid, gid_t *gid)
{
	const char *n = getenv("DSA_JOB_USER");
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;                        /* nothing to drop */
	if (usr_ok < 0) {
		n = n && *n ? n : JOB_USER;
		pw = getpwnam(n);
		usr_ok = pw && pw->pw_uid && pw->pw_gid;
		if (usr_ok) {
			usr_uid = pw->pw_uid;
			usr_gid = pw->pw_gid;
		} else {
			log_warn("job", "no user '%s': job processes run as root; install the package or "
				 "create the user", n);
		}
	}
	*uid = usr_uid;
	*gid = usr_gid;
	return usr_ok;
}

void job_grant(const char *path)
{
	struct stat st;
	uid_t u;
	gid_t g;

	/* root's own file the job user cannot read: group-readable by its group, nothing else */
	if (job_user(&u, &g) && stat(path, &st) == 0 && S_ISREG(st.st_mode) && !st.st_uid &&
	    !(st.st_mode & S_IROTH) && !(st.st_gid == g && (st.st_mode & S_IRGRP)) &&
	    (sysc_chgrp(path, g) < 0 || chmod(path, (st.st_mode & 0700) | S_IRGRP) < 0))
		log_warn("job", "%s: %s: chgrp %u and chmod g+r it for the job processes", path, strerror(errno),
			 (unsigned)g);
}

/* In the child: the job user for good, and root cannot be had back (0 or -1). */
static int drop(uid_t u, gid_t g)
{
	return sysc_setgroup1(g) || sysc_setresgid(g, g, g) || sysc_setresuid(u, u, u) || geteuid() != u ||
	       !sysc_setresuid(0, 0, 0) ? -1 : 0;
}

int job_start(struct job **out, const struct job_buf *req, unsigned reply_type,
	      uint32_t deadline_ms, job_done_cb cb, void *arg)
{
	struct itimerspec its = { .it_value = { deadline_ms / 1000, (long)(deadline_ms % 1000) * 1000000 } };
	struct job *j = calloc(1, sizeof(*j));
	int in = -1, p[2] = { -1, -1 }, err;
	char *argv[] = { (char *)exe, (char *)"--job", NULL };
	uid_t uid;
	gid_t gid;
	bool as_user;

	if (getenv("DSA_JOB")) {
		free(j);
		return -EPERM;                   /* a job process starts none (no recursion) */
	}
	if (!j)
		return -ENOMEM;
	j->rd.fd = j->dl.fd = -1;
	/* the answer's pipe stays blocking: it is read once per readiness. The
	 * memfd is not close-on-exec: when the agent runs with stdin closed it
	 * is fd 0 itself, which dup2 leaves as it is (it is closed in the agent
	 * right after the fork; nothing else runs in between) */
	in = sysc_memfd_create("job", 0);
	if (in < 0 || write_all(in, req->p, req->len) < 0 || sysc_pipe2(p, O_CLOEXEC) < 0 ||
	    (j->dl.fd = sysc_timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0 ||
	    timerfd_settime(j->dl.fd, 0, &its, NULL) < 0)
		goto fail;
	as_user = job_user(&uid, &gid);
	j->pid = fork();
	if (j->pid < 0)
		goto fail;
	if (j->pid == 0) {
		if (dup2(in, 0) == 0 && dup2(p[1], 1) == 1 && setenv("DSA_JOB", "1", 1) == 0) {
			for (int fd = 3; fd < 1024; fd++)    /* nothing of the agent's but stderr */
				close(fd);
			if (sysc_no_new_privs() == 0 && (!as_user || drop(uid, gid) == 0))
				execv(exe, argv);
		}
		_exit(127);
	}
	close(in);
	close(p[1]);
	j->rd.fd = p[0];
	j->rd.cb = rd_cb;
	j->dl.cb = dl_cb;
	j->reply_type = reply_type;
	j->deadline_ms = deadline_ms;
	j->cb = cb;
	j->arg = arg;
	j->next = jobs;
	jobs = j;
	ev_clock_hold(true);
	if ((err = ev_fd_add(&j->rd, EV_READ)) < 0 || (err = ev_fd_add(&j->dl, EV_READ)) < 0) {
		job_free(j);
		return err;
	}
	*out = j;
	return 0;
fail:
	err = -errno;
	close(in);
	close(p[0]);
	close(p[1]);
	close(j->dl.fd);
	free(j);
	return err ? err : -EIO;
}

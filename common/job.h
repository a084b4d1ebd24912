/* job.h - short-lived job processes spoken to over a checked pipe.
 *
 * The resident daemon keeps libcurl, libxml2 and libsrtp2 (and the ~40
 * libraries under them) out of its own address space: a fetch, an upload, a
 * config parse or the self-test's SRTP check runs in a child, the agent's
 * own executable started again in job mode ("/proc/self/exe --job", the same
 * build even after an upgrade replaced the file). The request goes in as one message on the child's
 * stdin (a memfd: writing it never blocks), the answer comes back as one
 * message on a pipe read from the loop; a deadline (a timerfd, real time)
 * kills the child; the child is always reaped. The child's bytes are not
 * trusted: every message is checked against one table of types, each with a
 * fixed list of fields, every length bounded (docs: DESIGN.md "Resident core").
 *
 * Wire format (version 1): "DJ", version, type, u32 payload length (LE),
 * then the type's fields in order, each a u32 length (LE) and that many
 * bytes. A 'u' field is exactly 4 bytes (LE); an 's' field a string with
 * its NUL (no NUL before it, at most JOB_MAX_STR with it); a 'b' field any
 * bytes ending in one NUL. The length counts the NUL: decoded fields are C
 * strings in place.
 */
#ifndef DSA_COMMON_JOB_H
#define DSA_COMMON_JOB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JOB_VERSION     1
#define JOB_HDR         8
#define JOB_MAX_FIELDS  17
#define JOB_MAX_STR     4096u                  /* an 's' field, with its NUL */
#define JOB_MAX_MSG     (640u * 1024u)         /* a payload: two 256 KiB configs and the rest */

enum job_type {
	JOB_HTTP = 1,        /* an HTTPS GET, PUT, HEAD or handshake (provisioning/fetch.c) */
	JOB_HTTP_REPLY,
	JOB_PARSE,           /* a config bundle to parse and check (provisioning/prov.c) */
	JOB_PARSE_REPLY,
	JOB_SRTP,            /* the self-test's SRTP known-answer check (diag/chk_srtp.c) */
	JOB_SRTP_REPLY,
	JOB_NTYPES,
};

struct job_field {
	const char *p;       /* p[len - 1] == '\0' */
	uint32_t len;        /* with the NUL ('u': 4, no NUL) */
};

struct job_msg {
	unsigned type;
	unsigned n;
	struct job_field f[JOB_MAX_FIELDS];
};

/* A message being built (grows on the heap). */
struct job_buf {
	char *p;
	size_t len, cap;
	int err;             /* first failure (-ENOMEM, -EMSGSIZE): job_end says it */
};

/* Start a message of type t in b (b zeroed or ended). */
void job_begin(struct job_buf *b, unsigned t);

/* Append a 'u' field. */
void job_put_u32(struct job_buf *b, uint32_t v);

/* Append an 's' or 'b' field: len bytes of p and a NUL (p NULL: ""). */
void job_put(struct job_buf *b, const void *p, size_t len);

/* Append an 's' field from a C string (NULL: ""). */
void job_put_str(struct job_buf *b, const char *s);

/* Finish the message: fill in its length and check it as the reader will.
 * 0 or -ENOMEM / -EMSGSIZE / -EBADMSG (the buffer is freed on failure). */
int job_end(struct job_buf *b);

/* Free b's buffer. */
void job_buf_free(struct job_buf *b);

/* Decode the message at the start of buf: 0 with m filled (pointing into
 * buf) and *used its size; -EAGAIN when buf holds only part of a message
 * that could still be valid; -EPROTO for another version; -EBADMSG for
 * anything else (unknown type, a field count, length or NUL out of place,
 * bytes left over inside the message). */
int job_decode(const char *buf, size_t len, struct job_msg *m, size_t *used);

/* Field i of m as a 'u' value. */
uint32_t job_u32(const struct job_msg *m, unsigned i);

/* Handles one request in the child: the answer into reply (job_begin ..
 * job_end), 0 or -errno. */
typedef int (*job_handler)(const struct job_msg *req, struct job_buf *reply);

/* The child's main: one request from stdin, handled, the answer to stdout.
 * Returns the exit status. */
int job_main(job_handler h);

struct job;

/* The answer (reply NULL when there is none: why names the cause: crashed,
 * killed at the deadline, a malformed or unexpected message). */
typedef void (*job_done_cb)(const struct job_msg *reply, const char *why, void *arg);

/* Run the request req (ended) in a child; cb runs from the loop exactly
 * once unless job_cancel. The child is killed after deadline_ms (real time).
 * 0 or -errno. */
int job_start(struct job **out, const struct job_buf *req, unsigned reply_type,
	      uint32_t deadline_ms, job_done_cb cb, void *arg);

/* Kill and reap the child; the callback never runs. NULL is fine. */
void job_cancel(struct job *j);

/* A child ended (the daemon's SIGCHLD reaper): record its status if it is a
 * job's; whether it was. */
int job_exited(pid_t pid, int status);

/* The user the job processes run as when the agent runs as root:
 * DSA_JOB_USER, else JOB_USER; its primary group may read the device key. */
#ifndef JOB_USER
#define JOB_USER "dialstack"
#endif

/* Whether the children drop to the job user: 1 with its *uid and *gid (the
 * agent runs as root and the user exists), else 0 (not root: nothing to
 * drop; no such user: they run as root, said once in the log). Looked
 * up once (job_set_exe forgets it). */
int job_user(uid_t *uid, gid_t *gid);

/* Make the file at path (the device key, certificate, CA) readable by the
 * job user's group when it is root's and that user cannot read it: group
 * set, g+r, no other bit changed. Nothing when job_user says 0. */
void job_grant(const char *path);

/* The executable to run in job mode (default /proc/self/exe); the job
 * user is looked up again at the next start (tests). */
void job_set_exe(const char *path);

/* Children running now. */
unsigned job_count(void);

#endif

/* resolv.c - DNS on c-ares driven by the loop, RFC 3263 for registrars; see resolv.h.
 *
 * Why c-ares: it is the resolver curl uses, packaged everywhere (Debian
 * libc-ares2, OpenWrt libcares), small, fuzzed upstream, and does what a
 * hand-written client gets wrong: resolv.conf and hosts parsing, search
 * domains, CNAME chains, TCP on truncation, NAPTR/SRV parsing. It exposes its
 * sockets (ares_sock_state_cb) so it runs on our epoll loop without threads.
 */
#include "config.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ev.h"
#include "common/log.h"
#include "common/resolv.h"
#include "common/util.h"

#define RSV_FDS          8
#define RSV_TRY_MIN_MS   200u
#define RSV_TRY_MAX_MS   5000u
#define RSV_TRIES_MAX    4u
#define ARES_NEVER_MS    3600000    /* c-ares's own timeout: never reached, our timers decide */
#define SIP_MAX_SRVQ     3          /* SRV names asked per registrar */
#define SIP_MAX_HOSTS    6          /* SRV targets looked up per registrar */

enum { FAM_V4 = 0, FAM_V6, FAM_N };

struct rsv_req_ctx {
	struct rsv_query *q;
	int fam;
};

struct rsv_query {
	rsv_cb cb;
	void *arg;
	enum rsv_type type;
	char name[RSV_NAME_MAX];
	ares_channel ch;
	bool have_ch;
	bool files_only;              /* no name server: hosts file only */
	struct rsv_slot {
		struct ev_fd w;
		struct rsv_query *q;
	} fds[RSV_FDS];
	struct ev_timer t_ares;       /* c-ares's own bookkeeping */
	struct ev_timer t_try;        /* our retry / give-up timer */
	struct ev_timer t_done;       /* report from the loop */
	unsigned try_ms, tries, tried, sent;
	unsigned outstanding;         /* c-ares requests not answered yet */
	int family, prefer;
	bool want[FAM_N], done[FAM_N];
	struct rsv_req_ctx reqs[FAM_N];
	bool finished, in_cb;
	int last_err;
	struct rsv_result res;
};

static bool lib_ok;

const char *rsv_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case -ENOENT: return "name not found (NXDOMAIN): check the name and the DNS server";
	case -ENODATA: return "the name has no record of the type asked (no address / SRV / NAPTR)";
	case -ETIMEDOUT: return "no answer from the DNS servers: check they are reachable";
	case -ENXIO: return "no DNS server configured (empty resolv.conf): check the DHCP server's DNS option";
	case -EBADMSG: return "broken answer from the DNS server";
	case -EIO: return "the DNS server failed (SERVFAIL): check the DNS server";
	case -ECONNREFUSED: return "the DNS server refused the query or is unreachable";
	case -EINVAL: return "not a valid host name";
	default: return strerror(-err);
	}
}

uint32_t rsv_ttl_clamp(uint32_t ttl)
{
	return ttl < RSV_TTL_MIN ? RSV_TTL_MIN : ttl > RSV_TTL_MAX ? RSV_TTL_MAX : ttl;
}

int rsv_default_port(enum rsv_tp tp)
{
	return tp == RSV_TP_TLS ? 5061 : 5060;
}

static int ares_errno(int status)
{
	switch (status) {
	case ARES_SUCCESS: return 0;
	case ARES_ENOTFOUND: return -ENOENT;
	case ARES_ENODATA: return -ENODATA;
	case ARES_ESERVFAIL: return -EIO;
	case ARES_EREFUSED:
	case ARES_ECONNREFUSED: return -ECONNREFUSED;
	case ARES_ETIMEOUT: return -ETIMEDOUT;
	case ARES_EFORMERR:
	case ARES_EBADRESP: return -EBADMSG;
	case ARES_EBADNAME:
	case ARES_EBADFAMILY: return -EINVAL;
	case ARES_ENOMEM: return -ENOMEM;
	default: return -EIO;
	}
}

/* ------------------------------------------------------------ pure parsing */

/* Skip a possibly compressed name at *off (the pointer ends it); bounded. */
static int skip_name(const unsigned char *m, size_t len, size_t *off)
{
	size_t o = *off;
	int labels;

	for (labels = 0; labels < 128 && o < len; labels++) {
		unsigned l = m[o];

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

int rsv_msg_ttl(const unsigned char *msg, size_t len, uint32_t *ttl)
{
	size_t off = 12;
	unsigned qd, an, i;
	uint32_t min = UINT32_MAX;

	if (!msg || len < 12)
		return -EBADMSG;
	qd = (unsigned)msg[4] << 8 | msg[5];
	an = (unsigned)msg[6] << 8 | msg[7];
	for (i = 0; i < qd; i++) {
		if (skip_name(msg, len, &off) || off + 4 > len)
			return -EBADMSG;
		off += 4;
	}
	for (i = 0; i < an; i++) {
		uint32_t t;
		size_t rdlen;

		if (skip_name(msg, len, &off) || off + 10 > len)
			return -EBADMSG;
		t = (uint32_t)msg[off + 4] << 24 | (uint32_t)msg[off + 5] << 16 |
		    (uint32_t)msg[off + 6] << 8 | msg[off + 7];
		if (t > INT32_MAX)
			t = 0;    /* RFC 2181 8: a TTL with the top bit set means zero */
		rdlen = (size_t)msg[off + 8] << 8 | msg[off + 9];
		off += 10;
		if (off + rdlen > len)
			return -EBADMSG;
		off += rdlen;
		if (t < min)
			min = t;
	}
	*ttl = rsv_ttl_clamp(an ? min : 0);
	return 0;
}

int rsv_parse(enum rsv_type type, const unsigned char *msg, size_t len, struct rsv_result *r)
{
	int st, err;

	r->n = 0;
	if (!msg || len < 12 || len > 65535)
		return -EBADMSG;
	err = rsv_msg_ttl(msg, len, &r->ttl);
	if (err)
		return err;
	if (type == RSV_SRV) {
		struct ares_srv_reply *head = NULL, *s;

		st = ares_parse_srv_reply(msg, (int)len, &head);
		if (st != ARES_SUCCESS)
			return ares_errno(st);
		for (s = head; s && r->n < RSV_MAX_RR; s = s->next) {
			struct rsv_srv *o = &r->srv[r->n];

			if (!s->host || utl_strlcpy(o->target, s->host, sizeof(o->target)) < 0)
				continue;
			o->prio = s->priority;
			o->weight = s->weight;
			o->port = s->port;
			r->n++;
		}
		ares_free_data(head);
	} else if (type == RSV_NAPTR) {
		struct ares_naptr_reply *head = NULL, *s;

		st = ares_parse_naptr_reply(msg, (int)len, &head);
		if (st != ARES_SUCCESS)
			return ares_errno(st);
		for (s = head; s && r->n < RSV_MAX_RR; s = s->next) {
			struct rsv_naptr *o = &r->naptr[r->n];

			if (!s->flags || !s->service || !s->replacement ||
			    utl_strlcpy(o->flags, (const char *)s->flags, sizeof(o->flags)) < 0 ||
			    utl_strlcpy(o->service, (const char *)s->service, sizeof(o->service)) < 0 ||
			    utl_strlcpy(o->replacement, s->replacement, sizeof(o->replacement)) < 0)
				continue;
			o->order = s->order;
			o->pref = s->preference;
			r->n++;
		}
		ares_free_data(head);
	} else {
		return -EINVAL;
	}
	return r->n ? 0 : -ENODATA;
}

/* ------------------------------------------------------------ pure ordering */

static uint32_t rng_default(uint32_t bound, void *arg)
{
	(void)arg;
	return bound <= 1 ? 0 : utl_random_range(0, bound - 1);
}

size_t rsv_srv_order(struct rsv_srv *rr, size_t n, rsv_rng rng, void *rng_arg)
{
	size_t i, j, k, start;

	if (!rng)
		rng = rng_default;
	/* drop "." (service not offered here) */
	for (i = j = 0; i < n; i++)
		if (rr[i].target[0] && strcmp(rr[i].target, "."))
			rr[j++] = rr[i];
	n = j;
	/* stable sort by priority, weight 0 first inside a priority (RFC 2782) */
	for (i = 1; i < n; i++) {
		struct rsv_srv x = rr[i];

		for (j = i; j > 0 && (rr[j - 1].prio > x.prio ||
				      (rr[j - 1].prio == x.prio && rr[j - 1].weight && !x.weight)); j--)
			rr[j] = rr[j - 1];
		rr[j] = x;
	}
	/* within each priority: pick by running sum of weights, one at a time */
	for (start = 0; start < n; start = k) {
		for (k = start; k < n && rr[k].prio == rr[start].prio; k++)
			;
		for (i = start; i + 1 < k; i++) {
			uint32_t sum = 0, r, run = 0;

			for (j = i; j < k; j++)
				sum += rr[j].weight;
			/* RFC 2782 draws from [0, sum]; 0 always takes the first record, which is
			 * how weight-0 records get their small chance. With none left, draw from
			 * [1, sum] so the choice is exactly proportional to the weights. */
			if (!sum || !rr[i].weight)
				r = rng(sum + 1, rng_arg);
			else
				r = 1 + rng(sum, rng_arg);
			if (r > sum)
				r = sum;
			for (j = i; j < k; j++) {
				run += rr[j].weight;
				if (run >= r)
					break;
			}
			if (j >= k)
				j = k - 1;
			if (j != i) {
				struct rsv_srv x = rr[j];

				memmove(&rr[i + 1], &rr[i], (j - i) * sizeof(rr[0]));
				rr[i] = x;
			}
		}
	}
	return n;
}

size_t rsv_naptr_pick(const struct rsv_naptr *rr, size_t n, unsigned tp_mask, size_t *idx,
		      enum rsv_tp *tp, size_t max)
{
	static const struct { char svc[9]; unsigned char tp; } svcs[] = {   /* no pointers */
		{ "SIP+D2U", RSV_TP_UDP }, { "SIP+D2T", RSV_TP_TCP }, { "SIPS+D2T", RSV_TP_TLS },
	};
	size_t i, j, m = 0;

	for (i = 0; i < n && m < max; i++) {
		if (strcasecmp(rr[i].flags, "s") || !rr[i].replacement[0] || !strcmp(rr[i].replacement, "."))
			continue;
		for (j = 0; j < ARRAY_SIZE(svcs); j++)
			if (!strcasecmp(rr[i].service, svcs[j].svc) && (tp_mask & (1u << svcs[j].tp)))
				break;
		if (j == ARRAY_SIZE(svcs))
			continue;
		/* insert keeping (order, pref) sorted, stable */
		{
			size_t p = m;

			while (p > 0 && (rr[idx[p - 1]].order > rr[i].order ||
					 (rr[idx[p - 1]].order == rr[i].order && rr[idx[p - 1]].pref > rr[i].pref))) {
				idx[p] = idx[p - 1];
				tp[p] = tp[p - 1];
				p--;
			}
			idx[p] = i;
			tp[p] = svcs[j].tp;
			m++;
		}
	}
	return m;
}

static int v4_scope(const unsigned char *b)
{
	if (b[0] == 127 || b[0] == 0)
		return 3;
	if (b[0] == 169 && b[1] == 254)
		return 2;
	if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
	    (b[0] == 100 && (b[1] & 0xc0) == 64))
		return 1;
	return 0;
}

/* 0 global, 1 private/ULA/CGN, 2 link-local, 3 loopback/unspecified; *fam the family
 * that counts (IPv4-mapped IPv6 is IPv4). */
static int addr_scope(const struct sockaddr_storage *a, int *fam)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char zero[15];
	const unsigned char *b;

	if (a->ss_family != AF_INET6) {
		*fam = AF_INET;
		return v4_scope((const unsigned char *)&((const struct sockaddr_in *)a)->sin_addr);
	}
	b = ((const struct sockaddr_in6 *)a)->sin6_addr.s6_addr;
	if (!memcmp(b, mapped, 12)) {
		*fam = AF_INET;
		return v4_scope(b + 12);
	}
	*fam = AF_INET6;
	if (!memcmp(b, zero, 15) && b[15] <= 1)
		return 3;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return 2;
	if ((b[0] & 0xfe) == 0xfc)
		return 1;
	return 0;
}

void rsv_addr_order(struct sockaddr_storage *a, size_t n, int prefer)
{
	struct sockaddr_storage tmp[RSV_MAX_TARGETS];
	size_t i, j, start, k;

	if (n > RSV_MAX_TARGETS)
		n = RSV_MAX_TARGETS;
	if (prefer != AF_INET)
		prefer = AF_INET6;
	/* stable by scope */
	for (i = 1; i < n; i++) {
		struct sockaddr_storage x = a[i];
		int f, sx = addr_scope(&x, &f);

		for (j = i; j > 0 && addr_scope(&a[j - 1], &f) > sx; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
	/* inside a scope, alternate families starting with the preferred one (RFC 8305 4) */
	for (start = 0; start < n; start = k) {
		size_t np = 0, no = 0, ip = 0, io = 0, m = 0;
		struct sockaddr_storage pref[RSV_MAX_TARGETS], oth[RSV_MAX_TARGETS];
		int f, s0 = addr_scope(&a[start], &f);

		for (k = start; k < n && addr_scope(&a[k], &f) == s0; k++) {
			if (f == prefer)
				pref[np++] = a[k];
			else
				oth[no++] = a[k];
		}
		while (ip < np || io < no) {
			if (ip < np)
				tmp[m++] = pref[ip++];
			if (io < no)
				tmp[m++] = oth[io++];
		}
		memcpy(&a[start], tmp, m * sizeof(a[0]));
	}
}

/* ------------------------------------------------------------ lookups on the loop */

#define RESOLUTION_DELAY_MS 50    /* RFC 8305 3: wait this long for the second family */

static void finish(struct rsv_query *q, int err);

static void ares_tick_update(struct rsv_query *q)
{
	struct timeval tv, *tvp;

	if (!q->have_ch)
		return;
	tvp = ares_timeout(q->ch, NULL, &tv);
	if (tvp)
		ev_timer_set_us(&q->t_ares, (uint64_t)tvp->tv_sec * 1000000u + (uint64_t)tvp->tv_usec);
	else
		ev_timer_cancel(&q->t_ares);
}

static void on_ares_tick(struct ev_timer *t)
{
	struct rsv_query *q = container_of(t, struct rsv_query, t_ares);

	if (!q->have_ch)
		return;
	ares_process_fd(q->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	ares_tick_update(q);
}

static void on_fd(struct ev_fd *f, unsigned events)
{
	struct rsv_slot *s = container_of(f, struct rsv_slot, w);
	struct rsv_query *q = s->q;
	int fd = f->fd;

	if (!q->have_ch)
		return;
	ares_process_fd(q->ch, (events & (EV_READ | EV_ERROR)) ? fd : ARES_SOCKET_BAD,
			(events & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	ares_tick_update(q);
}

/* c-ares opens, changes or closes a socket: mirror it in our watchers. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct rsv_query *q = data;
	struct rsv_slot *s = NULL, *free_slot = NULL;
	size_t i;

	for (i = 0; i < RSV_FDS; i++) {
		if (q->fds[i].w.fd == fd)
			s = &q->fds[i];
		else if (q->fds[i].w.fd < 0 && !free_slot)
			free_slot = &q->fds[i];
	}
	if (!readable && !writable) {
		if (s) {
			ev_fd_del(&s->w);
			s->w.fd = -1;
		}
		return;
	}
	if (!s) {
		if (!free_slot) {
			log_warn("dns", "more than %d DNS sockets for one lookup: one is not watched", RSV_FDS);
			return;
		}
		s = free_slot;
		s->w.fd = fd;
	}
	if (ev_fd_add(&s->w, (readable ? EV_READ : 0u) | (writable ? EV_WRITE : 0u)) < 0)
		log_warn("dns", "cannot watch a DNS socket");
}

static void close_channel(struct rsv_query *q)
{
	size_t i;

	if (q->have_ch) {
		q->have_ch = false;
		ares_destroy(q->ch);    /* outstanding callbacks run with ARES_EDESTRUCTION */
	}
	for (i = 0; i < RSV_FDS; i++)
		if (q->fds[i].w.fd >= 0) {
			ev_fd_del(&q->fds[i].w);
			q->fds[i].w.fd = -1;
		}
	ev_timer_cancel(&q->t_ares);
	ev_timer_cancel(&q->t_try);
	ev_timer_cancel(&q->t_done);
}

static void finish(struct rsv_query *q, int err)
{
	if (q->finished)
		return;
	q->finished = true;
	q->res.err = err;
	if (!err && q->type == RSV_ADDR)
		rsv_addr_order(q->res.addr, q->res.n, q->prefer);
	q->res.ttl = rsv_ttl_clamp(q->res.ttl);
	ev_timer_cancel(&q->t_try);
	ev_timer_set(&q->t_done, 0);    /* report from the loop, outside c-ares */
}

static void q_report(struct ev_timer *t)
{
	struct rsv_query *q = container_of(t, struct rsv_query, t_done);

	close_channel(q);
	q->in_cb = true;
	q->cb(q, &q->res, q->arg);
	free(q);
}

static bool definitive(int err)
{
	return err == -ENOENT || err == -ENODATA || err == -EINVAL || err == -ENOMEM || err == -EBADMSG;
}

static void add_addr(struct rsv_query *q, const struct sockaddr *sa, size_t len, int ttl)
{
	struct sockaddr_storage ss;
	size_t i;

	if (q->res.n >= RSV_MAX_ADDR || len > sizeof(ss) ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, len);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	for (i = 0; i < q->res.n; i++)
		if (!memcmp(&q->res.addr[i], &ss, sizeof(ss)))
			return;
	q->res.addr[q->res.n++] = ss;
	if (ttl >= 0 && (uint32_t)ttl < q->res.ttl)
		q->res.ttl = (uint32_t)ttl;
}

static void q_try(struct rsv_query *q);

/* A failure that another server may not have (SERVFAIL, REFUSED, unreachable):
 * ask the next server now rather than at the end of the try; give up when the
 * tries are spent and nothing is outstanding. */
static void tentative(struct rsv_query *q, int err)
{
	if (!definitive(q->last_err))
		q->last_err = err;
	if (q->tried < q->tries)
		q_try(q);
	else if (!q->outstanding)
		finish(q, q->res.n ? 0 : q->last_err);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct rsv_req_ctx *r = arg;
	struct rsv_query *q = r->q;
	int err = ares_errno(status), f;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
		ares_freeaddrinfo(ai);
		return;
	}
	q->outstanding--;
	if (q->finished || q->done[r->fam]) {
		ares_freeaddrinfo(ai);
		return;
	}
	if (q->files_only && err)
		err = -ENOENT;    /* not in the hosts file (c-ares says ECONNREFUSED), and no server */
	if (!err && ai) {
		struct ares_addrinfo_node *nd;

		for (nd = ai->nodes; nd; nd = nd->ai_next)
			if (nd->ai_addr)
				add_addr(q, nd->ai_addr, nd->ai_addrlen, nd->ai_ttl);
		q->done[r->fam] = true;
	} else if (definitive(err)) {
		q->done[r->fam] = true;
		if (err == -ENOENT)    /* the name does not exist: no other family either */
			q->done[FAM_V4] = q->done[FAM_V6] = true;
		if (q->last_err != -ENOENT)
			q->last_err = err;
	} else {
		ares_freeaddrinfo(ai);
		tentative(q, err);
		return;
	}
	ares_freeaddrinfo(ai);
	for (f = 0; f < FAM_N; f++)
		if (q->want[f] && !q->done[f])
			break;
	if (f == FAM_N) {
		if (q->res.n)
			finish(q, 0);
		else if (q->files_only && (q->last_err == -ENOENT || q->last_err == -ENODATA))
			finish(q, -ENXIO);
		else
			finish(q, q->last_err ? q->last_err : -ENODATA);
	} else if (q->res.n) {
		/* one family answered: give the other RESOLUTION_DELAY_MS, not a whole try */
		if (ev_timer_remaining_ms(&q->t_try) > RESOLUTION_DELAY_MS)
			ev_timer_set(&q->t_try, RESOLUTION_DELAY_MS);
	}
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct rsv_query *q = arg;
	int err = ares_errno(status);

	(void)timeouts;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED)
		return;
	q->outstanding--;
	if (q->finished)
		return;
	if (!err)
		err = abuf && alen > 0 ? rsv_parse(q->type, abuf, (size_t)alen, &q->res) : -EBADMSG;
	if (!err || definitive(err)) {
		finish(q, err);
		return;
	}
	tentative(q, err);
}

static void q_try(struct rsv_query *q)
{
	static const int fams[FAM_N] = { AF_INET, AF_INET6 };
	int f;

	q->tried++;
	if (q->type == RSV_ADDR) {
		for (f = 0; f < FAM_N && !q->finished; f++) {
			struct ares_addrinfo_hints h;

			if (!q->want[f] || q->done[f])
				continue;
			memset(&h, 0, sizeof(h));
			h.ai_family = fams[f];
			h.ai_flags = ARES_AI_NOSORT | ARES_AI_ENVHOSTS;
			q->sent++;
			q->outstanding++;
			ares_getaddrinfo(q->ch, q->name, NULL, &h, on_addrinfo, &q->reqs[f]);
		}
	} else {
		q->sent++;
		q->outstanding++;
		ares_query(q->ch, q->name, 1 /* IN */, q->type == RSV_SRV ? 33 : 35, on_answer, q);
	}
	if (q->finished)
		return;    /* answered at once (hosts file) */
	ev_timer_set(&q->t_try, q->try_ms + utl_random_range(0, q->try_ms / 10));
	ares_tick_update(q);
}

static void on_try(struct ev_timer *t)
{
	struct rsv_query *q = container_of(t, struct rsv_query, t_try);

	if (q->type == RSV_ADDR && q->res.n) {
		finish(q, 0);    /* the other family is late: go with what we have */
		return;
	}
	if (q->tried < q->tries) {
		q_try(q);
		return;
	}
	finish(q, q->last_err ? q->last_err : -ETIMEDOUT);
}

/* An IP literal ("192.0.2.1", "2001:db8::1", "[2001:db8::1]"); port 0. */
static bool literal(const char *host, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char tmp[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return true;
	}
	if (n > 2 && n < sizeof(tmp) && host[0] == '[' && host[n - 1] == ']') {
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = '\0';
		host = tmp;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

/* Whether resolv.conf names at least one server (c-ares would quietly use 127.0.0.1). */
static bool has_nameserver(const char *path)
{
	char *data = NULL, *line, *save = NULL;
	size_t len;
	bool found = false;

	if (utl_read_file(path, 64 * 1024, &data, &len) != 0)
		return false;
	for (line = strtok_r(data, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		found = !strncmp(line, "nameserver", 10) && (line[10] == ' ' || line[10] == '\t');
	}
	free(data);
	return found;
}

static unsigned clampu(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The channel: resolv.conf read by c-ares, our timing, sockets on the loop. */
static int q_open(struct rsv_query *q, const struct rsv_opts *o, bool hosts_only)
{
	const char *path = o && o->resolv_conf ? o->resolv_conf :
			   getenv("DSA_RESOLV_CONF") ? getenv("DSA_RESOLV_CONF") : "/etc/resolv.conf";
	struct ares_options ao;
	ares_channel ch;
	const char *servers;
	unsigned tmo = 0, tries = 0;
	int mask, st;

	if (getenv("DSA_HOSTS"))
		setenv("CARES_HOSTS", getenv("DSA_HOSTS"), 1);    /* read by c-ares (ARES_AI_ENVHOSTS) */
	/* first pass: what resolv.conf says about timing (options timeout: attempts:) */
	memset(&ao, 0, sizeof(ao));
	ao.resolvconf_path = (char *)path;
	if (ares_init_options(&ch, &ao, ARES_OPT_RESOLVCONF) == ARES_SUCCESS) {
		struct ares_options so;
		int sm = 0;

		if (ares_save_options(ch, &so, &sm) == ARES_SUCCESS) {
			tmo = so.timeout > 0 ? (unsigned)so.timeout : 0;
			tries = so.tries > 0 ? (unsigned)so.tries : 0;
			ares_destroy_options(&so);
		}
		ares_destroy(ch);
	}
	if (o && o->timeout_ms)
		tmo = o->timeout_ms;
	if (o && o->tries)
		tries = o->tries;
	q->try_ms = clampu(tmo ? tmo : 2000, RSV_TRY_MIN_MS, RSV_TRY_MAX_MS);
	q->tries = clampu(tries ? tries : 2, 1, RSV_TRIES_MAX);
	servers = o && o->servers ? o->servers : getenv("DSA_DNS_SERVERS");
	q->files_only = hosts_only || (!servers && !has_nameserver(path));

	memset(&ao, 0, sizeof(ao));
	ao.resolvconf_path = (char *)path;
	ao.timeout = ARES_NEVER_MS;
	ao.tries = 1;
	ao.sock_state_cb = sock_state;
	ao.sock_state_cb_data = q;
	/* NOCHECKRESP: SERVFAIL and REFUSED come to us (named in the error, retried by us) */
	ao.flags = ARES_FLAG_NOCHECKRESP;
	mask = ARES_OPT_RESOLVCONF | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
	       ARES_OPT_ROTATE | ARES_OPT_FLAGS;
	if (q->files_only) {
		ao.lookups = (char *)"f";
		mask |= ARES_OPT_LOOKUPS;
	}
	st = ares_init_options(&q->ch, &ao, mask);
	if (st != ARES_SUCCESS)
		return st == ARES_ENOMEM ? -ENOMEM : -EIO;
	q->have_ch = true;
	if (servers && !hosts_only && ares_set_servers_ports_csv(q->ch, servers) != ARES_SUCCESS)
		return -EINVAL;
	return 0;
}

/* A lookup; hosts_only: the hosts file alone (no server is asked). */
static int lookup(const char *name, enum rsv_type type, const struct rsv_opts *o, bool hosts_only,
		  rsv_cb cb, void *arg, struct rsv_query **out)
{
	struct rsv_query *q;
	size_t nl, i;
	int err, family = o ? o->family : AF_UNSPEC;

	if (!name || !cb || !out || type > RSV_NAPTR)
		return -EINVAL;
	nl = strlen(name);
	if (nl == 0 || nl > 253)
		return -EINVAL;
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return -EINVAL;
	if (!lib_ok) {
		if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
			return -ENOMEM;
		lib_ok = true;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->cb = cb;
	q->arg = arg;
	q->type = type;
	q->family = family;
	q->prefer = o && o->prefer == AF_INET ? AF_INET : AF_INET6;
	q->want[FAM_V4] = family != AF_INET6;
	q->want[FAM_V6] = family != AF_INET;
	memcpy(q->name, name, nl + 1);
	q->res.ttl = UINT32_MAX;
	q->t_ares.cb = on_ares_tick;
	q->t_try.cb = on_try;
	q->t_done.cb = q_report;
	for (i = 0; i < RSV_FDS; i++) {
		q->fds[i].w.fd = -1;
		q->fds[i].w.cb = on_fd;
		q->fds[i].q = q;
	}
	for (i = 0; i < FAM_N; i++) {
		q->reqs[i].q = q;
		q->reqs[i].fam = (int)i;
	}
	if (literal(name, &q->res.addr[0])) {
		*out = q;
		if (type != RSV_ADDR || (family != AF_UNSPEC && q->res.addr[0].ss_family != family)) {
			finish(q, -ENODATA);
			return 0;
		}
		q->res.n = 1;
		q->res.ttl = RSV_TTL_MAX;
		finish(q, 0);
		return 0;
	}
	err = q_open(q, o, hosts_only);
	if (err) {
		close_channel(q);
		free(q);
		return err;
	}
	*out = q;
	if (q->files_only && type != RSV_ADDR) {
		finish(q, -ENXIO);
		return 0;
	}
	q_try(q);
	return 0;
}

int rsv_lookup(const char *name, enum rsv_type type, const struct rsv_opts *o, rsv_cb cb, void *arg,
	       struct rsv_query **out)
{
	return lookup(name, type, o, false, cb, arg, out);
}

void rsv_cancel(struct rsv_query *q)
{
	if (!q || q->in_cb)
		return;
	close_channel(q);
	free(q);
}

unsigned rsv_query_sent(const struct rsv_query *q)
{
	return q ? q->sent : 0;
}

/* ------------------------------------------------------------ RFC 3263 */

enum sip_step { SS_HOSTS = 0, SS_NAPTR, SS_SRV, SS_ADDR, SS_DONE };

struct sip_srvq {
	char name[RSV_NAME_MAX];
	enum rsv_tp tp;
	uint32_t ttl;                 /* of the NAPTR that led here */
	bool naptr;
};

struct sip_host {
	struct rsv_srv rr;            /* target, port, prio, weight */
	enum rsv_tp tp;
	uint32_t ttl;
	const char *via;
};

struct rsv_sip {
	rsv_sip_cb cb;
	void *arg;
	char host[RSV_NAME_MAX];
	unsigned mask;
	enum rsv_tp pref;
	struct rsv_opts o;
	char servers[256], resolv_conf[256];
	enum sip_step step;
	struct rsv_query *q;
	struct sip_srvq srvq[SIP_MAX_SRVQ];
	size_t n_srvq, i_srvq;
	struct sip_host hosts[SIP_MAX_HOSTS];
	size_t n_hosts, i_hosts;
	int last_err;
	bool in_cb;
	struct ev_timer t_done;
	struct rsv_targets res;
};

static void sip_next(struct rsv_sip *s);

static void sip_report(struct ev_timer *t)
{
	struct rsv_sip *s = container_of(t, struct rsv_sip, t_done);

	s->in_cb = true;
	s->cb(s, &s->res, s->arg);
	free(s);
}

static void sip_finish(struct rsv_sip *s)
{
	s->step = SS_DONE;
	s->res.err = s->res.n ? 0 : s->last_err ? s->last_err : -ENODATA;
	ev_timer_set(&s->t_done, 0);
}

static void add_target(struct rsv_sip *s, const struct sockaddr_storage *a, const struct sip_host *h,
		       uint32_t ttl)
{
	struct rsv_target *t;

	if (s->res.n >= RSV_MAX_TARGETS)
		return;
	t = &s->res.t[s->res.n++];
	memset(t, 0, sizeof(*t));
	t->addr = *a;
	if (a->ss_family == AF_INET)
		((struct sockaddr_in *)&t->addr)->sin_port = htons(h->rr.port);
	else
		((struct sockaddr_in6 *)&t->addr)->sin6_port = htons(h->rr.port);
	t->tp = h->tp;
	t->prio = h->rr.prio;
	t->weight = h->rr.weight;
	t->ttl = rsv_ttl_clamp(ttl < h->ttl ? ttl : h->ttl);
	utl_strlcpy(t->host, h->rr.target, sizeof(t->host));
	utl_strlcpy(t->via, h->via, sizeof(t->via));
}

static void sip_on_lookup(struct rsv_query *q, const struct rsv_result *r, void *arg)
{
	struct rsv_sip *s = arg;
	size_t i;

	s->q = NULL;
	if (s->step == SS_HOSTS) {
		/* a name pinned in the hosts file is used as it is, like a literal */
		struct sip_host h;
		int err;

		if (!r->err) {
			memset(&h, 0, sizeof(h));
			utl_strlcpy(h.rr.target, s->host, sizeof(h.rr.target));
			h.rr.port = (uint16_t)rsv_default_port(s->pref);
			h.tp = s->pref;
			h.ttl = RSV_TTL_MAX;
			h.via = "hosts";
			for (i = 0; i < r->n; i++)
				add_target(s, &r->addr[i], &h, r->ttl);
			sip_finish(s);
			return;
		}
		s->step = SS_NAPTR;
		err = rsv_lookup(s->host, RSV_NAPTR, &s->o, sip_on_lookup, s, &s->q);
		if (err) {
			s->q = NULL;
			s->last_err = err;
			sip_finish(s);
		}
		return;
	}
	if (r->err && s->last_err != -ENOENT)
		s->last_err = r->err;
	if (s->step == SS_NAPTR) {
		if (!r->err) {
			size_t idx[SIP_MAX_SRVQ];
			enum rsv_tp tp[SIP_MAX_SRVQ];
			size_t m = rsv_naptr_pick(r->naptr, r->n, s->mask, idx, tp, SIP_MAX_SRVQ);

			for (i = 0; i < m; i++) {
				struct sip_srvq *sq = &s->srvq[s->n_srvq++];

				utl_strlcpy(sq->name, r->naptr[idx[i]].replacement, sizeof(sq->name));
				sq->tp = tp[i];
				sq->ttl = r->ttl;
				sq->naptr = true;
			}
		}
		if (!s->n_srvq) {
			/* RFC 3263 4.1: no usable NAPTR: SRV for each transport, the provisioned first */
			static const char pfx[][12] = { "_sip._udp.", "_sip._tcp.", "_sips._tcp." };
			unsigned seen = 0;
			int k;

			for (k = 0; k < 4 && s->n_srvq < SIP_MAX_SRVQ; k++) {
				enum rsv_tp t = k == 0 ? s->pref : (enum rsv_tp)(k - 1);
				struct sip_srvq *sq;

				if (!(s->mask & (1u << t)) || (seen & (1u << t)))
					continue;
				seen |= 1u << t;
				sq = &s->srvq[s->n_srvq];
				if (snprintf(sq->name, sizeof(sq->name), "%s%s", pfx[t], s->host) >=
				    (int)sizeof(sq->name))
					continue;
				sq->tp = t;
				sq->ttl = RSV_TTL_MAX;
				sq->naptr = false;
				s->n_srvq++;
			}
		}
		s->step = SS_SRV;
	} else if (s->step == SS_SRV) {
		const struct sip_srvq *sq = &s->srvq[s->i_srvq++];

		if (!r->err) {
			struct rsv_srv rr[RSV_MAX_RR];
			size_t n;

			memcpy(rr, r->srv, r->n * sizeof(rr[0]));
			n = rsv_srv_order(rr, r->n, NULL, NULL);
			for (i = 0; i < n && s->n_hosts < SIP_MAX_HOSTS; i++) {
				struct sip_host *h = &s->hosts[s->n_hosts++];

				h->rr = rr[i];
				h->tp = sq->tp;
				h->ttl = r->ttl < sq->ttl ? r->ttl : sq->ttl;
				h->via = sq->naptr ? "NAPTR" : "SRV";
			}
		}
		if (s->i_srvq >= s->n_srvq) {
			if (!s->n_hosts) {
				/* RFC 3263 4.2: no SRV: the name's addresses on the transport's port */
				struct sip_host *h = &s->hosts[s->n_hosts++];

				memset(h, 0, sizeof(*h));
				utl_strlcpy(h->rr.target, s->host, sizeof(h->rr.target));
				h->rr.port = (uint16_t)rsv_default_port(s->pref);
				h->tp = s->pref;
				h->ttl = RSV_TTL_MAX;
				h->via = "A/AAAA";
			}
			s->step = SS_ADDR;
		}
	} else if (s->step == SS_ADDR) {
		const struct sip_host *h = &s->hosts[s->i_hosts++];

		for (i = 0; i < r->n && !r->err; i++)
			add_target(s, &r->addr[i], h, r->ttl);
	}
	(void)q;
	sip_next(s);
}

/* Start the next lookup of the current step, or finish. */
static void sip_next(struct rsv_sip *s)
{
	const char *name;
	enum rsv_type type;
	int err;

	for (;;) {
		if (s->step == SS_SRV && s->i_srvq < s->n_srvq) {
			name = s->srvq[s->i_srvq].name;
			type = RSV_SRV;
		} else if (s->step == SS_ADDR && s->i_hosts < s->n_hosts && s->res.n < RSV_MAX_TARGETS) {
			name = s->hosts[s->i_hosts].rr.target;
			type = RSV_ADDR;
		} else if (s->step == SS_SRV) {
			s->step = SS_ADDR;    /* no SRV name at all (no transport provisioned) */
			if (!s->n_hosts)
				break;
			continue;
		} else {
			break;
		}
		err = rsv_lookup(name, type, &s->o, sip_on_lookup, s, &s->q);
		if (!err)
			return;
		s->q = NULL;
		s->last_err = err;
		if (type == RSV_SRV)
			s->i_srvq++;
		else
			s->i_hosts++;
	}
	sip_finish(s);
}

int rsv_sip_resolve(const char *host, int port, unsigned tp_mask, enum rsv_tp tp_pref,
		    const struct rsv_opts *o, rsv_sip_cb cb, void *arg, struct rsv_sip **out)
{
	struct rsv_sip *s;
	struct sockaddr_storage lit;
	size_t hl;
	int err;

	if (!host || !cb || !out || port < 0 || port > 65535 || (unsigned)tp_pref > RSV_TP_TLS)
		return -EINVAL;
	hl = strlen(host);
	if (hl == 0 || hl > 253)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cb = cb;
	s->arg = arg;
	memcpy(s->host, host, hl + 1);
	s->mask = (tp_mask & 7u) | (1u << tp_pref);
	s->pref = tp_pref;
	s->t_done.cb = sip_report;
	if (o) {
		s->o = *o;
		if (o->servers && utl_strlcpy(s->servers, o->servers, sizeof(s->servers)) == 0)
			s->o.servers = s->servers;
		if (o->resolv_conf && utl_strlcpy(s->resolv_conf, o->resolv_conf, sizeof(s->resolv_conf)) == 0)
			s->o.resolv_conf = s->resolv_conf;
	}
	*out = s;
	if (literal(host, &lit)) {
		struct sip_host h;

		memset(&h, 0, sizeof(h));
		utl_strlcpy(h.rr.target, host, sizeof(h.rr.target));
		h.rr.port = (uint16_t)(port ? port : rsv_default_port(tp_pref));
		h.tp = tp_pref;
		h.ttl = RSV_TTL_MAX;
		h.via = "literal";
		add_target(s, &lit, &h, RSV_TTL_MAX);
		sip_finish(s);
		return 0;
	}
	if (port) {
		struct sip_host *h = &s->hosts[s->n_hosts++];

		utl_strlcpy(h->rr.target, host, sizeof(h->rr.target));
		h->rr.port = (uint16_t)port;
		h->tp = tp_pref;
		h->ttl = RSV_TTL_MAX;
		h->via = "A/AAAA";
		s->step = SS_ADDR;
		sip_next(s);
		return 0;
	}
	s->step = SS_HOSTS;
	err = lookup(host, RSV_ADDR, &s->o, true, sip_on_lookup, s, &s->q);
	if (err) {
		free(s);
		*out = NULL;
		return err;
	}
	return 0;
}

void rsv_sip_cancel(struct rsv_sip *s)
{
	if (!s || s->in_cb)
		return;
	rsv_cancel(s->q);
	ev_timer_cancel(&s->t_done);
	free(s);
}

/* prov.c - the provisioning controller: when to fetch, what to accept,
 * trial / confirm / rollback, and status uploads through a disk spool. */
#include "config.h"

#include "provisioning/prov.h"
#include "provisioning/store.h"
#include "common/backoff.h"
#include "common/ev.h"
#include "common/job.h"
#include "common/log.h"
#include "common/sysc.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define SUB "prov"
#define PROV_SPOOL_DELAY_MIN_MS 1000   /* spooled uploads after a reboot: 1-10 s */
#define PROV_SPOOL_DELAY_MAX_MS 10000
#define PROV_CLOCK_SAFETY_MS 3600000   /* with the clock event: look again hourly anyway */

enum phase { PH_IDLE = 0, PH_COMMON, PH_MAC, PH_PARSE };

#define PROV_PARSE_DEADLINE_MS 30000   /* a parse job (libxml2, schema) is killed after this */

struct prov {
	struct prov_opts o;
	char *s_server, *s_boot, *s_dhcp, *s_state, *s_mac, *s_model;
	char mac12[13];
	char server[512];
	struct pf_ctx *http;               /* its transfers run in job processes */
	char ua[200];
	struct ps_store *ps;

	/* the config in force, and last-known-good for rollback */
	struct cfg_config cur, lkg;
	bool have_cur, have_lkg;
	struct ps_bundle cur_b;            /* bodies + ETags of the config in force */

	/* a fetch cycle */
	enum phase phase;
	struct pf_req *req;
	struct ps_bundle got;
	struct job *parse;                 /* the config check in a job process */
	bool boot_parse, boot_cand;        /* it is the stored config's, at start (from the candidate slot) */
	bool changed, pending;
	struct ev_timer fetch_timer, clock_timer;
	struct ev_fd clock_fd;             /* timerfd: the wall clock was set (no polling) */
	struct backoff bo;

	/* trial */
	bool trial;
	struct ev_timer trial_timer;
	char rej_common[PS_ETAG_LEN], rej_mac[PS_ETAG_LEN];
	bool have_rej;

	/* status uploads */
	struct pf_req *put;
	uint64_t put_id;
	struct ev_timer report_timer;
	struct backoff report_bo;

	/* register first: held back until prov_release() */
	bool held;
	uint64_t held_delay_ms;

	char last_error[512];
};

/* ------------------------------------------------------------------ pure helpers */

int prov_mac12(const char *mac, char out[13])
{
	unsigned n = 0;

	if (!mac)
		return -EINVAL;
	for (const char *p = mac; *p; p++) {
		if (*p == ':' || *p == '-' || *p == '.')
			continue;
		if (!isxdigit((unsigned char)*p) || n >= 12)
			return -EINVAL;
		out[n++] = (char)utl_lower((unsigned char)*p);
	}
	if (n != 12)
		return -EINVAL;
	out[12] = '\0';
	return 0;
}

/* First line of s, trimmed, into buf. */
static void first_line(const char *s, char *buf, size_t size)
{
	size_t n;

	buf[0] = '\0';
	if (!s)
		return;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strcspn(s, "\r\n");
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* A usable base URL from candidate c (ends in '/'); false if not HTTPS. */
static bool normalise(const char *c, char *out, size_t size)
{
	char tmp[600];

	if (!*c)
		return false;
	if (strncasecmp(c, "https://", 8) == 0)
		utl_strlcpy(tmp, c, sizeof(tmp));
	else if (strstr(c, "://"))
		return false;                  /* http://, tftp://, ... */
	else if (strspn(c, ":[]" CFG_HOST_CHARS) == strlen(c))
		snprintf(tmp, sizeof(tmp), "https://%s/", c);
	else
		return false;
	if (strpbrk(tmp, " \t\"<>") || strlen(tmp) + 2 > size)
		return false;
	snprintf(out, size, "%s%s", tmp, tmp[strlen(tmp) - 1] == '/' ? "" : "/");
	return true;
}

void prov_pick_server(const char *cmdline, const char *bootstrap, const char *dhcp,
		      char *out, size_t size, char *why, size_t why_size)
{
	const char *src[3] = { cmdline, bootstrap, dhcp };
	static const char *const names[3] = { "--server", "the bootstrap file", "DHCP option 66/160" };
	char c[512];

	if (why_size)
		why[0] = '\0';
	for (int i = 0; i < 3; i++) {
		first_line(src[i], c, sizeof(c));
		if (!c[0])
			continue;
		if (normalise(c, out, size))
			return;
		if (why_size && !why[0])
			snprintf(why, why_size, "%s gives \"%.200s\", which is not an HTTPS URL or host name; ignored (HTTPS only)",
				 names[i], c);
	}
	utl_strlcpy(out, PROV_DEFAULT_SERVER, size);
}

/* ------------------------------------------------------------------ helpers */

static void set_error(struct prov *p, const char *reason)
{
	utl_strlcpy(p->last_error, reason, sizeof(p->last_error));
	if (p->o.on_failed)
		p->o.on_failed(p, reason, p->o.arg);
}

static void pick_server(struct prov *p)
{
	char *boot = NULL, *dhcp = NULL, why[300];
	size_t len;

	if (!p->s_server) {
		(void)utl_read_file(p->s_boot, 4096, &boot, &len);
		(void)utl_read_file(p->s_dhcp, 4096, &dhcp, &len);
	}
	prov_pick_server(p->s_server, boot, dhcp, p->server, sizeof(p->server), why, sizeof(why));
	if (why[0])
		log_warn(SUB, "%s", why);
	free(boot);
	free(dhcp);
}

static void schedule(struct prov *p, uint64_t ms)
{
	ev_timer_set(&p->fetch_timer, ms);
}

static void schedule_resync(struct prov *p)
{
	const struct cfg_config *c = p->have_cur ? &p->cur : NULL;
	uint32_t every = c ? c->resync_s : 86400, jitter = c ? c->resync_jitter_s : 3600;

	if (!every) {
		ev_timer_cancel(&p->fetch_timer);
		return;
	}
	schedule(p, (uint64_t)every * 1000 + utl_random_range(0, jitter * 1000u));
}

static void schedule_retry(struct prov *p)
{
	uint32_t ms = bo_next(&p->bo);

	log_info(SUB, "next attempt in %u ms", ms);
	schedule(p, ms);
}

static void free_got(struct prov *p)
{
	ps_bundle_free(&p->got);
}

static int copy_bundle(struct ps_bundle *dst, const struct ps_bundle *src)
{
	struct ps_bundle b = *src;

	b.common = utl_memdup(src->common ? src->common : "", src->common_len);
	b.mac = utl_memdup(src->mac ? src->mac : "", src->mac_len);
	if (!b.common || !b.mac) {
		free(b.common);
		free(b.mac);
		return -ENOMEM;
	}
	ps_bundle_free(dst);
	*dst = b;
	return 0;
}

/* ------------------------------------------------------------------ config cache */

/* The last-known-good config as the parsed struct, next to lkg.bundle, so a
 * boot reads it without libxml2 (no XML parse, no schema, no library load
 * before the first REGISTER). It is a cache: keyed by the bundle's bytes and
 * this build's layout, checked by a sum, written without fsync; anything
 * that does not match means "parse the bundle" as before. 0600, as the
 * bundle (it holds the password). */
#define CACHE_FILE "lkg.cfgcache"
#define CACHE_MAGIC "DSA-CFG1"

struct cache_head {
	char magic[8];
	uint64_t build;              /* this build and struct layout */
	uint64_t key;                /* the bundle it was parsed from */
	uint64_t sum;                /* of the struct bytes */
	uint64_t size;
};

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= ((const unsigned char *)p)[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t cache_build(void)
{
	static const char id[] = PACKAGE_VERSION " " __DATE__ " " __TIME__;
	uint64_t v[] = { BUILD_EPOCH, sizeof(struct cfg_config), offsetof(struct cfg_config, set_mask),
			 offsetof(struct cfg_config, selftest_checks), CFG_MAX_REGISTRARS };

	return fnv(v, sizeof(v), fnv(id, sizeof(id), 0xcbf29ce484222325ull));
}

static uint64_t cache_key(const struct prov *p, const struct ps_bundle *b)
{
	uint64_t h = fnv(p->mac12, sizeof(p->mac12), 0xcbf29ce484222325ull);

	h = fnv(b->etag_common, strlen(b->etag_common) + 1, h);
	h = fnv(b->etag_mac, strlen(b->etag_mac) + 1, h);
	h = fnv(&b->common_len, sizeof(b->common_len), h);
	h = fnv(b->common ? b->common : "", b->common_len, h);
	return fnv(b->mac ? b->mac : "", b->mac_len, h);
}

static void cache_path(const struct prov *p, char *buf, size_t size)
{
	snprintf(buf, size, "%s/" CACHE_FILE, ps_dir(p->ps));
}

/* Keep c as the parsed form of bundle b (best effort, no fsync). */
static void cache_save(struct prov *p, const struct ps_bundle *b, const struct cfg_config *c)
{
	struct cache_head h;
	char path[600], tmp[620];
	int fd;
	bool ok;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	h.build = cache_build();
	h.key = cache_key(p, b);
	h.sum = fnv(c, sizeof(*c), 0xcbf29ce484222325ull);
	h.size = sizeof(*c);
	cache_path(p, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)sysc_getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	ok = write(fd, &h, sizeof(h)) == (ssize_t)sizeof(h) && write(fd, c, sizeof(*c)) == (ssize_t)sizeof(*c);
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

/* The cached parse of bundle b into out; false when there is none that fits. */
static bool cache_load(struct prov *p, const struct ps_bundle *b, struct cfg_config *out)
{
	struct cache_head h;
	char path[600], *buf = NULL;
	size_t len = 0;
	bool ok;

	cache_path(p, path, sizeof(path));
	if (utl_read_file(path, sizeof(h) + sizeof(*out) + 1, &buf, &len) < 0)
		return false;
	ok = len == sizeof(h) + sizeof(*out);
	if (ok) {
		memcpy(&h, buf, sizeof(h));
		ok = memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) == 0 && h.build == cache_build() &&
		     h.size == sizeof(*out) && h.key == cache_key(p, b) &&
		     h.sum == fnv(buf + sizeof(h), sizeof(*out), 0xcbf29ce484222325ull);
	}
	if (ok)
		memcpy(out, buf + sizeof(h), sizeof(*out));
	memset(buf, 0, len);
	free(buf);
	return ok;
}

/* ------------------------------------------------------------------ accept */

static void start_cycle(struct prov *p);
static void clock_watch_stop(struct prov *p);
static void clock_watch_start(struct prov *p);

/* The job process's side: parse, merge and check the bundle (mac12, common,
 * per-MAC file); the answer: ok, why (for a technician), every message
 * (CFG_ERR_LEN bytes each) and the struct. */
static int parse_job(const struct job_msg *m, struct job_buf *out)
{
	struct cfg_config common, mac, cfg;
	struct cfg_errors *errs = calloc(1, sizeof(*errs));
	char name_mac[64], why[700];
	int err = 0;

	if (!errs)
		return -ENOMEM;
	snprintf(name_mac, sizeof(name_mac), "dialstack-%.12s.xml", m->f[0].p);
	cfg_defaults(&common);
	cfg_defaults(&mac);
	if (m->f[1].len > 1 && cfg_parse_mem(m->f[1].p, m->f[1].len - 1, "dialstack.xml", &common, errs) < 0)
		err = -EINVAL;
	if (m->f[2].len > 1 && cfg_parse_mem(m->f[2].p, m->f[2].len - 1, name_mac, &mac, errs) < 0)
		err = -EINVAL;
	if (!err) {
		cfg_merge(&cfg, &common, &mac);
		if (cfg_complete(&cfg, errs) < 0)
			err = -EINVAL;
	}
	why[0] = '\0';
	if (err)
		snprintf(why, sizeof(why), "config refused, last-known-good stays in force: %s%s",
			 errs->n ? errs->msg[0] : "invalid",
			 errs->n + errs->dropped > 1 ? " (and more: see the log or check-config)" : "");
	job_begin(out, JOB_PARSE_REPLY);
	job_put_u32(out, !err);
	job_put_str(out, why);
	job_put(out, errs->msg, errs->n * sizeof(errs->msg[0]));
	job_put(out, &cfg, err ? 0 : sizeof(cfg));
	memset(&common.password, 0, sizeof(common.password));
	memset(&mac.password, 0, sizeof(mac.password));
	memset(&cfg.password, 0, sizeof(cfg.password));
	free(errs);
	return job_end(out);
}

int prov_job(const struct job_msg *m, struct job_buf *out)
{
	if (m->type == JOB_HTTP)
		return pf_job(m, out);
	if (m->type == JOB_PARSE)
		return parse_job(m, out);
	return -EINVAL;
}

static void parse_done(const struct job_msg *m, const char *jwhy, void *arg);

/* Check bundle b in a job process; parse_done goes on (at once when the
 * job cannot start). */
static void parse_start(struct prov *p, const struct ps_bundle *b)
{
	struct job_buf j = { 0 };

	job_begin(&j, JOB_PARSE);
	job_put_str(&j, p->mac12);
	job_put(&j, b->common, b->common_len);
	job_put(&j, b->mac, b->mac_len);
	if (job_end(&j) < 0 || job_start(&p->parse, &j, JOB_PARSE_REPLY, PROV_PARSE_DEADLINE_MS, parse_done, p) < 0)
		parse_done(NULL, "the job process could not be started", p);
	job_buf_free(&j);
}

static void cycle_done(struct prov *p, bool ok)
{
	p->phase = PH_IDLE;
	p->req = NULL;
	free_got(p);
	if (ok) {
		bo_reset(&p->bo);
		p->last_error[0] = '\0';
	}
	if (p->trial)
		return;                           /* resumes after confirm/rollback */
	if (p->pending) {
		p->pending = false;
		schedule(p, 0);
	} else if (ok) {
		schedule_resync(p);
	} else {
		schedule_retry(p);
	}
}

static void evaluate(struct prov *p)
{
	if (!p->changed && p->have_cur) {
		log_info(SUB, "config unchanged (ETag match)");
		if (p->o.on_unchanged)
			p->o.on_unchanged(p, p->o.arg);
		cycle_done(p, true);
		return;
	}
	if (p->have_rej && strcmp(p->got.etag_common, p->rej_common) == 0 &&
	    strcmp(p->got.etag_mac, p->rej_mac) == 0) {
		set_error(p, "the server still offers the config that was rolled back; last-known-good stays in force");
		cycle_done(p, false);
		return;
	}
	p->phase = PH_PARSE;
	parse_start(p, &p->got);
}

/* The fetched bundle checked: next is its config, or NULL (refused says
 * whether the files themselves are bad, why says what). */
static void evaluate_parsed(struct prov *p, const struct cfg_config *next, bool refused, const char *why)
{
	struct cfg_config old;
	char chg[128];
	unsigned mask;

	if (!next) {
		if (refused) {
			utl_strlcpy(p->rej_common, p->got.etag_common, sizeof(p->rej_common));
			utl_strlcpy(p->rej_mac, p->got.etag_mac, sizeof(p->rej_mac));
			p->have_rej = p->got.etag_common[0] || p->got.etag_mac[0];
		}
		set_error(p, why);
		cycle_done(p, false);
		return;
	}
	p->have_rej = false;
	mask = p->have_cur ? cfg_diff(&p->cur, next) : cfg_diff(NULL, next);
	if (mask == 0) {
		/* same settings under new ETags: remember the ETags, apply nothing */
		log_info(SUB, "config files changed but no setting did; nothing to apply");
		if (ps_save(p->ps, PS_LKG, &p->got) == 0) {
			copy_bundle(&p->cur_b, &p->got);
			cache_save(p, &p->cur_b, &p->cur);
		}
		if (p->o.on_unchanged)
			p->o.on_unchanged(p, p->o.arg);
		cycle_done(p, true);
		return;
	}
	if (ps_save(p->ps, PS_CANDIDATE, &p->got) < 0)
		log_warn(SUB, "cannot store the new config in %s; it is applied but not kept", ps_dir(p->ps));
	copy_bundle(&p->cur_b, &p->got);
	old = p->cur;
	bool had = p->have_cur;
	p->cur = *next;
	p->have_cur = true;
	p->trial = true;
	ev_timer_set(&p->trial_timer, p->o.trial_timeout_ms);
	log_notice(SUB, "new config accepted (changed: %s); on trial for %u ms",
		   cfg_change_str(mask, chg, sizeof(chg)), p->o.trial_timeout_ms);
	cycle_done(p, true);
	if (p->o.on_config)
		p->o.on_config(p, &p->cur, had ? &old : NULL, mask, PROV_FROM_SERVER, p->o.arg);
	memset(old.password, 0, sizeof(old.password));
}

/* ------------------------------------------------------------------ fetch */

static void got_file(const struct pf_reply *r, void *arg);

static void take(struct prov *p, const struct pf_reply *r, char **body, size_t *len,
		 char *etag, const char *cur_body, size_t cur_len, const char *cur_etag)
{
	switch (r->result) {
	case PF_OK:
		*body = utl_memdup(r->body, r->len);
		*len = r->len;
		utl_strlcpy(etag, r->etag, PS_ETAG_LEN);
		if (!p->have_cur || strcmp(etag, cur_etag) || !etag[0])
			p->changed = true;
		break;
	case PF_NOT_MODIFIED:
		*body = utl_memdup(cur_body ? cur_body : "", cur_len);
		*len = cur_len;
		utl_strlcpy(etag, cur_etag, PS_ETAG_LEN);
		break;
	default:                                   /* 404: the file is absent */
		*body = utl_memdup("", 0);
		*len = 0;
		etag[0] = '\0';
		if (cur_len || cur_etag[0])
			p->changed = true;
		break;
	}
}

static void got_file(const struct pf_reply *r, void *arg)
{
	struct prov *p = arg;
	char url[700];

	p->req = NULL;
	if (r->result == PF_FAILED) {
		set_error(p, r->why);
		if (r->err == PF_E_CLOCK)
			clock_watch_start(p);
		cycle_done(p, false);
		return;
	}
	if (p->phase == PH_COMMON) {
		take(p, r, &p->got.common, &p->got.common_len, p->got.etag_common,
		     p->cur_b.common, p->cur_b.common_len, p->cur_b.etag_common);
		p->phase = PH_MAC;
		snprintf(url, sizeof(url), "%sdialstack-%s.xml", p->server, p->mac12);
		if (pf_get(p->http, url, p->cur_b.etag_mac, got_file, p, &p->req) < 0) {
			set_error(p, "out of memory starting the fetch");
			cycle_done(p, false);
		}
		return;
	}
	take(p, r, &p->got.mac, &p->got.mac_len, p->got.etag_mac,
	     p->cur_b.mac, p->cur_b.mac_len, p->cur_b.etag_mac);
	if (r->result == PF_NOT_FOUND && p->got.common_len == 0) {
		set_error(p, "neither dialstack.xml nor the per-MAC file exists on the server (HTTP 404): is the device assigned in the portal?");
		cycle_done(p, false);
		return;
	}
	evaluate(p);
}

static void start_cycle(struct prov *p)
{
	char url[600];

	if (p->phase != PH_IDLE || p->trial) {
		p->pending = true;
		return;
	}
	ev_timer_cancel(&p->fetch_timer);
	clock_watch_stop(p);
	p->held = false;                  /* an explicit resync does not wait */
	pick_server(p);
	free_got(p);
	p->changed = false;
	p->phase = PH_COMMON;
	snprintf(url, sizeof(url), "%sdialstack.xml", p->server);
	log_info(SUB, "fetching %s", url);
	if (pf_get(p->http, url, p->have_cur ? p->cur_b.etag_common : NULL, got_file, p, &p->req) < 0) {
		set_error(p, "out of memory starting the fetch");
		cycle_done(p, false);
	}
}

static void fetch_timer_cb(struct ev_timer *t)
{
	start_cycle(container_of(t, struct prov, fetch_timer));
}

/* Waiting for the wall clock (certificates cannot be verified before it is
 * set): a timerfd with TFD_TIMER_CANCEL_ON_SET wakes the loop when the clock
 * is set (or reaches the build time), so nothing polls; where there is no
 * timerfd, a timer looks every clock_poll_ms. */
static void clock_watch_stop(struct prov *p)
{
	ev_timer_cancel(&p->clock_timer);
	if (p->clock_fd.fd >= 0) {
		ev_fd_del(&p->clock_fd);
		close(p->clock_fd.fd);
		p->clock_fd.fd = -1;
	}
}

static void clock_check(struct prov *p)
{
	struct itimerspec its;

	if (time(NULL) >= (time_t)BUILD_EPOCH) {
		clock_watch_stop(p);
		log_notice(SUB, "the clock is set now; fetching again");
		start_cycle(p);
		return;
	}
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)BUILD_EPOCH;
	if (p->clock_fd.fd >= 0 &&
	    timerfd_settime(p->clock_fd.fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) == 0) {
		ev_timer_set(&p->clock_timer, PROV_CLOCK_SAFETY_MS);
		return;
	}
	ev_timer_set(&p->clock_timer, p->o.clock_poll_ms);
}

static void clock_fd_cb(struct ev_fd *f, unsigned events)
{
	struct prov *p = container_of(f, struct prov, clock_fd);
	uint64_t n;

	(void)!read(f->fd, &n, sizeof(n));     /* ECANCELED: the clock was set */
	clock_check(p);
}

static void clock_timer_cb(struct ev_timer *t)
{
	clock_check(container_of(t, struct prov, clock_timer));
}

static void clock_watch_start(struct prov *p)
{
	if (p->clock_fd.fd < 0) {
		p->clock_fd.fd = sysc_timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
		p->clock_fd.cb = clock_fd_cb;
		if (p->clock_fd.fd >= 0 && ev_fd_add(&p->clock_fd, EV_READ) < 0) {
			close(p->clock_fd.fd);
			p->clock_fd.fd = -1;
		}
	}
	clock_check(p);
}

/* ------------------------------------------------------------------ trial */

void prov_confirm(struct prov *p)
{
	if (!p->trial)
		return;
	ev_timer_cancel(&p->trial_timer);
	p->trial = false;
	if (ps_promote(p->ps) < 0)
		(void)ps_save(p->ps, PS_LKG, &p->cur_b);
	cache_save(p, &p->cur_b, &p->cur);
	p->lkg = p->cur;
	p->have_lkg = true;
	log_notice(SUB, "new config confirmed; it is the last-known-good now");
	if (p->pending) {
		p->pending = false;
		schedule(p, 0);
	} else {
		schedule_resync(p);
	}
}

void prov_rollback(struct prov *p, const char *reason)
{
	struct cfg_config bad;
	char why[700];
	struct ps_bundle b;

	if (!p->trial)
		return;
	ev_timer_cancel(&p->trial_timer);
	p->trial = false;
	(void)ps_discard(p->ps, PS_CANDIDATE);
	utl_strlcpy(p->rej_common, p->cur_b.etag_common, sizeof(p->rej_common));
	utl_strlcpy(p->rej_mac, p->cur_b.etag_mac, sizeof(p->rej_mac));
	p->have_rej = true;
	snprintf(why, sizeof(why), "new config rolled back: %s", reason ? reason : "not confirmed");
	if (p->have_lkg) {
		bad = p->cur;
		p->cur = p->lkg;
		if (ps_load(p->ps, PS_LKG, &b) == 0) {
			ps_bundle_free(&p->cur_b);
			p->cur_b = b;
		}
		log_warn(SUB, "%s; last-known-good restored", why);
		set_error(p, why);
		if (p->o.on_config)
			p->o.on_config(p, &p->cur, &bad, cfg_diff(&bad, &p->cur), PROV_FROM_ROLLBACK, p->o.arg);
		memset(bad.password, 0, sizeof(bad.password));
	} else {
		log_warn(SUB, "%s; there is no last-known-good to go back to, the new config stays", why);
		set_error(p, why);
	}
	p->pending = false;
	schedule_retry(p);
}

static void trial_timer_cb(struct ev_timer *t)
{
	struct prov *p = container_of(t, struct prov, trial_timer);
	char why[96];

	snprintf(why, sizeof(why), "not confirmed within %u ms (it did not register)", p->o.trial_timeout_ms);
	prov_rollback(p, why);
}

/* ------------------------------------------------------------------ status */

static void drain_spool(struct prov *p);

static void put_done(const struct pf_reply *r, void *arg)
{
	struct prov *p = arg;

	p->put = NULL;
	if (r->result == PF_OK) {
		ps_spool_remove(p->ps, p->put_id);
		bo_reset(&p->report_bo);
		drain_spool(p);
		return;
	}
	log_warn(SUB, "status upload failed, kept for later: %s", r->why);
	ev_timer_set(&p->report_timer, bo_next(&p->report_bo));
}

static void drain_spool(struct prov *p)
{
	char *url = NULL, *body = NULL;
	size_t len;
	int err;

	if (p->put)
		return;
	for (int tries = 0; tries < 4; tries++) {
		err = ps_spool_peek(p->ps, &p->put_id, &url, &body, &len);
		if (err != -EBADMSG)
			break;
	}
	if (err < 0)
		return;
	if (pf_put(p->http, url, body, len, "application/xml", put_done, p, &p->put) < 0)
		ev_timer_set(&p->report_timer, bo_next(&p->report_bo));
	free(url);
	free(body);
}

static void report_timer_cb(struct ev_timer *t)
{
	drain_spool(container_of(t, struct prov, report_timer));
}

int prov_report(struct prov *p, const struct status_info *in)
{
	struct status_info si = *in;
	char url[800], *doc = NULL;
	size_t len;
	int err;

	if (!si.mac)
		si.mac = p->s_mac;
	if (!si.model)
		si.model = p->s_model;
	if (!si.etag_common)
		si.etag_common = p->cur_b.etag_common;
	if (!si.etag_mac)
		si.etag_mac = p->cur_b.etag_mac;
	if ((err = status_build(&si, &doc, &len)) < 0)
		return err;
	if (p->have_cur && p->cur.status_url[0])
		snprintf(url, sizeof(url), "%s%sstatus.xml", p->cur.status_url,
			 p->cur.status_url[strlen(p->cur.status_url) - 1] == '/' ? "" : "/");
	else
		snprintf(url, sizeof(url), "%sstatus/%s/status.xml", p->server, p->mac12);
	/* Through the spool, always: uploads go out in order, none is lost. */
	err = ps_spool_add(p->ps, url, doc, len);
	free(doc);
	if (err < 0)
		return err;
	drain_spool(p);
	return 0;
}

/* ------------------------------------------------------------------ life */

static char *dup_or(const char *s, const char *def)
{
	return strdup(s ? s : def);
}

int prov_new(struct prov **out, const struct prov_opts *o)
{
	struct prov *p;
	int err = -ENOMEM;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->clock_fd.fd = -1;
	p->o = *o;
	if (prov_mac12(o->mac, p->mac12) < 0) {
		free(p);
		return -EINVAL;
	}
	p->s_server = o->server ? strdup(o->server) : NULL;
	p->s_boot = dup_or(o->bootstrap_file, DSA_SYSCONFDIR "/server");
	p->s_dhcp = dup_or(o->dhcp_file, DSA_RUNDIR "/dhcp-prov-url");
	p->s_state = dup_or(o->state_dir, DSA_STATEDIR);
	p->s_mac = strdup(o->mac);
	p->s_model = dup_or(o->model, "unknown");
	if (!p->s_boot || !p->s_dhcp || !p->s_state || !p->s_mac || !p->s_model)
		goto out;
	if (!p->o.retry_base_ms)
		p->o.retry_base_ms = 30000;
	if (!p->o.retry_cap_ms)
		p->o.retry_cap_ms = 1800000;
	if (!p->o.trial_timeout_ms)
		p->o.trial_timeout_ms = 180000;
	if (!p->o.clock_poll_ms)
		p->o.clock_poll_ms = 5000;
	bo_init(&p->bo, p->o.retry_base_ms, p->o.retry_cap_ms);
	bo_init(&p->report_bo, p->o.retry_base_ms, p->o.retry_cap_ms);
	p->fetch_timer.cb = fetch_timer_cb;
	p->clock_timer.cb = clock_timer_cb;
	p->trial_timer.cb = trial_timer_cb;
	p->report_timer.cb = report_timer_cb;
	{
		struct pf_opts h = o->http;

		h.user_agent = pf_user_agent(p->ua, sizeof(p->ua), p->s_model, p->s_mac);
		if ((err = pf_new(&p->http, &h)) < 0)
			goto out;
	}
	if ((err = ps_open(&p->ps, p->s_state)) < 0) {
		log_err(SUB, "cannot use the state folder %s: %s", p->s_state, strerror(-err));
		goto out;
	}
	pick_server(p);
	*out = p;
	return 0;
out:
	prov_free(p);
	return err;
}

/* The stored config b is in force (cached: it came from the parse cache). */
static void lkg_in_force(struct prov *p, struct ps_bundle *b, bool from_candidate, bool cached)
{
	p->have_cur = p->have_lkg = true;
	p->lkg = p->cur;
	p->cur_b = *b;
	memset(b, 0, sizeof(*b));
	log_notice(SUB, "running on the last-known-good config from %s", ps_dir(p->ps));
	/* Register first: the application (the first REGISTER) comes
	 * before any write or fsync to the state folder. */
	if (p->o.on_config)
		p->o.on_config(p, &p->cur, NULL, cfg_diff(NULL, &p->cur), PROV_FROM_LKG, p->o.arg);
	if (from_candidate)
		(void)ps_save(p->ps, PS_LKG, &p->cur_b);
	if (!cached)
		cache_save(p, &p->cur_b, &p->cur);
}

/* The rest of the start, once the stored config is in force (or is not). */
static void start_rest(struct prov *p)
{
	uint64_t delay;

	(void)ps_discard(p->ps, PS_CANDIDATE);   /* no write when there is none */
	if (p->o.boot_delay_ms >= 0)
		delay = (uint64_t)p->o.boot_delay_ms;
	else
		delay = utl_random_range(0, (p->have_cur ? p->cur.boot_delay_s : 30) * 1000u);
	if (p->have_cur && p->o.hold_after_lkg) {
		/* Registering needs nothing from the server: fetch after it. */
		p->held = true;
		p->held_delay_ms = delay;
		log_info(SUB, "first fetch from %s %llu ms after the first registration answer", p->server,
			 (unsigned long long)delay);
		return;
	}
	log_info(SUB, "first fetch from %s in %llu ms", p->server, (unsigned long long)delay);
	schedule(p, delay);
	/* Uploads left from before the reboot: spread out. */
	if (ps_spool_count(p->ps))
		ev_timer_set(&p->report_timer, utl_random_range(PROV_SPOOL_DELAY_MIN_MS, PROV_SPOOL_DELAY_MAX_MS));
}

/* The answer of a parse job, checked (the struct as the parser makes it). */
static void parse_done(const struct job_msg *m, const char *jwhy, void *arg)
{
	struct prov *p = arg;
	struct cfg_config c;
	char buf[700];
	const char *why = buf;
	bool ok = false, refused = false;

	p->parse = NULL;
	if (m && m->f[2].len % CFG_ERR_LEN == 1) {
		for (uint32_t i = 0; i + 1 < m->f[2].len; i += CFG_ERR_LEN)
			if (memchr(m->f[2].p + i, 0, CFG_ERR_LEN))
				log_err(SUB, "config refused: %s", m->f[2].p + i);
		refused = !job_u32(m, 0);
		ok = !refused && m->f[3].len == sizeof(c) + 1;
		if (ok)
			memcpy(&c, m->f[3].p, sizeof(c));
		ok = ok && cfg_sane(&c);
	}
	if (refused)
		why = m->f[1].p;
	else if (!ok)
		snprintf(buf, sizeof(buf), "config not checked, last-known-good stays in force: %s",
			 m ? "the job process answered out of range (refused)" : jwhy);
	if (p->boot_parse) {
		p->boot_parse = false;
		if (ok) {
			p->cur = c;
			lkg_in_force(p, &p->got, p->boot_cand, false);
		} else {
			log_err(SUB, "the stored config in %s is damaged (%s); fetching a new one", ps_dir(p->ps), why);
			free_got(p);
		}
		start_rest(p);
	} else {
		evaluate_parsed(p, ok ? &c : NULL, refused, why);
	}
	memset(c.password, 0, sizeof(c.password));
}

int prov_start(struct prov *p)
{
	struct ps_bundle b;
	int err;
	bool from_candidate = false;

	err = ps_load(p->ps, PS_LKG, &b);
	if (err == -ENOENT) {
		/* first boot, or a crash during the very first trial */
		err = ps_load(p->ps, PS_CANDIDATE, &b);
		from_candidate = err == 0;
	}
	if (err == 0) {
		if (!from_candidate && cache_load(p, &b, &p->cur)) {
			lkg_in_force(p, &b, false, true);
		} else {
			/* parsed in a job process: start_rest follows its answer */
			p->got = b;
			p->boot_cand = from_candidate;
			p->boot_parse = true;
			parse_start(p, &p->got);
			return 0;
		}
	} else if (err != -ENOENT) {
		log_err(SUB, "the stored config in %s is damaged (%s); fetching a new one",
			ps_dir(p->ps), strerror(-err));
	}
	start_rest(p);
	return 0;
}

void prov_release(struct prov *p)
{
	if (!p->held)
		return;
	p->held = false;
	schedule(p, p->held_delay_ms);
	if (ps_spool_count(p->ps) && !p->put && !ev_timer_pending(&p->report_timer))
		ev_timer_set(&p->report_timer, utl_random_range(PROV_SPOOL_DELAY_MIN_MS, PROV_SPOOL_DELAY_MAX_MS));
}

void prov_free(struct prov *p)
{
	if (!p)
		return;
	ev_timer_cancel(&p->fetch_timer);
	clock_watch_stop(p);
	ev_timer_cancel(&p->trial_timer);
	ev_timer_cancel(&p->report_timer);
	pf_free(p->http);             /* cancels requests without callbacks */
	job_cancel(p->parse);
	ps_close(p->ps);
	ps_bundle_free(&p->cur_b);
	ps_bundle_free(&p->got);
	memset(p->cur.password, 0, sizeof(p->cur.password));
	memset(p->lkg.password, 0, sizeof(p->lkg.password));
	free(p->s_server);
	free(p->s_boot);
	free(p->s_dhcp);
	free(p->s_state);
	free(p->s_mac);
	free(p->s_model);
	free(p);
}

void prov_resync(struct prov *p)
{
	log_info(SUB, "resync requested");
	start_cycle(p);
}

const struct cfg_config *prov_config(const struct prov *p)
{
	return p->have_cur ? &p->cur : NULL;
}

const char *prov_server(const struct prov *p)
{
	return p->server;
}

int prov_on_trial(const struct prov *p)
{
	return p->trial;
}

const char *prov_last_error(const struct prov *p)
{
	return p->last_error;
}

uint64_t prov_next_fetch_ms(const struct prov *p)
{
	return ev_timer_remaining_ms(&p->fetch_timer);
}

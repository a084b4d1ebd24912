/* fetch.c - HTTPS GET/PUT (and the self-test's probes) in a job process
 * (common/job.h).
 *
 * The agent's side (pf_new, pf_get, pf_put, pf_probe) sends each request to
 * a child, its own executable in job mode, and reads the answer from the
 * loop, so the callback never runs re-entrantly; the child (pf_job) refuses
 * a URL that is not HTTPS, runs the transfer with libcurl's easy API,
 * blocking, and classifies the result. So libcurl, OpenSSL's TLS state and
 * the libraries under libcurl never enter the resident process.
 */
#include "config.h"

#include "provisioning/fetch.h"
#include "common/ev.h"
#include "common/job.h"
#include "common/log.h"
#include "common/resolv.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include "common/lazylibs.h"          /* last: the libraries are loaded on use */

#define SUB "fetch"

struct pf_ctx {
	struct pf_opts o;            /* its strings are the caller's */
	struct pf_req *reqs;         /* in flight */
	unsigned n;
};

struct pf_req {
	struct pf_ctx *ctx;
	struct pf_req *next;
	struct job *job;
	pf_done_cb cb;
	void *arg;
	char *url;
	/* a GET or PUT to a name: the agent's resolver finds it first (RFC 6724
	 * order, both families), libcurl gets the addresses (CURLOPT_RESOLVE) */
	struct rsv_query *q;
	struct job_buf b;            /* the request, waiting for the name */
	unsigned wait_ms;            /* the job's deadline */
	char host[RSV_NAME_MAX];
	const char *port;            /* in host, past its NUL, or "443" */
};

/* A transfer in the job process. */
struct xfer {
	const struct pf_opts *o;
	const char *url;
	CURL *easy;
	struct curl_slist *hdrs;
	/* answer */
	char *body;
	size_t len, cap;
	bool too_big;
	char etag[160];
	/* upload */
	const char *up;
	size_t up_len, up_off;
	/* TLS verification detail, from the verify callback */
	int verify_err;
	char issuer[160];
	char errbuf[CURL_ERROR_SIZE];
};

const char *pf_err_name(enum pf_err e)
{
	static const char *const names[] = {
		"none", "clock", "tls-trust", "client-cert", "https-only", "redirect",
		"too-big", "resolve", "connect", "timeout", "http", "other",
	};

	return (unsigned)e < ARRAY_SIZE(names) ? names[e] : "?";
}

const char *pf_user_agent(char *buf, size_t size, const char *model, const char *mac)
{
	snprintf(buf, size, "%s/%s (%s; %s)", PACKAGE_NAME, PACKAGE_VERSION,
		 model && *model ? model : "unknown", mac && *mac ? mac : "unknown");
	return buf;
}

/* ------------------------------------------------------------------ transfer callbacks */

static size_t write_fn(char *data, size_t size, size_t n, void *userp)
{
	struct xfer *r = userp;
	size_t len = size * n;

	if (r->len + len > r->o->max_bytes) {
		r->too_big = true;
		return 0;                     /* aborts the transfer */
	}
	if (r->len + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *b;

		while (cap < r->len + len + 1)
			cap *= 2;
		b = realloc(r->body, cap);
		if (!b)
			return 0;
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static size_t header_fn(char *data, size_t size, size_t n, void *userp)
{
	struct xfer *r = userp;
	size_t len = size * n;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		r->etag[0] = '\0';            /* a new answer (redirect, 100) */
	} else if (len > 5 && strncasecmp(data, "etag:", 5) == 0) {
		const char *v = data + 5;
		size_t l = len - 5;

		while (l && (*v == ' ' || *v == '\t'))
			v++, l--;
		while (l && isspace((unsigned char)v[l - 1]))
			l--;
		if (l < sizeof(r->etag)) {
			memcpy(r->etag, v, l);
			r->etag[l] = '\0';
		}
	}
	return len;
}

static size_t read_fn(char *buf, size_t size, size_t n, void *userp)
{
	struct xfer *r = userp;
	size_t want = size * n, left = r->up_len - r->up_off;

	if (want > left)
		want = left;
	memcpy(buf, r->up + r->up_off, want);
	r->up_off += want;
	return want;
}

/* Records why OpenSSL refused the server's chain (issuer, error code);
 * never changes the verdict. */
static int verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct xfer *r = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;

	if (!ok && r && !r->verify_err) {
		X509 *cert = X509_STORE_CTX_get_current_cert(xs);

		r->verify_err = X509_STORE_CTX_get_error(xs);
		if (cert)
			X509_NAME_oneline(X509_get_issuer_name(cert), r->issuer, sizeof(r->issuer));
	}
	return ok;
}

static CURLcode ssl_ctx_fn(CURL *easy, void *sslctx, void *userp)
{
	SSL_CTX *sc = sslctx;

	SSL_CTX_set_app_data(sc, userp);
	SSL_CTX_set_verify(sc, SSL_CTX_get_verify_mode(sc), verify_cb);
	return CURLE_OK;
}

/* ------------------------------------------------------------------ results */

/* "host:port" (or "host") of url, for messages. */
static void host_of(const char *url, char *host, size_t size)
{
	const char *h = strstr(url, "://"), *at;
	size_t n;

	h = h ? h + 3 : url;
	n = strcspn(h, "/?#");
	if ((at = memchr(h, '@', n))) {
		n -= (size_t)(at + 1 - h);
		h = at + 1;
	}
	if (n)
		snprintf(host, size, "%.*s", (int)n, h);
	else
		utl_strlcpy(host, "the server", size);
}

static bool clock_not_set(void)
{
	return time(NULL) < (time_t)BUILD_EPOCH;
}

/* Translate a finished transfer into a reply (why written into buf). */
static void classify(struct xfer *r, CURLcode rc, struct pf_reply *rep, char *why, size_t size)
{
	char host[256];
	long status = 0, oserr = 0;
	double connect_t = 0;

	host_of(r->url, host, sizeof(host));
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
	curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME, &connect_t);
	rep->http_status = (int)status;
	rep->result = PF_FAILED;
	why[0] = '\0';

	if (rc == CURLE_OK) {
		if (status >= 200 && status < 300) {
			rep->result = PF_OK;
			return;
		}
		if (status == 304) {
			rep->result = PF_NOT_MODIFIED;
			return;
		}
		if (status == 404) {
			rep->result = PF_NOT_FOUND;
			snprintf(why, size, "%s answered 404: the file does not exist on the server", host);
			return;
		}
		if (status == 400 && r->body && strstr(r->body, "SSL certificate")) {
			rep->err = PF_E_CLIENT_CERT;
			snprintf(why, size, "client certificate refused by the server (HTTP 400): %s",
				 r->o->cert_file ? "it is not signed by a CA the server trusts" : "this device has none configured");
			return;
		}
		if (status == 401 || status == 403) {
			rep->err = PF_E_CLIENT_CERT;
			snprintf(why, size, "%s refused access (HTTP %ld): this device is not authorised; check its certificate and that it is registered in the portal",
				 host, status);
			return;
		}
		rep->err = PF_E_HTTP;
		snprintf(why, size, "%s answered HTTP %ld", host, status);
		return;
	}

	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
	case CURLE_SSL_CACERT:
#endif
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
		if (clock_not_set() || r->verify_err == X509_V_ERR_CERT_NOT_YET_VALID) {
			rep->err = PF_E_CLOCK;
			snprintf(why, size, "clock not set: cannot verify the server's certificate (the time is before %s's build date); set the time (NTP) and it retries",
				 PACKAGE_NAME);
		} else if (r->verify_err) {
			rep->err = PF_E_TLS_TRUST;
			snprintf(why, size, "server certificate of %s not trusted (issuer %s): %s",
				 host, r->issuer[0] ? r->issuer : "unknown",
				 X509_verify_cert_error_string(r->verify_err));
		} else if (rc == CURLE_PEER_FAILED_VERIFICATION) {
			rep->err = PF_E_TLS_TRUST;
			snprintf(why, size, "server certificate of %s not trusted: %s", host,
				 r->errbuf[0] ? r->errbuf : "verification failed");
		} else {
			rep->err = PF_E_OTHER;
			snprintf(why, size, "TLS handshake with %s failed: %s", host,
				 r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
		}
		return;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		rep->err = PF_E_TLS_TRUST;
		snprintf(why, size, "server key of %s does not match the pinned public key", host);
		return;
	case CURLE_SSL_CERTPROBLEM:
		rep->err = PF_E_CLIENT_CERT;
		snprintf(why, size, "the device's client certificate or key cannot be used: %s",
			 r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
		return;
	case CURLE_UNSUPPORTED_PROTOCOL:
		rep->err = PF_E_REDIRECT;
		snprintf(why, size, "redirect to non-HTTPS refused (from %s): only https:// is followed", host);
		return;
	case CURLE_FILESIZE_EXCEEDED:
		rep->err = PF_E_TOO_BIG;
		snprintf(why, size, "config larger than %zu bytes refused (from %s)", r->o->max_bytes, host);
		return;
	case CURLE_WRITE_ERROR:
		if (r->too_big) {
			rep->err = PF_E_TOO_BIG;
			snprintf(why, size, "config larger than %zu bytes refused (from %s)", r->o->max_bytes, host);
			return;
		}
		break;
	case CURLE_COULDNT_RESOLVE_HOST: {
		char h[256];

		utl_strlcpy(h, host, sizeof(h));
		if (strrchr(h, ':') && strchr(h, '.'))
			*strrchr(h, ':') = '\0';
		rep->err = PF_E_RESOLVE;
		snprintf(why, size, "cannot resolve %s: check the DNS server given by DHCP", h);
		return;
	}
	case CURLE_COULDNT_CONNECT:
		rep->err = PF_E_CONNECT;
		if (oserr == ECONNREFUSED)
			snprintf(why, size, "connection refused by %s: the server is down or a firewall rejects TCP to it", host);
		else if (oserr == ENETUNREACH || oserr == EHOSTUNREACH)
			snprintf(why, size, "%s unreachable: no route (check the gateway)", host);
		else
			snprintf(why, size, "cannot connect to %s: %s", host, r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
		return;
	case CURLE_OPERATION_TIMEDOUT:
		rep->err = PF_E_TIMEOUT;
		if (connect_t <= 0)
			snprintf(why, size, "connection to %s timed out: a firewall may drop TCP 443", host);
		else
			snprintf(why, size, "transfer from %s timed out or was too slow", host);
		return;
	default:
		break;
	}
	rep->err = PF_E_OTHER;
	snprintf(why, size, "transfer from %s failed: %s", host,
		 r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
}


/* ------------------------------------------------------------------ the job process */

enum { M_GET = 0, M_PUT };             /* then PF_HEAD, PF_CONNECT (| PF_V6) */

/* libcurl options from the request's fields (index f; strings when given),
 * or fixed values (v, when f is 0) */
static const struct {
	uint16_t opt;
	uint8_t f, v;
} str_opts[] = {
	{ CURLOPT_URL, 6, 0 }, { CURLOPT_CAINFO, 9, 0 }, { CURLOPT_SSLCERT, 10, 0 }, { CURLOPT_SSLKEY, 11, 0 },
	{ CURLOPT_PINNEDPUBLICKEY, 12, 0 }, { CURLOPT_USERAGENT, 13, 0 }, { CURLOPT_INTERFACE, 16, 0 },
}, num_opts[] = {
	{ CURLOPT_CONNECTTIMEOUT_MS, 1, 0 }, { CURLOPT_TIMEOUT_MS, 2, 0 }, { CURLOPT_LOW_SPEED_LIMIT, 3, 0 },
	{ CURLOPT_LOW_SPEED_TIME, 4, 0 }, { CURLOPT_NOSIGNAL, 0, 1 }, { CURLOPT_SSL_VERIFYPEER, 0, 1 },
	{ CURLOPT_SSL_VERIFYHOST, 0, 2 },
};

int pf_job(const struct job_msg *m, struct job_buf *out)
{
	struct pf_opts o = { 0 };
	struct xfer x = { .o = &o };
	struct pf_reply rep = { 0 };
	struct curl_slist *rl = NULL;
	const char *s[11];
	char why[1024], h[200];
	unsigned how = job_u32(m, 0) & 3;
	double t = 0;
	CURL *e;
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	/* fields: method, 5 limits, url, etag, type, ca, cert, key, pin, agent, body, resolve, interface */
	for (unsigned i = 0; i < 11; i++)
		s[i] = m->f[6 + i].len > 1 ? m->f[6 + i].p : NULL;
	o.max_bytes = job_u32(m, 5);
	o.cert_file = s[4];
	x.url = m->f[6].p;
	rep.result = PF_FAILED;
	rep.err = PF_E_HTTPS_ONLY;
	snprintf(why, sizeof(why), "HTTP URL refused: HTTPS only (%.400s)", x.url);
	if (strncasecmp(x.url, "https://", 8) != 0)
		goto out;
	rep.err = PF_E_OTHER;
	snprintf(why, sizeof(why), "out of memory");
	lazy_need(&lazy_curl_lib);
	if (!(e = x.easy = curl_easy_init()))        /* initialises libcurl (one thread here) */
		goto out;
	for (unsigned i = 0; i < ARRAY_SIZE(str_opts); i++)
		if (s[str_opts[i].f - 6])
			curl_easy_setopt(e, (CURLoption)str_opts[i].opt, s[str_opts[i].f - 6]);
	for (unsigned i = 0; i < ARRAY_SIZE(num_opts); i++)
		curl_easy_setopt(e, (CURLoption)num_opts[i].opt,
				 (long)(num_opts[i].f ? job_u32(m, num_opts[i].f) : num_opts[i].v));
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x.errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	if (how < PF_HEAD) {
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	}
	curl_easy_setopt(e, CURLOPT_NOBODY, (long)(how == PF_HEAD));
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, (long)(how == PF_CONNECT));
	if (how == PF_CONNECT)
		curl_easy_setopt(e, CURLOPT_IPRESOLVE, job_u32(m, 0) & PF_V6 ? CURL_IPRESOLVE_V6 : CURL_IPRESOLVE_V4);
	if (s[9] && (rl = curl_slist_append(NULL, s[9])))
		curl_easy_setopt(e, CURLOPT_RESOLVE, rl);
	curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_fn);
	curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, &x);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o.max_bytes);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_fn);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_fn);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);
	if (how == M_PUT) {
		x.up = m->f[14].p;
		x.up_len = m->f[14].len - 1;
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_fn);
		curl_easy_setopt(e, CURLOPT_READDATA, &x);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x.up_len);
		snprintf(h, sizeof(h), "Content-Type: %s", s[2]);
		x.hdrs = curl_slist_append(x.hdrs, h);
		x.hdrs = curl_slist_append(x.hdrs, "Expect:");
	} else if (s[1]) {
		snprintf(h, sizeof(h), "If-None-Match: %s", s[1]);
		x.hdrs = curl_slist_append(x.hdrs, h);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x.hdrs);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, how == PF_CONNECT ? CURLINFO_APPCONNECT_TIME : CURLINFO_TOTAL_TIME, &t);
out:
	if (x.easy && how >= PF_HEAD) {
		/* a probe: libcurl's own code and words */
		long code = 0;

		curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, &code);
		rep.http_status = (int)code;
		rep.result = rc ? PF_FAILED : PF_OK;
		rep.err = rc ? PF_E_OTHER : PF_E_NONE;
		utl_strlcpy(why, x.errbuf[0] ? x.errbuf : curl_easy_strerror(rc), sizeof(why));
	} else if (x.easy) {
		classify(&x, rc, &rep, why, sizeof(why));
	}
	job_begin(out, JOB_HTTP_REPLY);
	job_put_u32(out, rep.result);
	job_put_u32(out, rep.err);
	job_put_u32(out, (uint32_t)rep.http_status);
	job_put_str(out, x.etag);
	job_put_str(out, why);
	job_put(out, x.body, x.len);
	job_put_u32(out, rc);
	job_put_u32(out, (uint32_t)(t * 1000));
	if (x.easy) {   /* libcurl is loaded only past the HTTPS-only refusal */
		curl_slist_free_all(x.hdrs);
		curl_slist_free_all(rl);
		curl_easy_cleanup(x.easy);
	}
	free(x.body);
	return job_end(out);
}

/* ------------------------------------------------------------------ the agent's side */

static void req_free(struct pf_req *r)
{
	struct pf_ctx *ctx = r->ctx;
	struct pf_req **pp;

	for (pp = &ctx->reqs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			ctx->n--;
			break;
		}
	job_cancel(r->job);
	rsv_cancel(r->q);
	job_buf_free(&r->b);
	free(r->url);
	free(r);
}

static void deliver(struct pf_req *r, struct pf_reply *rep)
{
	rep->url = r->url;
	if (rep->result == PF_FAILED)
		log_info(SUB, "%s: %s", r->url, rep->why);
	r->cb(rep, r->arg);
	req_free(r);
}

/* A request that failed before or in its job: err and why to the caller. */
static void fail(struct pf_req *r, enum pf_err err, const char *why)
{
	struct pf_reply rep = { .result = PF_FAILED, .err = err, .body = "", .etag = "", .why = why };

	deliver(r, &rep);
}

/* The job's answer, checked: every number in range, the body within the cap. */
static void job_done(const struct job_msg *m, const char *jwhy, void *arg)
{
	struct pf_req *r = arg;
	struct pf_reply rep = { 0 };
	char why[300];

	r->job = NULL;
	if (m && job_u32(m, 0) <= PF_FAILED && job_u32(m, 1) <= PF_E_OTHER && job_u32(m, 2) < 1000 &&
	    m->f[3].len <= 160 && m->f[5].len - 1 <= r->ctx->o.max_bytes) {
		rep.result = job_u32(m, 0);
		rep.err = job_u32(m, 1);
		rep.http_status = (int)job_u32(m, 2);
		rep.etag = m->f[3].p;
		rep.why = m->f[4].p;
		rep.body = m->f[5].p;
		rep.len = m->f[5].len - 1;
		rep.rc = (int)job_u32(m, 6);
		rep.time_ms = job_u32(m, 7);
		deliver(r, &rep);
		return;
	}
	snprintf(why, sizeof(why), "transfer of %.100s failed: %s", r->url,
		 m ? "the job process answered out of range (refused)" : jwhy);
	fail(r, PF_E_OTHER, why);
}

int pf_new(struct pf_ctx **out, const struct pf_opts *opts)
{
	struct pf_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	ctx->o = *opts;
	if (!ctx->o.connect_timeout_ms)
		ctx->o.connect_timeout_ms = 10000;
	if (!ctx->o.total_timeout_ms)
		ctx->o.total_timeout_ms = 60000;
	if (!ctx->o.low_speed_bytes)
		ctx->o.low_speed_bytes = 64;
	if (!ctx->o.low_speed_s)
		ctx->o.low_speed_s = 20;
	if (!ctx->o.max_bytes)
		ctx->o.max_bytes = 256 * 1024;
	*out = ctx;
	return 0;
}

void pf_free(struct pf_ctx *ctx)
{
	if (!ctx)
		return;
	while (ctx->reqs)
		req_free(ctx->reqs);
	free(ctx);
}

unsigned pf_active(const struct pf_ctx *ctx)
{
	return ctx->n;
}

/* The rest of the request (resolve entry, interface) and the job. */
static int send_job(struct pf_req *r, const char *resolve, const char *ifname)
{
	int err;

	job_put_str(&r->b, resolve);
	job_put_str(&r->b, ifname);
	/* the child's own timeouts end it first; the deadline is for a hang */
	if ((err = job_end(&r->b)) >= 0)
		err = job_start(&r->job, &r->b, JOB_HTTP_REPLY, r->wait_ms, job_done, r);
	job_buf_free(&r->b);
	return err;
}

/* The server's name resolved: its addresses, in the resolver's order, go to
 * libcurl as "host:port:a,b,..." (libcurl reads IPv6 without brackets there). */
static void on_name(struct rsv_query *q, const struct rsv_result *res, void *arg)
{
	struct pf_req *r = arg;
	char rs[RSV_NAME_MAX + 8 + RSV_MAX_ADDR * INET6_ADDRSTRLEN];
	int n = snprintf(rs, sizeof(rs), "%s:%s", r->host, r->port), err = res->err;

	(void)q;
	r->q = NULL;
	for (size_t i = 0; !err && i < res->n; i++) {
		const struct sockaddr_storage *a = &res->addr[i];

		rs[n++] = i ? ',' : ':';
		inet_ntop(a->ss_family, (const char *)a + (a->ss_family == AF_INET6 ? offsetof(struct sockaddr_in6, sin6_addr)
									  : offsetof(struct sockaddr_in, sin_addr)),
			  rs + n, INET6_ADDRSTRLEN);
		n += (int)strlen(rs + n);
	}
	if (!err && (err = send_job(r, rs, NULL)) >= 0)
		return;
	snprintf(rs, sizeof(rs), "cannot resolve %s: %s", r->host, rsv_strerror(err));
	fail(r, PF_E_RESOLVE, rs);
}

static int start(struct pf_ctx *ctx, unsigned method, const char *url, const char *etag,
		 const char *body, size_t len, const char *type, const char *resolve, const char *ifname,
		 unsigned ms, pf_done_cb cb, void *arg, struct pf_req **out)
{
	const struct pf_opts *o = &ctx->o;
	struct pf_req *r = calloc(1, sizeof(*r));
	int err = -ENOMEM;

	if (!r || !(r->url = strdup(url)))
		goto out;
	r->ctx = ctx;
	r->cb = cb;
	r->arg = arg;
	{
		const uint32_t u[6] = { method, ms ? ms : o->connect_timeout_ms, ms ? ms : o->total_timeout_ms,
					o->low_speed_bytes, o->low_speed_s, (uint32_t)o->max_bytes };
		const char *str[8] = { url, etag, type, o->ca_file, o->cert_file, o->key_file, o->pinned_key,
				       o->user_agent };

		job_begin(&r->b, JOB_HTTP);
		for (unsigned i = 0; i < 6; i++)
			job_put_u32(&r->b, u[i]);
		for (unsigned i = 0; i < 8; i++)
			job_put_str(&r->b, str[i]);
		job_put(&r->b, body, len);
		r->wait_ms = u[2] + 5000;
	}
	/* GET and PUT to a name: the agent's one resolver, then the job. An IPv6
	 * literal ("[") or a URL libcurl refuses anyway goes as it is. */
	host_of(url, r->host, sizeof(r->host));
	{
		char *c = strrchr(r->host, ':');

		r->port = "443";
		if (c && r->host[0] != '[') {
			*c = 0;
			r->port = c + 1;
		}
	}
	if (method < PF_HEAD && r->host[0] != '[' && !strncasecmp(url, "https://", 8))
		err = rsv_lookup(r->host, RSV_ADDR, NULL, on_name, r, &r->q);
	else
		err = send_job(r, resolve, ifname);
	if (err < 0)
		goto out;
	r->next = ctx->reqs;
	ctx->reqs = r;
	ctx->n++;
	if (out)
		*out = r;
	return 0;
out:
	if (r) {
		job_buf_free(&r->b);
		free(r->url);
	}
	free(r);
	return err;
}

int pf_get(struct pf_ctx *ctx, const char *url, const char *etag,
	   pf_done_cb cb, void *arg, struct pf_req **out)
{
	return start(ctx, M_GET, url, etag, NULL, 0, NULL, NULL, NULL, 0, cb, arg, out);
}

int pf_put(struct pf_ctx *ctx, const char *url, const char *body, size_t len,
	   const char *content_type, pf_done_cb cb, void *arg, struct pf_req **out)
{
	return start(ctx, M_PUT, url, NULL, body, len, content_type, NULL, NULL, 0, cb, arg, out);
}

int pf_probe(struct pf_ctx *ctx, unsigned how, const char *url, const char *resolve, const char *ifname,
	     unsigned ms, pf_done_cb cb, void *arg, struct pf_req **out)
{
	return start(ctx, how, url, NULL, NULL, 0, NULL, resolve, ifname, ms, cb, arg, out);
}

void pf_cancel(struct pf_req *r)
{
	if (r)
		req_free(r);
}

/* fetch.h - HTTPS GET/PUT for the agent's loop, each run by libcurl in a
 * short-lived job process (common/job.h): libcurl never enters the agent.
 *
 * HTTPS only, also on redirects; the peer and host are always verified
 * against the configured CA bundle; a client certificate and key are sent
 * when configured (mutual TLS); optional public-key pin; connect and total
 * timeouts, a low-speed abort and a size cap. Failures come back as a class
 * (enum pf_err) and one sentence a technician can act on; a job process
 * that crashes, hangs past total_timeout_ms + 5 s or answers out of range
 * gives PF_FAILED/PF_E_OTHER saying so. Nothing here blocks.
 */
#ifndef DSA_PROVISIONING_FETCH_H
#define DSA_PROVISIONING_FETCH_H

#include <stddef.h>

struct pf_ctx;
struct pf_req;

struct pf_opts {
	const char *ca_file;        /* CA bundle verifying the server (NULL: system default) */
	const char *cert_file;      /* client certificate (PEM) or NULL */
	const char *key_file;       /* its key (PEM) or NULL */
	const char *pinned_key;     /* CURLOPT_PINNEDPUBLICKEY ("sha256//...") or NULL */
	const char *user_agent;     /* see pf_user_agent() */
	unsigned connect_timeout_ms;   /* default 10000 */
	unsigned total_timeout_ms;     /* default 60000 */
	unsigned low_speed_bytes;      /* abort below this many bytes/s ... (default 64) */
	unsigned low_speed_s;          /* ... for this long (default 20) */
	size_t max_bytes;              /* size cap of a body (default 256 KiB) */
};

enum pf_result {
	PF_OK = 0,          /* 2xx; body (GET) and etag filled */
	PF_NOT_MODIFIED,    /* 304: the ETag still matches */
	PF_NOT_FOUND,       /* 404 */
	PF_FAILED,          /* see err and why */
};

enum pf_err {
	PF_E_NONE = 0,
	PF_E_CLOCK,         /* TLS failed and the clock is before the build date */
	PF_E_TLS_TRUST,     /* server certificate not trusted / wrong host / pin */
	PF_E_CLIENT_CERT,   /* the server refused our client certificate (or none) */
	PF_E_HTTPS_ONLY,    /* URL is not https:// */
	PF_E_REDIRECT,      /* redirect to a non-HTTPS URL */
	PF_E_TOO_BIG,       /* body over max_bytes */
	PF_E_RESOLVE,       /* name not resolved */
	PF_E_CONNECT,       /* refused, unreachable */
	PF_E_TIMEOUT,       /* connect/total timeout or too slow */
	PF_E_HTTP,          /* other HTTP status */
	PF_E_OTHER,
};

struct pf_reply {
	enum pf_result result;
	enum pf_err err;
	int http_status;            /* 0 when no HTTP answer */
	const char *body;           /* GET body (NUL-terminated), valid during the callback */
	size_t len;
	const char *etag;           /* ETag of the answer ("" if none) */
	const char *url;            /* the URL asked for */
	const char *why;            /* one sentence for a technician ("" on success);
				     * pf_probe: libcurl's own words */
	int rc;                     /* pf_probe: libcurl's result code (CURLE_OK 0) */
	unsigned time_ms;           /* pf_probe: handshake (PF_CONNECT) or total time */
};

typedef void (*pf_done_cb)(const struct pf_reply *r, void *arg);

/* Create a fetch context on the (initialised) ev loop; 0 or -errno.
 * The strings in opts are not copied: they must outlive the context. */
int pf_new(struct pf_ctx **out, const struct pf_opts *opts);

/* Cancel every request (no callbacks) and free the context. */
void pf_free(struct pf_ctx *ctx);

/* GET url; etag (or NULL) is sent as If-None-Match. cb runs later from the
 * loop, exactly once, unless the request is cancelled. 0 or -errno (-ENOMEM). */
int pf_get(struct pf_ctx *ctx, const char *url, const char *etag,
	   pf_done_cb cb, void *arg, struct pf_req **out);

/* PUT body (copied) to url with the given Content-Type (required); as pf_get(). */
int pf_put(struct pf_ctx *ctx, const char *url, const char *body, size_t len,
	   const char *content_type, pf_done_cb cb, void *arg, struct pf_req **out);

/* What pf_probe does. */
enum pf_probe_how {
	PF_HEAD = 2,                /* a HEAD request, redirects not followed */
	PF_CONNECT = 3,             /* the TLS handshake only (verified) */
	PF_V6 = 4,                  /* with PF_CONNECT: over IPv6 (else IPv4) */
};

/* The self-test's probes: how (enum pf_probe_how) to url, connecting to the
 * address resolve gives ("host:port:addr", libcurl's CURLOPT_RESOLVE) from
 * interface ifname ("" or NULL: any); ms bounds it all. The reply carries
 * rc, time_ms and http_status. As pf_get(). */
int pf_probe(struct pf_ctx *ctx, unsigned how, const char *url, const char *resolve, const char *ifname,
	     unsigned ms, pf_done_cb cb, void *arg, struct pf_req **out);

/* Abort a request before its callback ran; its callback never runs. */
void pf_cancel(struct pf_req *req);

/* Number of requests in flight (for tests and status). */
unsigned pf_active(const struct pf_ctx *ctx);

struct job_msg;
struct job_buf;

/* The job process's side: run the JOB_HTTP request m (blocking) and put the
 * JOB_HTTP_REPLY into out. 0 or -errno. */
int pf_job(const struct job_msg *m, struct job_buf *out);

/* "dialstack-agent/VERSION (MODEL; MAC)" into buf; returns buf. */
const char *pf_user_agent(char *buf, size_t size, const char *model, const char *mac);

/* Name of an error class ("clock", "tls-trust", ...). */
const char *pf_err_name(enum pf_err e);

#endif

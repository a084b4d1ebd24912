/* lazy.h - a shared library opened on first use.
 *
 * The executable links only what registration needs (libc, libosip2,
 * OpenSSL, json-c). libcurl, libxml2, libsrtp2 and ALSA, with the ~40
 * libraries they pull in, are dlopen()ed when their first user calls them:
 * libcurl and libxml2 only in job processes (common/job.h: fetch, upload,
 * config check, the self-test's HTTPS/TLS probes), libsrtp2 in the SRTP
 * check's job; libsrtp2 (a test call with SRTP) and ALSA (the audio check)
 * in the agent, where they stay (see DESIGN.md, "Resident core").
 * Calls go through a table of pointers filled by dlsym (common/lazylibs.h);
 * each module calls lazy_need() at its entry points (pf_job, cfg_parse_mem,
 * msrtp_global_init, the audio check), which costs less code than a check
 * at every call site.
 */
#ifndef DSA_COMMON_LAZY_H
#define DSA_COMMON_LAZY_H

#include <stdbool.h>
#include <stddef.h>

struct lazy_lib {
	const char *soname;          /* "libcurl.so.4" */
	const char *package;         /* Debian/opkg package, for the message */
	const char *names;           /* "a\0b\0...": slot i of the table is the i-th name */
	unsigned nsyms;
	void *table;                 /* struct of nsyms function pointers */
	size_t table_size;
	void *h;
	unsigned loads;              /* how many times it was opened (status, bench) */
};

/* Open l and fill its table; a missing library or symbol ends the process
 * with a message naming the package (as the dynamic loader would have). */
void lazy_load(struct lazy_lib *l);

/* Open l when it is not open yet (called before every use). */
static inline void lazy_need(struct lazy_lib *l)
{
	if (__builtin_expect(!l->h, 0))
		lazy_load(l);
}

/* Point every slot of l at a trap (a call before lazy_need aborts with a
 * message instead of jumping to NULL). */
void lazy_traps(struct lazy_lib *l);

/* Whether l is open now. */
bool lazy_loaded(const struct lazy_lib *l);

/* How many of the libraries are open now. */
unsigned lazy_open_count(void);

#endif

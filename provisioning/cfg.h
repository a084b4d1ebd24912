/* cfg.h - the device configuration: parse, validate, merge, diff.
 *
 * The format is the project's own XML (docs/config.md, schema config.rng,
 * compiled into the binary). Parsing is pure: memory in, struct out, no I/O
 * except cfg_check_file(). Every value is range-checked by one table; all
 * errors are collected, each naming file:line, the element/attribute, the
 * bad value and what is allowed. Secrets (the SIP password) are never
 * echoed in messages.
 */
#ifndef DSA_PROVISIONING_CFG_H
#define DSA_PROVISIONING_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_MAX_SIZE       (256u * 1024u)  /* largest config file accepted */
#define CFG_MAX_REGISTRARS 4
#define CFG_MAX_CODECS     4
#define CFG_MAX_ERRORS     32               /* messages kept; more are counted */
#define CFG_ERR_LEN        240

/* The characters of a registrar's name, and of a host name (a tail of one
 * another, so the linker keeps one string: armhf size). */
#define CFG_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-"
#define CFG_HOST_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ." CFG_NAME_CHARS

enum cfg_transport { CFG_TP_UDP = 0, CFG_TP_TCP, CFG_TP_TLS };
enum cfg_codec { CFG_CODEC_PCMU = 0, CFG_CODEC_PCMA };

/* Self-test checks (bits of cfg_config.selftest_checks). */
enum cfg_check {
	CFG_CHECK_LINK        = 1u << 0,
	CFG_CHECK_ADDRESS     = 1u << 1,
	CFG_CHECK_CLOCK       = 1u << 2,
	CFG_CHECK_DNS         = 1u << 3,
	CFG_CHECK_REACH       = 1u << 4,
	CFG_CHECK_NAT         = 1u << 5,
	CFG_CHECK_UDP_MAPPING = 1u << 6,
	CFG_CHECK_ALG         = 1u << 7,
	CFG_CHECK_QUALITY     = 1u << 8,
	CFG_CHECK_DSCP        = 1u << 9,
	CFG_CHECK_MTU         = 1u << 10,
	CFG_CHECK_ALL         = (1u << 11) - 1,
};

struct cfg_registrar {
	char name[16];                 /* "east", "west" */
	char host[254];
	uint16_t port;                 /* 0: none given (a name: RFC 3263 NAPTR/SRV; else 5060, 5061 for tls) */
	enum cfg_transport transport;
	uint8_t priority;              /* 1 = preferred */
};

struct cfg_config {
	/* SIP account */
	char user[64];
	char auth_user[64];            /* defaults to user */
	char password[128];            /* secret: never log */
	char domain[254];
	/* registration */
	struct cfg_registrar registrars[CFG_MAX_REGISTRARS];
	unsigned n_registrars;         /* sorted by priority */
	uint32_t expires_s;            /* default 3600 */
	uint32_t failback_s;           /* default 600 */
	char sip_ca_bundle[256];       /* CA file for SIP TLS ("" = system default) */
	/* network */
	uint32_t keepalive_s;          /* default 20 */
	uint32_t vlan_id;              /* 0 = no voice VLAN */
	uint32_t vlan_priority;        /* 802.1p 0-7, default 5 */
	uint32_t dscp_audio;           /* default 46 */
	uint32_t dscp_signalling;      /* default 26 */
	uint32_t rtp_min, rtp_max;     /* default 10000-20000 */
	enum cfg_codec codecs[CFG_MAX_CODECS];
	unsigned n_codecs;             /* default PCMU, PCMA */
	/* provisioning */
	uint32_t resync_s;             /* default 86400; 0 = never */
	uint32_t resync_jitter_s;      /* default 3600 */
	uint32_t boot_delay_s;         /* max random delay before the first fetch, default 30 */
	char status_url[512];          /* "" = <server>/status/<mac12>/ */
	/* self-test */
	uint32_t selftest_checks;      /* enum cfg_check bits, default all */
	uint32_t selftest_duration_s;  /* default 10 */
	uint32_t selftest_interval_s;  /* periodic run, 0 = only on demand (default) */
	char selftest_boot[12];        /* at boot: "all" (default, also ""), "network", "none" */
	double jitter_good_ms, jitter_acceptable_ms;      /* 20, 30 */
	double loss_good_pct, loss_acceptable_pct;        /* 0.5, 1 */
	double rtt_good_ms, rtt_acceptable_ms, rtt_problematic_ms; /* 100, 150, 200 */
	double mos_good;                                  /* 4.0 */
	/* private: which settings a file set (for cfg_merge) */
	uint64_t set_mask;
};

/* Collected messages, each "file:line: what is wrong; what is allowed". */
struct cfg_errors {
	unsigned n;                    /* messages in msg[] */
	unsigned dropped;              /* further errors not kept */
	char msg[CFG_MAX_ERRORS][CFG_ERR_LEN];
};

/* What cfg_diff() reports as changed. */
enum cfg_change {
	CFG_CH_ACCOUNT    = 1u << 0,   /* user, auth user, password, domain */
	CFG_CH_REGISTRARS = 1u << 1,   /* registrars, expiry, fail-back, SIP CA */
	CFG_CH_VLAN       = 1u << 2,
	CFG_CH_DSCP       = 1u << 3,
	CFG_CH_KEEPALIVE  = 1u << 4,
	CFG_CH_MEDIA      = 1u << 5,   /* RTP range, codecs */
	CFG_CH_RESYNC     = 1u << 6,   /* resync interval/jitter, boot delay */
	CFG_CH_STATUS     = 1u << 7,   /* status URL */
	CFG_CH_SELFTEST   = 1u << 8,
	CFG_CH_SIP        = CFG_CH_ACCOUNT | CFG_CH_REGISTRARS,  /* needs re-registration */
};

/* What a file's bytes are, as check-config and the daemon both read them (cfg_detect). */
enum cfg_format {
	CFG_FMT_XML = 0,          /* '<' first (after a UTF-8 BOM and white space): a provisioned config */
	CFG_FMT_TEXT,             /* other UTF-8/ASCII text: the bootstrap key=value format */
	CFG_FMT_EMPTY,            /* nothing but white space (and a UTF-8 BOM) */
	CFG_FMT_UNSUPPORTED,      /* UTF-16, UTF-32 (BOM or NUL pattern) or binary: see *why */
};

/* The one detection of a file's encoding and format. A UTF-8 BOM is legal and
 * skipped (*skip = 3, else 0); CRLF line ends are fine. UTF-16/UTF-32 (by BOM
 * or by their NUL bytes) and other NUL bytes give CFG_FMT_UNSUPPORTED with *why
 * naming the encoding and the fix ("UTF-16 is not supported: save the file as
 * UTF-8 ..."; a static buffer, valid until the next call). skip and why may be NULL. */
enum cfg_format cfg_detect(const char *buf, size_t len, size_t *skip, const char **why);

/* Fill cfg with the documented defaults (no account, no registrars). */
void cfg_defaults(struct cfg_config *cfg);

/* Parse one file's bytes (name is used in messages) into cfg, starting from
 * the defaults. Returns 0, or -EINVAL with every problem in errs (errs may be
 * NULL). Never reads files or the network. */
int cfg_parse_mem(const char *buf, size_t len, const char *name,
		  struct cfg_config *cfg, struct cfg_errors *errs);

/* out = base with everything over set overriding it (registrars merge by name,
 * codec and check lists are replaced as a whole). out may alias base. */
void cfg_merge(struct cfg_config *out, const struct cfg_config *base,
	       const struct cfg_config *over);

/* Checks the merged config can be used (account and a registrar present).
 * 0 or -EINVAL with the reasons appended to errs. */
int cfg_complete(const struct cfg_config *cfg, struct cfg_errors *errs);

/* Whether cfg is a struct the parser could have made: every string ends
 * inside its array, every number and count within its range (a parse from a
 * job process or the cache is checked so before use). */
bool cfg_sane(const struct cfg_config *cfg);

/* Bitmask of enum cfg_change between two configs (old may be NULL: all). */
unsigned cfg_diff(const struct cfg_config *old, const struct cfg_config *cur);

/* Comma-separated names of the bits in a cfg_diff() mask, into buf. */
const char *cfg_change_str(unsigned mask, char *buf, size_t size);

/* Validate the file at path and print "OK" or every error to out.
 * Returns 0 valid, 1 invalid, 2 unreadable (see docs/config.md). */
int cfg_check_file(const char *path, FILE *out);

/* Name of a transport, codec or check bit ("udp", "PCMU", "alg"). */
const char *cfg_transport_name(enum cfg_transport t);
const char *cfg_codec_name(enum cfg_codec c);
const char *cfg_check_name(enum cfg_check c);

/* Append one formatted message to errs (used by the parser and callers). */
void cfg_err_add(struct cfg_errors *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Free the compiled schema cached by the parser (tests, valgrind). */
void cfg_cleanup(void);

#endif

/* cfg.c - parse, validate, merge and diff the device configuration.
 *
 * Order of work for one file: size cap and a raw scan for DOCTYPE/ENTITY
 * (refused before libxml2 sees them, so no entity is ever expanded), a
 * libxml2 parse with XML_PARSE_NONET and without NOENT/DTDLOAD/DTDVALID, the
 * compiled-in RELAX NG schema (structure), then one table (values and ranges).
 * Messages from all stages are sorted by line; a schema message on a line the
 * table already explained is dropped as a duplicate.
 */
#include "config.h"

#include "provisioning/cfg.h"
#include "provisioning/config-rng.h"
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include "common/lazylibs.h"          /* last: the libraries are loaded on use */

/* ------------------------------------------------------------------ errors */

void cfg_err_add(struct cfg_errors *errs, const char *fmt, ...)
{
	va_list ap;

	if (!errs)
		return;
	if (errs->n >= CFG_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(errs->msg[errs->n], CFG_ERR_LEN, fmt, ap);
	va_end(ap);
	errs->n++;
}

/* Messages gathered during one parse, flushed sorted by line. */
#define PENDING_MAX 96
struct pending {
	const char *name;
	unsigned n, dropped;
	struct {
		int line;
		bool schema;
		char text[CFG_ERR_LEN];
	} e[PENDING_MAX];
};

static void DSA_PRINTF(4, 5) pend(struct pending *p, int line, bool schema, const char *fmt, ...)
{
	va_list ap;

	if (p->n >= PENDING_MAX) {
		p->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(p->e[p->n].text, CFG_ERR_LEN, fmt, ap);
	va_end(ap);
	p->e[p->n].line = line;
	p->e[p->n].schema = schema;
	p->n++;
}

static void pend_flush(struct pending *p, struct cfg_errors *errs)
{
	unsigned i, j;

	for (i = 0; i < p->n; i++) {            /* insertion sort by line, stable */
		for (j = i; j > 0 && p->e[j - 1].line > p->e[j].line; j--) {
			__typeof__(p->e[0]) tmp = p->e[j];
			p->e[j] = p->e[j - 1];
			p->e[j - 1] = tmp;
		}
	}
	for (i = 0; i < p->n; i++) {
		bool dup = false;

		/* The structure walk and the table explain everything the schema
		 * checks, better; its own words are the fallback only. */
		if (p->e[i].schema)
			for (j = 0; j < p->n; j++)
				if (!p->e[j].schema)
					dup = true;
		if (dup)
			continue;
		if (p->e[i].line > 0)
			cfg_err_add(errs, "%s:%d: %s", p->name, p->e[i].line, p->e[i].text);
		else
			cfg_err_add(errs, "%s: %s", p->name, p->e[i].text);
	}
	if (errs)
		errs->dropped += p->dropped;
}

/* Trim libxml2's message (it ends with a newline) into a pending entry. */
static void xml_error_cb(void *ctx, xmlErrorPtr err)
{
	struct pending *p = ctx;
	char msg[CFG_ERR_LEN];
	size_t l;
	bool schema = err->domain == XML_FROM_RELAXNGV || err->domain == XML_FROM_RELAXNGP;

	utl_strlcpy(msg, err->message ? err->message : "unknown error", sizeof(msg));
	l = strlen(msg);
	while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
		msg[--l] = '\0';
	if (schema)
		pend(p, err->line ? err->line : err->node ? (int)xmlGetLineNo(err->node) : 0,
		     true, "does not match the schema: %s", msg);
	else
		pend(p, err->line, false, "malformed XML: %s", msg);
}

/* ------------------------------------------------------------------ the table */

enum vkind {
	V_UINT,      /* uint32_t, min..max */
	V_UINT0,     /* uint32_t, 0 or min..max */
	V_VLAN,      /* uint32_t, "none" (0) or min..max */
	V_DEC,       /* double, min..max, up to 3 decimals */
	V_TOKEN,     /* char[], printable, no spaces */
	V_SECRET,    /* char[], printable, never echoed */
	V_HOST,      /* char[], host name or IP literal */
	V_PATH,      /* char[], absolute path */
	V_URL,       /* char[], https:// URL */
};

/* The elements that hold settings (a row names its element by index). */
enum { E_ACCOUNT, E_REGISTRATION, E_NETWORK, E_VLAN, E_DSCP, E_RTP, E_PROVISIONING, E_SELFTEST,
       E_THRESHOLDS };
static const char elem_paths[][20] = {
	"account", "registration", "network", "network/vlan", "network/dscp", "network/rtp",
	"provisioning", "selftest", "selftest/thresholds",
};

/* 40 bytes a row on 32-bit ARM and no pointer (no relocation): names as
 * fixed arrays. Every bound and default below is exact in a float (integers
 * under 2^24, 0.5); a bound that is not (0.1) needs double here again. */
struct setting {
	char attr[18];
	char unit[3];                /* shown with ranges, "" = none */
	uint8_t elem;                /* elem_paths[]: path below <dialstack>, "network/dscp" */
	uint8_t kind;                /* enum vkind */
	uint16_t off;
	uint16_t size;               /* char[] size */
	float min, max;
	float def;                   /* numeric default */
};

_Static_assert(sizeof(struct cfg_config) <= UINT16_MAX, "struct setting's off and size are 16-bit");

#define F(f) offsetof(struct cfg_config, f), sizeof(((struct cfg_config *)0)->f)

static const struct setting settings[] = {
	{ "user", "", E_ACCOUNT, V_TOKEN, F(user), 1, 63, 0 },
	{ "auth-user", "", E_ACCOUNT, V_TOKEN, F(auth_user), 1, 63, 0 },
	{ "password", "", E_ACCOUNT, V_SECRET, F(password), 1, 127, 0 },
	{ "domain", "", E_ACCOUNT, V_HOST, F(domain), 1, 253, 0 },
	{ "expires", "s", E_REGISTRATION, V_UINT, F(expires_s), 60, 86400, 3600 },
	{ "failback", "s", E_REGISTRATION, V_UINT0, F(failback_s), 30, 86400, 600 },
	{ "ca-bundle", "", E_REGISTRATION, V_PATH, F(sip_ca_bundle), 1, 255, 0 },
	{ "keepalive", "s", E_NETWORK, V_UINT, F(keepalive_s), 1, 600, 20 },
	{ "id", "", E_VLAN, V_VLAN, F(vlan_id), 1, 4094, 0 },
	{ "priority", "", E_VLAN, V_UINT, F(vlan_priority), 0, 7, 5 },
	{ "audio", "", E_DSCP, V_UINT, F(dscp_audio), 0, 63, 46 },
	{ "signalling", "", E_DSCP, V_UINT, F(dscp_signalling), 0, 63, 26 },
	{ "min", "", E_RTP, V_UINT, F(rtp_min), 1024, 65534, 10000 },
	{ "max", "", E_RTP, V_UINT, F(rtp_max), 1025, 65535, 20000 },
	{ "resync", "s", E_PROVISIONING, V_UINT0, F(resync_s), 60, 2592000, 86400 },
	{ "resync-jitter", "s", E_PROVISIONING, V_UINT, F(resync_jitter_s), 0, 86400, 3600 },
	{ "boot-delay", "s", E_PROVISIONING, V_UINT, F(boot_delay_s), 0, 3600, 30 },
	{ "status-url", "", E_PROVISIONING, V_URL, F(status_url), 9, 511, 0 },
	{ "duration", "s", E_SELFTEST, V_UINT, F(selftest_duration_s), 1, 300, 10 },
	{ "interval", "s", E_SELFTEST, V_UINT0, F(selftest_interval_s), 300, 604800, 0 },
	{ "boot", "", E_SELFTEST, V_TOKEN, F(selftest_boot), 3, 7, 0 },
	{ "jitter-good", "ms", E_THRESHOLDS, V_DEC, F(jitter_good_ms), 0, 1000, 20 },
	{ "jitter-acceptable", "ms", E_THRESHOLDS, V_DEC, F(jitter_acceptable_ms), 0, 1000, 30 },
	{ "loss-good", "%", E_THRESHOLDS, V_DEC, F(loss_good_pct), 0, 100, 0.5 },
	{ "loss-acceptable", "%", E_THRESHOLDS, V_DEC, F(loss_acceptable_pct), 0, 100, 1 },
	{ "rtt-good", "ms", E_THRESHOLDS, V_DEC, F(rtt_good_ms), 0, 10000, 100 },
	{ "rtt-acceptable", "ms", E_THRESHOLDS, V_DEC, F(rtt_acceptable_ms), 0, 10000, 150 },
	{ "rtt-problematic", "ms", E_THRESHOLDS, V_DEC, F(rtt_problematic_ms), 0, 10000, 200 },
	{ "mos-good", "", E_THRESHOLDS, V_DEC, F(mos_good), 1, 5, 4.0 },
};

/* Bits of set_mask beyond the table: the lists. */
#define SET_REGISTRARS (1ull << 60)
#define SET_CODECS     (1ull << 61)
#define SET_CHECKS     (1ull << 62)

/* Name lists as NUL-separated strings read with utl_field (no pointer table
 * to relocate); the index of a name is its enum value (its bit for checks). */
static const char transport_names[] = "udp\0tcp\0tls";
static const char codec_names[] = "PCMU\0PCMA";
static const char check_names[] = "link\0address\0clock\0dns\0reachability\0nat\0"
				  "udp-mapping\0alg\0quality\0dscp\0mtu";
#define N_CHECKS 11

const char *cfg_transport_name(enum cfg_transport t)
{
	return (unsigned)t <= CFG_TP_TLS ? utl_field(transport_names, t) : "?";
}

const char *cfg_codec_name(enum cfg_codec c)
{
	return (unsigned)c <= CFG_CODEC_PCMA ? utl_field(codec_names, c) : "?";
}

const char *cfg_check_name(enum cfg_check c)
{
	for (unsigned i = 0; i < N_CHECKS; i++)
		if ((unsigned)c == 1u << i)
			return utl_field(check_names, i);
	return "?";
}

/* The index of s among the n NUL-separated names, or -1. */
static int name_index(const char *names, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++, names += strlen(names) + 1)
		if (strcmp(names, s) == 0)
			return (int)i;
	return -1;
}

void cfg_defaults(struct cfg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (unsigned i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *s = &settings[i];
		char *p = (char *)cfg + s->off;

		if (s->kind == V_DEC)
			*(double *)(void *)p = s->def;
		else if (s->kind <= V_VLAN)
			*(uint32_t *)(void *)p = (uint32_t)s->def;
	}
	cfg->codecs[0] = CFG_CODEC_PCMU;
	cfg->codecs[1] = CFG_CODEC_PCMA;
	cfg->n_codecs = 2;
	cfg->selftest_checks = CFG_CHECK_ALL;
}

bool cfg_sane(const struct cfg_config *c)
{
	for (unsigned i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *s = &settings[i];
		const char *p = (const char *)c + s->off;
		double x;

		if (s->kind >= V_TOKEN) {
			if (!memchr(p, 0, s->size))
				return false;
			continue;
		}
		x = s->kind == V_DEC ? *(const double *)(const void *)p : *(const uint32_t *)(const void *)p;
		if (!(x >= s->min && x <= s->max) && !(s->kind != V_UINT && s->kind != V_DEC && x == 0))
			return false;
	}
	if (c->n_registrars > CFG_MAX_REGISTRARS || c->n_codecs > CFG_MAX_CODECS ||
	    (c->selftest_checks & ~(uint32_t)CFG_CHECK_ALL))
		return false;
	for (unsigned i = 0; i < CFG_MAX_REGISTRARS; i++) {
		const struct cfg_registrar *r = &c->registrars[i];

		if (!memchr(r->name, 0, sizeof(r->name)) || !memchr(r->host, 0, sizeof(r->host)) ||
		    (unsigned)r->transport > CFG_TP_TLS)
			return false;
	}
	for (unsigned i = 0; i < CFG_MAX_CODECS; i++)
		if ((unsigned)c->codecs[i] > CFG_CODEC_PCMA)
			return false;
	return true;
}

/* --------------------------------------------------------------- value parsing */

/* Quote a value for a message: cut long ones, show control bytes as '?'. */
static const char *shown(const char *v, char *buf, size_t size)
{
	size_t i, n = strlen(v);

	if (n > 40) {
		snprintf(buf, size, "\"%.37s...\"", v);
	} else {
		snprintf(buf, size, "\"%s\"", v);
	}
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return buf;
}

/* Whole number with no sign, spaces or leading junk; false if not. */
static bool parse_uint(const char *v, double *out)
{
	double x = 0;

	if (!*v || strlen(v) > 10)
		return false;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		x = x * 10 + (*p - '0');
	}
	*out = x;
	return true;
}

/* Decimal "12", "0.5", "4.25" (at most 3 decimals), locale-independent. */
static bool parse_dec(const char *v, double *out)
{
	double x = 0, scale = 1;
	bool dot = false, digit = false;
	unsigned decimals = 0;

	if (strlen(v) > 12)
		return false;
	for (const char *p = v; *p; p++) {
		if (*p == '.' && !dot) {
			dot = true;
		} else if (*p >= '0' && *p <= '9') {
			digit = true;
			if (dot) {
				if (++decimals > 3)
					return false;
				scale /= 10;
				x += (*p - '0') * scale;
			} else {
				x = x * 10 + (*p - '0');
			}
		} else {
			return false;
		}
	}
	*out = x;
	return digit;
}

static bool printable_no_space(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '\'' || *p == '<' || *p == '>' || *p == '&')
			return false;
	return true;
}

static bool printable(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static bool valid_host(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 253)
		return false;
	if (v[0] == '[')             /* IPv6 literal */
		return v[n - 1] == ']' && strspn(v + 1, "0123456789abcdefABCDEF:.") == n - 2;
	if (v[0] == '-' || v[0] == '.' || v[n - 1] == '-')
		return false;
	if (strstr(v, ".."))
		return false;
	return strspn(v, CFG_HOST_CHARS) == n;
}

static bool valid_url(const char *v)
{
	const char *h, *end;

	if (strncmp(v, "https://", 8) != 0 || !printable_no_space(v))
		return false;
	h = v + 8;
	end = h + strcspn(h, "/:?#");
	return end > h;
}

/* Check one attribute against its table row and store it; false on error. */
static bool apply_setting(const struct setting *s, const char *v, int line,
			  struct cfg_config *cfg, struct pending *p)
{
	char *dst = (char *)cfg + s->off;
	char q[64], allowed[96];
	const char *elem = elem_paths[s->elem], *u = s->unit[0] ? " " : "", *un = s->unit;
	double x;
	size_t n = strlen(v);

	switch (s->kind) {
	case V_UINT:
	case V_UINT0:
	case V_VLAN:
		if (s->kind == V_VLAN && strcmp(v, "none") == 0) {
			*(uint32_t *)(void *)dst = 0;
			return true;
		}
		if (s->kind == V_UINT0)
			snprintf(allowed, sizeof(allowed), "0 (off) or %.0f-%.0f%s%s", s->min, s->max, u, un);
		else if (s->kind == V_VLAN)
			snprintf(allowed, sizeof(allowed), "\"none\" or a VLAN id %.0f-%.0f", s->min, s->max);
		else
			snprintf(allowed, sizeof(allowed), "%.0f-%.0f%s%s", s->min, s->max, u, un);
		if (!parse_uint(v, &x)) {
			pend(p, line, false, "<%s %s=%s>: not a whole number; allowed %s",
			     elem, s->attr, shown(v, q, sizeof(q)), allowed);
			return false;
		}
		if ((x < s->min || x > s->max) && !(s->kind == V_UINT0 && x == 0)) {
			pend(p, line, false, "<%s %s=%s>: %.0f is out of range; allowed %s",
			     elem, s->attr, shown(v, q, sizeof(q)), x, allowed);
			return false;
		}
		*(uint32_t *)(void *)dst = (uint32_t)x;
		return true;
	case V_DEC:
		if (!parse_dec(v, &x)) {
			pend(p, line, false, "<%s %s=%s>: not a number; allowed a decimal such as 0.5 (at most 3 decimals), %g-%g%s%s",
			     elem, s->attr, shown(v, q, sizeof(q)), s->min, s->max, u, un);
			return false;
		}
		if (x < s->min || x > s->max) {
			pend(p, line, false, "<%s %s=%s>: %g is out of range; allowed %g-%g%s%s",
			     elem, s->attr, shown(v, q, sizeof(q)), x, s->min, s->max, u, un);
			return false;
		}
		*(double *)(void *)dst = x;
		return true;
	default:
		break;
	}
	/* strings */
	if (n < (size_t)s->min || n > (size_t)s->max || n >= s->size) {
		if (s->kind == V_SECRET)
			pend(p, line, false, "<%s %s>: the value has %zu characters; allowed %.0f-%.0f (value not shown)",
			     elem, s->attr, n, s->min, s->max);
		else
			pend(p, line, false, "<%s %s=%s>: the value has %zu characters; allowed %.0f-%.0f",
			     elem, s->attr, shown(v, q, sizeof(q)), n, s->min, s->max);
		return false;
	}
	switch (s->kind) {
	case V_TOKEN:
		if (!printable_no_space(v)) {
			pend(p, line, false, "<%s %s=%s>: contains a space, quote, <, >, & or control character; allowed printable characters without those",
			     elem, s->attr, shown(v, q, sizeof(q)));
			return false;
		}
		break;
	case V_SECRET:
		if (!printable(v)) {
			pend(p, line, false, "<%s %s>: contains a control character (value not shown); allowed printable characters",
			     elem, s->attr);
			return false;
		}
		break;
	case V_HOST:
		if (!valid_host(v)) {
			pend(p, line, false, "<%s %s=%s>: not a host name or IP address; allowed letters, digits, '.', '-', or [IPv6]",
			     elem, s->attr, shown(v, q, sizeof(q)));
			return false;
		}
		break;
	case V_PATH:
		if (v[0] != '/' || !printable_no_space(v)) {
			pend(p, line, false, "<%s %s=%s>: not an absolute file path; allowed /path/without/spaces",
			     elem, s->attr, shown(v, q, sizeof(q)));
			return false;
		}
		break;
	case V_URL:
		if (!valid_url(v)) {
			pend(p, line, false, "<%s %s=%s>: not an HTTPS URL; allowed https://host[:port]/path (HTTPS only)",
			     elem, s->attr, shown(v, q, sizeof(q)));
			return false;
		}
		break;
	default:
		break;
	}
	memcpy(dst, v, n + 1);
	return true;
}

/* ------------------------------------------------------------------ the tree */

static bool is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The first child element of parent along "a/b" (NULL if absent). */
static xmlNode *find_path(xmlNode *parent, const char *path)
{
	char part[32];
	const char *p = path;

	while (parent && *p) {
		size_t l = strcspn(p, "/");
		xmlNode *c;

		if (l >= sizeof(part))
			return NULL;
		memcpy(part, p, l);
		part[l] = '\0';
		for (c = parent->children; c && !is_elem(c, part); c = c->next)
			;
		parent = c;
		p += l;
		if (*p == '/')
			p++;
	}
	return parent;
}

/* Value of attribute name of n (libxml2-allocated) or NULL. */
static char *attr(xmlNode *n, const char *name)
{
	return (char *)xmlGetNoNsProp(n, (const xmlChar *)name);
}

static void walk_registrars(xmlNode *root, struct cfg_config *cfg, struct pending *p)
{
	xmlNode *list = find_path(root, "registrars"), *r;
	static const struct { const char *attr; double min, max; } rows[] = {
		{ "port", 1, 65535 }, { "priority", 1, 9 },
	};

	if (!list)
		return;
	cfg->set_mask |= SET_REGISTRARS;
	for (r = list->children; r; r = r->next) {
		struct cfg_registrar reg = { .port = 0, .transport = CFG_TP_UDP, .priority = 0 };
		int line = (int)xmlGetLineNo(r);
		bool ok = true;
		char *v;
		char q[64];

		if (!is_elem(r, "registrar"))
			continue;
		if ((v = attr(r, "name"))) {
			if (!*v || strlen(v) >= sizeof(reg.name) || strspn(v, CFG_NAME_CHARS) != strlen(v)) {
				pend(p, line, false, "<registrar name=%s>: allowed 1-15 lowercase letters, digits or '-' (e.g. east, west)",
				     shown(v, q, sizeof(q)));
				ok = false;
			} else {
				utl_strlcpy(reg.name, v, sizeof(reg.name));
			}
			xmlFree(v);
		}
		if ((v = attr(r, "host"))) {
			if (!valid_host(v)) {
				pend(p, line, false, "<%s %s=%s>: not a host name or IP address; allowed letters, digits, '.', '-', or [IPv6]",
				     "registrar", "host", shown(v, q, sizeof(q)));
				ok = false;
			} else {
				utl_strlcpy(reg.host, v, sizeof(reg.host));
			}
			xmlFree(v);
		}
		if ((v = attr(r, "transport"))) {
			int t = name_index(transport_names, CFG_TP_TLS + 1, v);

			if (t < 0) {
				pend(p, line, false, "<registrar transport=%s>: unknown transport; allowed udp, tcp, tls",
				     shown(v, q, sizeof(q)));
				ok = false;
			} else {
				reg.transport = (enum cfg_transport)t;
			}
			xmlFree(v);
		}
		for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
			double x;

			if (!(v = attr(r, rows[i].attr)))
				continue;
			if (!parse_uint(v, &x) || x < rows[i].min || x > rows[i].max) {
				pend(p, line, false, "<registrar %s=%s>: allowed a whole number %.0f-%.0f",
				     rows[i].attr, shown(v, q, sizeof(q)), rows[i].min, rows[i].max);
				ok = false;
			} else if (i == 0) {
				reg.port = (uint16_t)x;
			} else {
				reg.priority = (uint8_t)x;
			}
			xmlFree(v);
		}
		if (!ok || !reg.name[0] || !reg.host[0])
			continue;           /* missing name/host: the schema says so */
		for (unsigned i = 0; i < cfg->n_registrars; i++) {
			if (strcmp(cfg->registrars[i].name, reg.name) == 0) {
				pend(p, line, false, "<registrar name=\"%s\">: the name is used twice; allowed one <registrar> per name",
				     reg.name);
				ok = false;
			}
		}
		if (!ok)
			continue;
		if (cfg->n_registrars >= CFG_MAX_REGISTRARS) {
			pend(p, line, false, "<registrar name=\"%s\">: too many registrars; allowed at most %d",
			     reg.name, CFG_MAX_REGISTRARS);
			continue;
		}
		if (!reg.priority)
			reg.priority = (uint8_t)(cfg->n_registrars + 1);
		cfg->registrars[cfg->n_registrars++] = reg;
	}
}

static void walk_codecs(xmlNode *root, struct cfg_config *cfg, struct pending *p)
{
	xmlNode *list = find_path(root, "codecs"), *c;

	if (!list)
		return;
	cfg->set_mask |= SET_CODECS;
	cfg->n_codecs = 0;
	for (c = list->children; c; c = c->next) {
		char *v, q[64];
		int i;

		if (!is_elem(c, "codec") || !(v = attr(c, "name")))
			continue;
		i = name_index(codec_names, CFG_CODEC_PCMA + 1, v);
		if (i < 0) {
			pend(p, (int)xmlGetLineNo(c), false, "<codec name=%s>: unsupported codec; allowed PCMU, PCMA (G.711)",
			     shown(v, q, sizeof(q)));
		} else {
			bool dup = false;

			for (unsigned k = 0; k < cfg->n_codecs; k++)
				dup |= cfg->codecs[k] == (enum cfg_codec)i;
			if (!dup && cfg->n_codecs < CFG_MAX_CODECS)
				cfg->codecs[cfg->n_codecs++] = (enum cfg_codec)i;
		}
		xmlFree(v);
	}
	if (cfg->n_codecs == 0)
		pend(p, (int)xmlGetLineNo(list), false, "<codecs>: no usable codec; allowed PCMU and/or PCMA");
}

static void walk_checks(xmlNode *root, struct cfg_config *cfg, struct pending *p)
{
	xmlNode *st = find_path(root, "selftest"), *c;
	bool any = false;

	if (!st)
		return;
	for (c = st->children; c; c = c->next) {
		char *v, q[64];
		int i;

		if (!is_elem(c, "check") || !(v = attr(c, "name")))
			continue;
		if (!any) {
			cfg->selftest_checks = 0;
			cfg->set_mask |= SET_CHECKS;
			any = true;
		}
		i = name_index(check_names, N_CHECKS, v);
		if (i < 0)
			pend(p, (int)xmlGetLineNo(c), false,
			     "<check name=%s>: unknown check; allowed link, address, clock, dns, reachability, nat, udp-mapping, alg, quality, dscp, mtu",
			     shown(v, q, sizeof(q)));
		else
			cfg->selftest_checks |= 1u << i;
		xmlFree(v);
	}
}

/* Relations between values of one file or a merged config. */
static void cross_checks(const struct cfg_config *c, struct pending *p, int line)
{
	if (c->rtp_min > c->rtp_max)
		pend(p, line, false, "<rtp>: min %u is above max %u; allowed min <= max",
		     c->rtp_min, c->rtp_max);
	if (c->jitter_good_ms > c->jitter_acceptable_ms)
		pend(p, line, false, "<thresholds>: jitter-good %g ms is above jitter-acceptable %g ms; allowed good <= acceptable",
		     c->jitter_good_ms, c->jitter_acceptable_ms);
	if (c->loss_good_pct > c->loss_acceptable_pct)
		pend(p, line, false, "<thresholds>: loss-good %g %% is above loss-acceptable %g %%; allowed good <= acceptable",
		     c->loss_good_pct, c->loss_acceptable_pct);
	if (c->rtt_good_ms > c->rtt_acceptable_ms || c->rtt_acceptable_ms > c->rtt_problematic_ms)
		pend(p, line, false, "<thresholds>: rtt-good %g, rtt-acceptable %g, rtt-problematic %g ms; allowed good <= acceptable <= problematic",
		     c->rtt_good_ms, c->rtt_acceptable_ms, c->rtt_problematic_ms);
	if (c->resync_s && c->resync_jitter_s >= c->resync_s)
		pend(p, line, false, "<provisioning>: resync-jitter %u s is not below resync %u s; allowed jitter < interval",
		     c->resync_jitter_s, c->resync_s);
	if (c->selftest_boot[0] && strcmp(c->selftest_boot, "all") && strcmp(c->selftest_boot, "network") &&
	    strcmp(c->selftest_boot, "none"))
		pend(p, line, false, "<selftest boot=\"%.8s\">: unknown; allowed all, network or none",
		     c->selftest_boot);
}


/* ------------------------------------------------------------------ structure */

/* Which elements and attributes exist where (the schema, in words a
 * technician can act on). */
struct shape {
	/* "path\0children\0attrs\0required": path "" = <dialstack>; children and
	 * attrs space-separated ("" = none); required: attributes that must be
	 * present. One string (one relocation) a row. */
	const char *f;
	bool repeat;                 /* may appear more than once */
};

static const struct shape shapes[] = {
	{ "\0account registration registrars network codecs provisioning selftest\0version\0version", false },
	{ "account\0\0user auth-user password domain\0", false },
	{ "registration\0\0expires failback ca-bundle\0", false },
	{ "registrars\0registrar\0\0", false },
	{ "registrars/registrar\0\0name host port transport priority\0name host", true },
	{ "network\0vlan dscp rtp\0keepalive\0", false },
	{ "network/vlan\0\0id priority\0id", false },
	{ "network/dscp\0\0audio signalling\0", false },
	{ "network/rtp\0\0min max\0", false },
	{ "codecs\0codec\0\0", false },
	{ "codecs/codec\0\0name\0name", true },
	{ "provisioning\0\0resync resync-jitter boot-delay status-url\0", false },
	{ "selftest\0check thresholds\0duration interval boot\0", false },
	{ "selftest/check\0\0name\0name", true },
	{ "selftest/thresholds\0\0jitter-good jitter-acceptable loss-good loss-acceptable rtt-good rtt-acceptable rtt-problematic mos-good\0", false },
};

enum { SH_CHILDREN = 1, SH_ATTRS, SH_REQUIRED };

static const struct shape *shape_of(const char *path)
{
	for (unsigned i = 0; i < ARRAY_SIZE(shapes); i++)
		if (strcmp(shapes[i].f, path) == 0)
			return &shapes[i];
	return NULL;
}

/* Whether word is one of the space-separated words of list. */
static bool in_list(const char *list, const char *word)
{
	size_t l = strlen(word);

	for (const char *p = list; *p; ) {
		size_t n = strcspn(p, " ");

		if (n == l && strncmp(p, word, l) == 0)
			return true;
		p += n;
		p += *p == ' ';
	}
	return false;
}

/* Print the words of list as "<a>, <b>" (elements) or "a, b" (attributes). */
static const char *listed(const char *list, bool elems, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const char *p = list; *p && used + 1 < size; ) {
		size_t n = strcspn(p, " ");
		int w = snprintf(buf + used, size - used, "%s%s%.*s%s", used ? ", " : "",
				 elems ? "<" : "", (int)n, p, elems ? ">" : "");

		if (w < 0 || (size_t)w >= size - used)
			break;
		used += (size_t)w;
		p += n;
		p += *p == ' ';
	}
	if (!buf[0])
		utl_strlcpy(buf, "none", size);
	return buf;
}

static void walk_shape(xmlNode *e, const char *path, struct pending *p)
{
	const struct shape *sh = shape_of(path);
	const char *children, *attrs;
	char allowed[200], q[64];
	int line = (int)xmlGetLineNo(e);

	if (!sh)
		return;
	children = utl_field(sh->f, SH_CHILDREN);
	attrs = utl_field(sh->f, SH_ATTRS);
	for (xmlAttr *a = e->properties; a; a = a->next) {
		if (!in_list(attrs, (const char *)a->name))
			pend(p, line, false, "<%s>: unknown attribute %s; allowed %s",
			     (const char *)e->name, (const char *)a->name, listed(attrs, false, allowed, sizeof(allowed)));
	}
	for (const char *r = utl_field(sh->f, SH_REQUIRED); *r; ) {
		char name[32];
		size_t n = strcspn(r, " ");
		xmlChar *v;

		snprintf(name, sizeof(name), "%.*s", (int)n, r);
		v = xmlGetNoNsProp(e, (const xmlChar *)name);
		if (!v)
			pend(p, line, false, "<%s>: attribute %s is missing; it is required", (const char *)e->name, name);
		xmlFree(v);
		r += n;
		r += *r == ' ';
	}
	for (xmlNode *c = e->children; c; c = c->next) {
		char sub[64];
		const struct shape *csh;

		if (c->type == XML_TEXT_NODE) {
			const xmlChar *t = c->content;

			while (t && *t && strchr(" \t\r\n", *t))
				t++;
			if (t && *t)
				pend(p, (int)xmlGetLineNo(c), false, "<%s>: unexpected text %s; values go in attributes",
				     (const char *)e->name, shown((const char *)t, q, sizeof(q)));
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!in_list(children, (const char *)c->name)) {
			pend(p, (int)xmlGetLineNo(c), false, "unknown element <%s> inside <%s>; allowed %s",
			     (const char *)c->name, (const char *)e->name,
			     listed(children, true, allowed, sizeof(allowed)));
			continue;
		}
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "/" : "", (const char *)c->name);
		csh = shape_of(sub);
		if (csh && !csh->repeat) {
			for (xmlNode *d = e->children; d != c; d = d->next)
				if (is_elem(d, (const char *)c->name)) {
					pend(p, (int)xmlGetLineNo(c), false, "<%s> appears a second time (first on line %ld); allowed once",
					     (const char *)c->name, xmlGetLineNo(d));
					break;
				}
		}
		walk_shape(c, sub, p);
	}
	if (children[0] && !sh->repeat && e->children == NULL && strcmp(path, "registrars") == 0)
		pend(p, line, false, "<registrars> is empty; allowed one or more <registrar>");
}

/* ------------------------------------------------------------------ schema */

static xmlRelaxNGPtr schema;

static void schema_error_cb(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;   /* the compiled-in schema is tested; a failure is reported below */
}

/* The schema's text: each byte 1-31 of cfg_schema_rng stands for that word of
 * cfg_schema_dict (provisioning/rng2c.awk). Malloc'd, NULL when out of memory. */
static char *schema_text(size_t *len)
{
	const unsigned char *p;
	size_t n = 0;
	char *out, *o;

	for (p = (const unsigned char *)cfg_schema_rng; *p; p++)
		n += *p < 32 ? strlen(utl_field(cfg_schema_dict, *p - 1u)) : 1;
	out = o = malloc(n + 1);
	if (!out)
		return NULL;
	for (p = (const unsigned char *)cfg_schema_rng; *p; p++) {
		const char *w;

		if (*p >= 32) {
			*o++ = (char)*p;
			continue;
		}
		w = utl_field(cfg_schema_dict, *p - 1u);
		memcpy(o, w, strlen(w));
		o += strlen(w);
	}
	*o = '\0';
	*len = n;
	return out;
}

static xmlRelaxNGPtr get_schema(void)
{
	xmlRelaxNGParserCtxtPtr pc;
	size_t len;
	char *text;

	if (schema)
		return schema;
	text = schema_text(&len);
	if (!text)
		return NULL;
	pc = xmlRelaxNGNewMemParserCtxt(text, (int)len);
	if (pc) {
		xmlRelaxNGSetParserStructuredErrors(pc, schema_error_cb, NULL);
		schema = xmlRelaxNGParse(pc);
		xmlRelaxNGFreeParserCtxt(pc);
	}
	free(text);
	return schema;
}

void cfg_cleanup(void)
{
	if (schema)
		xmlRelaxNGFree(schema);
	schema = NULL;
}

/* ------------------------------------------------------------------ parse */

/* Line (1-based) of offset off in buf. */
static int line_of(const char *buf, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

/* ------------------------------------------------------------------ encoding */

enum cfg_format cfg_detect(const char *buf, size_t len, size_t *skip, const char **why)
{
	/* One message for the eight wide-encoding cases (BOM or NUL pattern). */
	static const char tail[][36] = {
		" byte-order mark", ": NUL bytes around every character",
		": a NUL byte after every character", ": a NUL byte before every character",
	};
	static const struct {
		char bom[5];
		unsigned char len;
	} boms[] = {   /* UTF-32 first: its little-endian BOM starts like UTF-16's */
		{ "\xFF\xFE\0\0", 4 }, { "\0\0\xFE\xFF", 4 }, { "\xFF\xFE", 2 }, { "\xFE\xFF", 2 },
	};
	static char msg[128];           /* the agent is single-threaded */
	const unsigned char *u = (const unsigned char *)buf;
	const char *dummy;
	size_t i, s = 0;
	int enc = -1, pattern = 0;      /* enc: 0 UTF-32LE, 1 UTF-32BE, 2 UTF-16LE, 3 UTF-16BE */

	if (!skip)
		skip = &s;
	if (!why)
		why = &dummy;
	*skip = 0;
	*why = NULL;
	for (i = 0; i < ARRAY_SIZE(boms) && enc < 0; i++)
		if (len >= boms[i].len && !memcmp(buf, boms[i].bom, boms[i].len))
			enc = (int)i;
	if (enc < 0 && memchr(buf, '\0', len)) {
		/* no BOM: tell the wide encodings by where the NULs of ASCII text fall */
		if (len >= 4 && u[0] && !u[1] && !u[2] && !u[3])
			enc = 0, pattern = 1;
		else if (len >= 4 && !u[0] && !u[1] && !u[2] && u[3])
			enc = 1, pattern = 1;
		else if (len >= 2 && u[0] && !u[1])
			enc = 2, pattern = 2;
		else if (len >= 2 && !u[0] && u[1])
			enc = 3, pattern = 3;
		else {
			*why = "the file contains NUL bytes (binary, or a UTF-16/UTF-32 file?); save it as UTF-8 text";
			return CFG_FMT_UNSUPPORTED;
		}
	}
	if (enc >= 0) {
		int bits = enc < 2 ? 32 : 16;
		const char *end = enc & 1 ? "BE" : "LE";

		snprintf(msg, sizeof(msg), "UTF-%d is not supported: save the file as UTF-8 (it %s UTF-%d%s%s)",
			 bits, pattern ? "looks like" : "starts with a", bits, end, tail[pattern]);
		*why = msg;
		return CFG_FMT_UNSUPPORTED;
	}
	if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		*skip = 3;
	for (i = *skip; i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'); i++)
		;
	if (i == len)
		return CFG_FMT_EMPTY;
	return buf[i] == '<' ? CFG_FMT_XML : CFG_FMT_TEXT;
}

/* Refuse what must never reach the XML parser; false if refused. */
static bool prescan(const char *buf, size_t len, struct pending *p)
{
	const char *hit, *why;
	int line = 0;

	if (len > CFG_MAX_SIZE) {
		pend(p, 0, false, "the file has %zu bytes, larger than the %u-byte limit; allowed at most %u bytes",
		     len, CFG_MAX_SIZE, CFG_MAX_SIZE);
		return false;
	}
	/* the three cases of no document share the advice's text (armhf size) */
	why = "the file is empty";
	if (len == 0)
		goto no_doc;
	switch (cfg_detect(buf, len, NULL, &why)) {
	case CFG_FMT_UNSUPPORTED:
		pend(p, 0, false, "%s", why);
		return false;
	case CFG_FMT_EMPTY:
		why = "the file holds only white space";
		goto no_doc;
	case CFG_FMT_TEXT:
		line = 1;
		why = "malformed XML: the file does not start with '<' (a bootstrap file?)";
		goto no_doc;
	case CFG_FMT_XML:
		break;
	}
	if ((hit = memmem(buf, len, "<!DOCTYPE", 9)) || (hit = memmem(buf, len, "<!ENTITY", 8))) {
		pend(p, line_of(buf, (size_t)(hit - buf)), false,
		     "DOCTYPE/ENTITY declarations are refused (DTDs and entities are not allowed, so no entity is expanded); remove the <!DOCTYPE ...> block");
		return false;
	}
	return true;
no_doc:
	pend(p, line, false, "%s; expected a <dialstack version=\"1\"> document", why);
	return false;
}

int cfg_parse_mem(const char *buf, size_t len, const char *name,
		  struct cfg_config *cfg, struct cfg_errors *errs)
{
	struct pending *p;
	xmlDocPtr doc = NULL;
	xmlNode *root;
	xmlRelaxNGPtr rng;
	xmlRelaxNGValidCtxtPtr vc;
	char *v;
	size_t bom = 0;
	int err = -EINVAL;

	lazy_need(&lazy_xml_lib);
	cfg_defaults(cfg);
	p = calloc(1, sizeof(*p));
	if (!p) {
		cfg_err_add(errs, "%s: out of memory", name);
		return -ENOMEM;
	}
	p->name = name ? name : "config";
	if (!buf || !prescan(buf, len, p))
		goto out;

	/* a UTF-8 BOM is legal XML: skipped here, so the parser and check-config see the same bytes */
	(void)cfg_detect(buf, len, &bom, NULL);
	xmlSetStructuredErrorFunc(p, xml_error_cb);
	doc = xmlReadMemory(buf + bom, (int)(len - bom), p->name, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOBLANKS);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!doc) {
		if (p->n == 0)
			pend(p, 0, false, "malformed XML: cannot be parsed");
		goto out;
	}
	if (doc->intSubset || doc->extSubset) {   /* belt and braces: prescan saw none */
		pend(p, 1, false, "DOCTYPE declarations are refused; remove the <!DOCTYPE ...> block");
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is_elem(root, "dialstack")) {
		pend(p, root ? (int)xmlGetLineNo(root) : 0, false,
		     "the root element is <%s>; expected <dialstack version=\"1\">",
		     root ? (const char *)root->name : "(none)");
		goto out;
	}
	v = attr(root, "version");
	if (!v || strcmp(v, "1") != 0) {
		char q[64];

		pend(p, (int)xmlGetLineNo(root), false,
		     "<dialstack version=%s>: unsupported format version; this agent reads version=\"1\"",
		     v ? shown(v, q, sizeof(q)) : "(missing)");
		xmlFree(v);
		goto out;
	}
	xmlFree(v);

	rng = get_schema();
	if (!rng) {
		pend(p, 0, false, "internal error: the built-in schema does not compile");
		goto out;
	}
	vc = xmlRelaxNGNewValidCtxt(rng);
	if (!vc) {
		pend(p, 0, false, "out of memory");
		goto out;
	}
	xmlRelaxNGSetValidStructuredErrors(vc, xml_error_cb, p);
	(void)xmlRelaxNGValidateDoc(vc, doc);
	xmlRelaxNGFreeValidCtxt(vc);
	walk_shape(root, "", p);

	for (unsigned i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *s = &settings[i];
		xmlNode *e = find_path(root, elem_paths[s->elem]);

		if (!e || !(v = attr(e, s->attr)))
			continue;
		if (apply_setting(s, v, (int)xmlGetLineNo(e), cfg, p))
			cfg->set_mask |= 1ull << i;
		xmlFree(v);
	}
	walk_registrars(root, cfg, p);
	walk_codecs(root, cfg, p);
	walk_checks(root, cfg, p);
	if (p->n == 0)
		cross_checks(cfg, p, (int)xmlGetLineNo(root));
	if (p->n == 0)
		err = 0;
out:
	if (doc)
		xmlFreeDoc(doc);
	pend_flush(p, errs);
	free(p);
	return err;
}

/* ------------------------------------------------------------------ merge */

static int reg_cmp(const void *a, const void *b)
{
	const struct cfg_registrar *x = a, *y = b;

	return (int)x->priority - (int)y->priority;
}

void cfg_merge(struct cfg_config *out, const struct cfg_config *base,
	       const struct cfg_config *over)
{
	struct cfg_config m = *base;

	for (unsigned i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *s = &settings[i];
		size_t sz = s->kind == V_DEC ? sizeof(double) : s->kind <= V_VLAN ? sizeof(uint32_t) : s->size;

		if (over->set_mask & (1ull << i))
			memcpy((char *)&m + s->off, (const char *)over + s->off, sz);
	}
	if (over->set_mask & SET_REGISTRARS) {
		for (unsigned i = 0; i < over->n_registrars; i++) {
			const struct cfg_registrar *r = &over->registrars[i];
			unsigned j;

			for (j = 0; j < m.n_registrars; j++)
				if (strcmp(m.registrars[j].name, r->name) == 0)
					break;
			if (j < m.n_registrars)
				m.registrars[j] = *r;
			else if (m.n_registrars < CFG_MAX_REGISTRARS)
				m.registrars[m.n_registrars++] = *r;
		}
	}
	if (over->set_mask & SET_CODECS) {
		memcpy(m.codecs, over->codecs, sizeof(m.codecs));
		m.n_codecs = over->n_codecs;
	}
	if (over->set_mask & SET_CHECKS)
		m.selftest_checks = over->selftest_checks;
	m.set_mask = base->set_mask | over->set_mask;
	qsort(m.registrars, m.n_registrars, sizeof(m.registrars[0]), reg_cmp);
	*out = m;
}

int cfg_complete(const struct cfg_config *cfg, struct cfg_errors *errs)
{
	struct pending *p = calloc(1, sizeof(*p));
	int err = 0;

	if (!p)
		return -ENOMEM;
	p->name = "merged config";
	if (!cfg->user[0])
		pend(p, 0, false, "no SIP account: <account user=...> is missing from both files (usually the per-MAC file sets it)");
	if (!cfg->domain[0])
		pend(p, 0, false, "no SIP domain: <account domain=...> is missing from both files");
	if (cfg->n_registrars == 0)
		pend(p, 0, false, "no registrar: <registrars><registrar .../></registrars> is missing from both files");
	cross_checks(cfg, p, 0);
	if (p->n)
		err = -EINVAL;
	pend_flush(p, errs);
	free(p);
	return err;
}

/* ------------------------------------------------------------------ diff */

unsigned cfg_diff(const struct cfg_config *o, const struct cfg_config *n)
{
	unsigned m = 0;

	if (!o)
		return ~0u & 0x1ffu;
#define CH(field, bit) do { if (memcmp(&o->field, &n->field, sizeof(o->field))) m |= (bit); } while (0)
	CH(user, CFG_CH_ACCOUNT);
	CH(auth_user, CFG_CH_ACCOUNT);
	CH(password, CFG_CH_ACCOUNT);
	CH(domain, CFG_CH_ACCOUNT);
	if (o->n_registrars != n->n_registrars ||
	    memcmp(o->registrars, n->registrars, sizeof(o->registrars[0]) * n->n_registrars))
		m |= CFG_CH_REGISTRARS;
	CH(expires_s, CFG_CH_REGISTRARS);
	CH(failback_s, CFG_CH_REGISTRARS);
	CH(sip_ca_bundle, CFG_CH_REGISTRARS);
	CH(keepalive_s, CFG_CH_KEEPALIVE);
	CH(vlan_id, CFG_CH_VLAN);
	if (n->vlan_id)
		CH(vlan_priority, CFG_CH_VLAN);
	CH(dscp_audio, CFG_CH_DSCP);
	CH(dscp_signalling, CFG_CH_DSCP);
	CH(rtp_min, CFG_CH_MEDIA);
	CH(rtp_max, CFG_CH_MEDIA);
	if (o->n_codecs != n->n_codecs ||
	    memcmp(o->codecs, n->codecs, sizeof(o->codecs[0]) * n->n_codecs))
		m |= CFG_CH_MEDIA;
	CH(resync_s, CFG_CH_RESYNC);
	CH(resync_jitter_s, CFG_CH_RESYNC);
	CH(boot_delay_s, CFG_CH_RESYNC);
	CH(status_url, CFG_CH_STATUS);
	CH(selftest_checks, CFG_CH_SELFTEST);
	CH(selftest_duration_s, CFG_CH_SELFTEST);
	CH(selftest_boot, CFG_CH_SELFTEST);
	CH(selftest_interval_s, CFG_CH_SELFTEST);
	CH(jitter_good_ms, CFG_CH_SELFTEST);
	CH(jitter_acceptable_ms, CFG_CH_SELFTEST);
	CH(loss_good_pct, CFG_CH_SELFTEST);
	CH(loss_acceptable_pct, CFG_CH_SELFTEST);
	CH(rtt_good_ms, CFG_CH_SELFTEST);
	CH(rtt_acceptable_ms, CFG_CH_SELFTEST);
	CH(rtt_problematic_ms, CFG_CH_SELFTEST);
	CH(mos_good, CFG_CH_SELFTEST);
#undef CH
	return m;
}

const char *cfg_change_str(unsigned mask, char *buf, size_t size)
{
	/* bit i's name is the i-th, NUL-separated (utl_field) */
	static const char names[] = "account\0registrars\0vlan\0dscp\0keepalive\0media\0"
				    "resync\0status\0selftest\0";
	const char *name = names;
	size_t used = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (unsigned i = 0; *name; i++, name += strlen(name) + 1) {
		if (!(mask & (1u << i)))
			continue;
		int w = snprintf(buf + used, size - used, "%s%s", used ? "," : "", name);
		if (w < 0 || (size_t)w >= size - used)
			break;
		used += (size_t)w;
	}
	if (!used)
		utl_strlcpy(buf, "nothing", size);
	return buf;
}

/* ------------------------------------------------------------------ check-config */

int cfg_check_file(const char *path, FILE *out)
{
	struct cfg_config *cfg = NULL;
	struct cfg_errors *errs = NULL;
	char *buf = NULL;
	size_t len = 0;
	int err, rc = 2;

	err = utl_read_file(path, CFG_MAX_SIZE, &buf, &len);
	if (err == -EFBIG) {
		fprintf(out, "%s: the file is larger than the %u-byte limit; allowed at most %u bytes\n",
			path, CFG_MAX_SIZE, CFG_MAX_SIZE);
		rc = 1;
		goto out;
	}
	if (err) {
		fprintf(out, "%s: cannot read the file: %s\n", path, strerror(-err));
		goto out;
	}
	cfg = malloc(sizeof(*cfg));
	errs = calloc(1, sizeof(*errs));
	if (!cfg || !errs) {
		fprintf(out, "%s: out of memory\n", path);
		goto out;
	}
	if (cfg_parse_mem(buf, len, path, cfg, errs) == 0) {
		fprintf(out, "OK\n");
		rc = 0;
	} else {
		for (unsigned i = 0; i < errs->n; i++)
			fprintf(out, "%s\n", errs->msg[i]);
		if (errs->dropped)
			fprintf(out, "%s: ... and %u more errors\n", path, errs->dropped);
		rc = 1;
	}
out:
	if (cfg)
		memset(cfg->password, 0, sizeof(cfg->password));
	free(cfg);
	free(errs);
	free(buf);
	return rc;
}

/* status.c - build the status document, written by hand (no libxml2 in the
 * agent; values escaped by utl_xml_put). */
#include "config.h"

#include "provisioning/status.h"
#include "common/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *status_state_name(enum status_state s)
{
	static const char *const names[] = { "provisioning", "provisioned", "registered", "failed" };

	return (unsigned)s < 4 ? names[s] : "unknown";
}

static const char *iso_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "unknown");
	return buf;
}

/* An attribute when v is set. */
static void set(FILE *f, const char *name, const char *v)
{
	if (v && *v) {
		fprintf(f, " %s=\"", name);
		utl_xml_put(f, "", v, "\"");
	}
}

/* The self-test report to embed: this agent's own diag_report_xml() text
 * without its XML declaration; NULL when it is refused (a DOCTYPE, an
 * entity, a NUL, over 256 KiB, or not an element). */
static const char *report_body(const char *xml, size_t len, size_t *blen)
{
	const char *e = xml + len;

	if (len > 256 * 1024 || memchr(xml, '\0', len) || memmem(xml, len, "<!DOCTYPE", 9) || memmem(xml, len, "<!ENTITY", 8))
		return NULL;
	if (len > 5 && strncmp(xml, "<?xml", 5) == 0) {
		const char *q = memmem(xml, len, "?>", 2);

		if (!q)
			return NULL;
		xml = q + 2;
	}
	while (xml < e && strchr(" \t\r\n", *xml))
		xml++;
	while (e > xml && strchr(" \t\r\n", e[-1]))
		e--;
	if (e - xml < 4 || *xml != '<' || e[-1] != '>')
		return NULL;
	*blen = (size_t)(e - xml);
	return xml;
}

int status_build(const struct status_info *si, char **out, size_t *len)
{
	char t[32], t2[32];
	const char *body = NULL;
	size_t blen = 0;
	FILE *f;

	if (!si || !si->mac)
		return -EINVAL;
	if (!(f = open_memstream(out, len)))
		return -ENOMEM;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<status version=\"1\" time=\"%s\">\n  <device",
		iso_time(si->now ? si->now : time(NULL), t, sizeof(t)));
	set(f, "mac", si->mac);
	set(f, "model", si->model);
	set(f, "agent", PACKAGE_NAME);
	set(f, "version", si->version ? si->version : PACKAGE_VERSION);
	fputs("/>\n  <config", f);
	set(f, "etag-common", si->etag_common);
	set(f, "etag-mac", si->etag_mac);
	fprintf(f, "/>\n  <state name=\"%s\"", status_state_name(si->state));
	if (si->since)
		set(f, "since", iso_time(si->since, t2, sizeof(t2)));
	set(f, "reason", si->reason);
	fputs("/>\n", f);
	if (si->registrar || si->registrar_host) {
		fputs("  <registration", f);
		set(f, "registrar", si->registrar);
		set(f, "host", si->registrar_host);
		set(f, "transport", si->transport);
		fputs("/>\n", f);
	}
	fputs("  <addresses>\n", f);
	for (unsigned i = 0; i < STATUS_MAX_ADDRS && si->addrs[i]; i++)
		utl_xml_put(f, "    <address>", si->addrs[i], "</address>\n");
	fputs("  </addresses>\n", f);
	if (si->selftest_xml || si->selftest_href) {
		fputs("  <selftest", f);
		set(f, "href", si->selftest_href);
		if (si->selftest_xml && !(body = report_body(si->selftest_xml, si->selftest_len, &blen)))
			set(f, "error", "the self-test report was not well-formed XML and is left out");
		fputs(">\n", f);
		fprintf(f, "%.*s", (int)blen, body ? body : "");
		fputs(body ? "\n  </selftest>\n" : "  </selftest>\n", f);
	}
	fputs("</status>\n", f);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

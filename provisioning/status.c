/* status.c - build the status document with libxml2's tree API. */
#include "config.h"

#include "provisioning/status.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include "common/lazylibs.h"          /* last: the libraries are loaded on use */

const char *status_state_name(enum status_state s)
{
	static const char *const names[] = { "provisioning", "provisioned", "registered", "failed" };

	return (unsigned)s < 4 ? names[s] : "unknown";
}

static void iso_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "unknown");
}

static void set(xmlNode *n, const char *name, const char *v)
{
	if (v && *v)
		xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)v);
}

static void silent(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

/* Embed the self-test report (parsed safely) under parent; false if refused. */
static bool embed_report(xmlDoc *doc, xmlNode *parent, const char *xml, size_t len)
{
	xmlDoc *rep;
	xmlNode *root;

	if (len > 256 * 1024 || memchr(xml, '\0', len) || strstr(xml, "<!DOCTYPE") || strstr(xml, "<!ENTITY"))
		return false;
	xmlSetStructuredErrorFunc(NULL, silent);
	rep = xmlReadMemory(xml, (int)len, "selftest.xml", NULL, XML_PARSE_NONET);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!rep)
		return false;
	root = xmlDocGetRootElement(rep);
	if (root)
		xmlAddChild(parent, xmlDocCopyNode(root, doc, 1));
	xmlFreeDoc(rep);
	return root != NULL;
}

int status_build(const struct status_info *si, char **out, size_t *len)
{
	xmlDoc *doc;
	xmlNode *root, *n;
	xmlChar *buf = NULL;
	char t[32], ver[64];
	int size = 0, err = -ENOMEM;

	lazy_need(&lazy_xml_lib);
	if (!si || !si->mac)
		return -EINVAL;
	doc = xmlNewDoc((const xmlChar *)"1.0");
	if (!doc)
		return -ENOMEM;
	root = xmlNewNode(NULL, (const xmlChar *)"status");
	xmlDocSetRootElement(doc, root);
	xmlNewProp(root, (const xmlChar *)"version", (const xmlChar *)"1");
	iso_time(si->now ? si->now : time(NULL), t, sizeof(t));
	xmlNewProp(root, (const xmlChar *)"time", (const xmlChar *)t);

	n = xmlNewChild(root, NULL, (const xmlChar *)"device", NULL);
	set(n, "mac", si->mac);
	set(n, "model", si->model);
	snprintf(ver, sizeof(ver), "%s", si->version ? si->version : PACKAGE_VERSION);
	set(n, "agent", PACKAGE_NAME);
	set(n, "version", ver);

	n = xmlNewChild(root, NULL, (const xmlChar *)"config", NULL);
	set(n, "etag-common", si->etag_common);
	set(n, "etag-mac", si->etag_mac);

	n = xmlNewChild(root, NULL, (const xmlChar *)"state", NULL);
	xmlNewProp(n, (const xmlChar *)"name", (const xmlChar *)status_state_name(si->state));
	if (si->since) {
		iso_time(si->since, t, sizeof(t));
		set(n, "since", t);
	}
	set(n, "reason", si->reason);

	if (si->registrar || si->registrar_host) {
		n = xmlNewChild(root, NULL, (const xmlChar *)"registration", NULL);
		set(n, "registrar", si->registrar);
		set(n, "host", si->registrar_host);
		set(n, "transport", si->transport);
	}

	n = xmlNewChild(root, NULL, (const xmlChar *)"addresses", NULL);
	for (unsigned i = 0; i < STATUS_MAX_ADDRS && si->addrs[i]; i++)
		xmlNewTextChild(n, NULL, (const xmlChar *)"address", (const xmlChar *)si->addrs[i]);

	if (si->selftest_xml || si->selftest_href) {
		n = xmlNewChild(root, NULL, (const xmlChar *)"selftest", NULL);
		set(n, "href", si->selftest_href);
		if (si->selftest_xml && !embed_report(doc, n, si->selftest_xml, si->selftest_len))
			set(n, "error", "the self-test report was not well-formed XML and is left out");
	}

	xmlDocDumpFormatMemoryEnc(doc, &buf, &size, "UTF-8", 1);
	if (!buf)
		goto out;
	*out = malloc((size_t)size + 1);
	if (!*out)
		goto out;
	memcpy(*out, buf, (size_t)size);
	(*out)[size] = '\0';
	*len = (size_t)size;
	err = 0;
out:
	xmlFree(buf);
	xmlFreeDoc(doc);
	return err;
}

/* bootstrap.c - parse the bootstrap settings, table-driven. */
#include "config.h"

#include "agent/bootstrap.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum bst_type { T_PATH, T_URL, T_IFACE, T_MAC, T_TEXT, T_UINT };

/* No pointers (a relocation each): the name inline, what is allowed as a field of allowed_text. */
struct bst_key {
	char name[14];
	unsigned char type;            /* enum bst_type */
	unsigned char allowed;         /* said in errors: field n of allowed_text */
	unsigned short off, size;
	unsigned short max;            /* T_UINT */
};

static const char allowed_text[] =
	"an https:// URL\0"
	"an absolute path\0"
	"a curl public-key pin such as sha256//BASE64=\0"
	"an interface name (letters, digits, . - _; at most 15)\0"
	"a MAC address aa:bb:cc:dd:ee:ff\0"
	"printable text without quotes\0"
	"seconds from 0 to 3600";

_Static_assert(sizeof(struct bst_config) <= 65535, "bst_key's offsets are 16-bit");
#define F(field) offsetof(struct bst_config, field), sizeof(((struct bst_config *)0)->field)
static const struct bst_key keys[] = {
	{ "server", T_URL, 0, F(server), 0 },
	{ "ca", T_PATH, 1, F(ca), 0 },
	{ "cert", T_PATH, 1, F(cert), 0 },
	{ "key", T_PATH, 1, F(key), 0 },
	{ "pin", T_TEXT, 2, F(pin), 0 },
	{ "interface", T_IFACE, 3, F(iface), 0 },
	{ "mac", T_MAC, 4, F(mac), 0 },
	{ "model", T_TEXT, 5, F(model), 0 },
	{ "dhcp-url-file", T_PATH, 1, F(dhcp_url_file), 0 },
	{ "boot-delay", T_UINT, 6, F(boot_delay_max), 3600 },
};
#undef F

void bst_defaults(struct bst_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->ca, sizeof(c->ca), "%s/ca.pem", DSA_SYSCONFDIR);
	snprintf(c->cert, sizeof(c->cert), "%s/device.crt", DSA_SYSCONFDIR);
	snprintf(c->key, sizeof(c->key), "%s/device.key", DSA_SYSCONFDIR);
	snprintf(c->dhcp_url_file, sizeof(c->dhcp_url_file), "%s/dhcp-prov-url", DSA_RUNDIR);
	utl_strlcpy(c->model, "generic", sizeof(c->model));
	c->boot_delay_max = 30;
}

int bst_mac_valid(const char *s)
{
	int i;

	if (strlen(s) != 17)
		return 0;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

void bst_mac_hex(const char *mac, char *out)
{
	int n = 0;

	for (; *mac && n < 12; mac++)
		if (isxdigit((unsigned char)*mac))
			out[n++] = (char)utl_lower((unsigned char)*mac);
	out[n] = '\0';
}

static const char *check_value(const struct bst_key *k, const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0)
		return "an empty value";
	if (n >= k->size && k->type != T_UINT)
		return "a value that is too long";
	for (i = 0; i < n; i++)
		if (!isprint((unsigned char)v[i]) || v[i] == '"' || v[i] == '\'')
			return "a value with unprintable characters or quotes";
	switch (k->type) {
	case T_URL:
		return strncmp(v, "https://", 8) == 0 && n > 8 ? NULL : "a URL that is not https://";
	case T_PATH:
		return v[0] == '/' ? NULL : "a relative path";
	case T_IFACE:
		if (n > 15)
			return "a name longer than 15 characters";
		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)v[i]) && !strchr(".-_", v[i]))
				return "a name with characters other than letters, digits, . - _";
		return NULL;
	case T_MAC:
		return bst_mac_valid(v) ? NULL : "a malformed MAC address";
	case T_UINT: {
		char *end;
		unsigned long u;

		errno = 0;
		u = strtoul(v, &end, 10);
		if (*end || errno || !isdigit((unsigned char)v[0]) || u > k->max)
			return "a number out of range";
		return NULL;
	}
	case T_TEXT:
		return NULL;
	}
	return "an unknown value";
}

static void store(struct bst_config *c, const struct bst_key *k, const char *v)
{
	char *field = (char *)c + k->off;

	if (k->type == T_UINT)
		*(unsigned *)(void *)field = (unsigned)strtoul(v, NULL, 10);
	else
		utl_strlcpy(field, v, k->size);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int bst_parse(const char *text, size_t len, const char *name, struct bst_config *c, FILE *err)
{
	const char *p = text, *end = text + len;
	int lineno = 0, errors = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[512], *s, *eq, *key, *val;
		const struct bst_key *k = NULL;
		const char *why;
		size_t i;

		lineno++;
		if (n >= sizeof(line)) {
			fprintf(err, "%s:%d: line longer than %zu characters\n", name, lineno, sizeof(line) - 1);
			errors++;
			goto next;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (memchr(line, '\0', n)) {
			fprintf(err, "%s:%d: NUL byte in the line\n", name, lineno);
			errors++;
			goto next;
		}
		s = trim(line);
		if (!*s || *s == '#')
			goto next;
		eq = strchr(s, '=');
		if (!eq) {
			fprintf(err, "%s:%d: expected 'key = value'\n", name, lineno);
			errors++;
			goto next;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (strcmp(keys[i].name, key) == 0)
				k = &keys[i];
		if (!k) {
			fprintf(err, "%s:%d: unknown key '%s' (known: server, ca, cert, key, pin, interface, "
				"mac, model, dhcp-url-file, boot-delay)\n", name, lineno, key);
			errors++;
			goto next;
		}
		why = check_value(k, val);
		if (why) {
			fprintf(err, "%s:%d: %s: %s; allowed: %s\n", name, lineno, k->name, why,
				utl_field(allowed_text, k->allowed));
			errors++;
			goto next;
		}
		store(c, k, val);
next:
		p = nl ? nl + 1 : end;
	}
	return errors;
}

int bst_load(const char *path, struct bst_config *c, FILE *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = utl_read_file(path, 64 * 1024, &text, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		fprintf(err, "%s: cannot read: %s\n", path, strerror(-rc));
		return -1;
	}
	rc = bst_parse(text, len, path, c, err);
	free(text);
	return rc;
}

/* cli.c - the client side of the control protocol: status, selftest, resync, version. */
#include "config.h"

#include "agent/agent.h"
#include "agent/proto.h"
#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CLI_REPLY_TIMEOUT_MS 5000      /* between two reply lines */
#define CLI_SELFTEST_TIMEOUT_MS 90000 /* the voice check sends nothing for its 10 s (or more) */

static char sockpath[sizeof(((struct sockaddr_un *)0)->sun_path)];

void agt_options_default(struct agt_options *o)
{
	const char *e;

	memset(o, 0, sizeof(*o));
	o->rundir = DSA_RUNDIR;
	o->statedir = DSA_STATEDIR;
	o->log_level = 3; /* info */
	if ((e = getenv("DIALSTACK_RUNDIR")) && *e)
		o->rundir = e;
	if ((e = getenv("DIALSTACK_STATEDIR")) && *e)
		o->statedir = e;
}

const char *agt_socket_path(const struct agt_options *o)
{
	snprintf(sockpath, sizeof(sockpath), "%s/control.sock", o->rundir);
	return sockpath;
}

/* Connect to the daemon; -1 with a message printed when none answers. */
static int cli_connect(const struct agt_options *o, bool quiet)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = agt_socket_path(o);
	int fd;

	if (utl_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) < 0) {
		fprintf(stderr, "dialstack-agent: control socket path too long: %s\n", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		if (quiet)
			return -1;
		if (e == ENOENT || e == ECONNREFUSED)
			fprintf(stderr, "dialstack-agent is not running (no agent answers on %s); "
				"start it with 'dialstack-agent run'\n", path);
		else if (e == EACCES)
			fprintf(stderr, "dialstack-agent: permission denied on %s: run as root or as "
				"a member of the agent's group\n", path);
		else
			fprintf(stderr, "dialstack-agent: cannot reach the agent on %s: %s\n", path, strerror(e));
		return -1;
	}
	return fd;
}

/* Read one reply line (blocking, bounded by the timeout) into a json object. */
static struct json_object *read_line(int fd, char **buf, size_t *len, size_t *cap, int timeout_ms)
{
	for (;;) {
		char *nl = *len ? memchr(*buf, '\n', *len) : NULL;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			struct json_object *obj;
			size_t used = (size_t)(nl - *buf) + 1;

			*nl = '\0';
			obj = json_tokener_parse(*buf);
			memmove(*buf, *buf + used, *len - used);
			*len -= used;
			return obj ? obj : json_object_new_string("unparsable reply");
		}
		if (*len + 4096 > *cap) {
			char *grown;

			if (*cap >= CTL_MAX_REPLY_LINE)
				return NULL;
			grown = realloc(*buf, *cap + 8192);
			if (!grown)
				return NULL;
			*buf = grown;
			*cap += 8192;
		}
		if (poll(&p, 1, timeout_ms) <= 0)
			return NULL;
		n = recv(fd, *buf + *len, *cap - *len, 0);
		if (n <= 0)
			return NULL;
		*len += (size_t)n;
	}
}

typedef int (*line_fn)(struct json_object *obj, const struct agt_options *o);

static const char *str_of(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

/* Send cmd, hand every reply line to fn; returns the exit code fn gives the final line. */
static int cli_call(const struct agt_options *o, const char *cmd, line_fn fn, bool quiet)
{
	char *req = NULL, *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, rc = AGT_EXIT_FAIL;

	fd = cli_connect(o, quiet);
	if (fd < 0)
		return AGT_EXIT_NOT_RUNNING;
	req = ctl_encode_request(cmd, NULL);
	if (!req || send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "dialstack-agent: cannot send the request: %s\n", strerror(errno));
		goto out;
	}
	for (;;) {
		struct json_object *obj = read_line(fd, &buf, &len, &cap,
						   strcmp(cmd, "selftest") == 0 ? CLI_SELFTEST_TIMEOUT_MS : CLI_REPLY_TIMEOUT_MS);
		const char *type;
		bool final;

		if (!obj) {
			fprintf(stderr, "dialstack-agent: the agent did not answer in time\n");
			break;
		}
		type = str_of(obj, "type");
		if (o->json) {
			printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
			fflush(stdout);
		}
		if (type && strcmp(type, "error") == 0) {
			if (!o->json)
				fprintf(stderr, "dialstack-agent: %s\n", str_of(obj, "message") ?: "error");
			json_object_put(obj);
			rc = AGT_EXIT_FAIL;
			break;
		}
		rc = fn(obj, o);
		final = type && strcmp(type, "result") == 0;
		/* selftest --quick: the main phase's verdict is the answer; hang up */
		if (o->quick && type && strcmp(type, "progress") == 0 && json_object_object_get_ex(obj, "partial", NULL))
			final = true;
		json_object_put(obj);   /* type points into obj: test it before */
		if (final)
			break;
	}
out:
	free(req);
	free(buf);
	close(fd);
	return rc;
}

static void fmt_duration(char *buf, size_t n, long long s)
{
	if (s >= 86400)
		snprintf(buf, n, "%lldd %lldh", s / 86400, (s % 86400) / 3600);
	else if (s >= 3600)
		snprintf(buf, n, "%lldh %lldm", s / 3600, (s % 3600) / 60);
	else if (s >= 60)
		snprintf(buf, n, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(buf, n, "%llds", s);
}

/* Print the members of a nested object as indented "key: value" lines. */
static void print_section(const char *title, struct json_object *sec)
{
	printf("%s:\n", title);
	json_object_object_foreach(sec, key, val) {
		if (json_object_is_type(val, json_type_null))
			continue;
		if (json_object_is_type(val, json_type_object) || json_object_is_type(val, json_type_array))
			printf("  %-12s %s\n", key, json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
		else
			printf("  %-12s %s\n", key, json_object_get_string(val));
	}
}

static int status_line(struct json_object *obj, const struct agt_options *o)
{
	struct json_object *v;
	char dur[32];

	if (o->json)
		return AGT_EXIT_OK;
	fmt_duration(dur, sizeof(dur), json_object_object_get_ex(obj, "in_state_s", &v) ? json_object_get_int64(v) : 0);
	printf("dialstack-agent %s (pid %s)\n", str_of(obj, "version") ?: "?", str_of(obj, "pid") ?: "?");
	printf("state:         %s (for %s)\n", str_of(obj, "state") ?: "?", dur);
	if (str_of(obj, "reason") && *str_of(obj, "reason"))
		printf("reason:        %s\n", str_of(obj, "reason"));
	json_object_object_foreach(obj, key, val) {
		if (json_object_is_type(val, json_type_object))
			print_section(key, val);
	}
	return AGT_EXIT_OK;
}

int agt_cli_status(const struct agt_options *o)
{
	return cli_call(o, "status", status_line, false);
}

static int selftest_line(struct json_object *obj, const struct agt_options *o)
{
	const char *type = str_of(obj, "type"), *verdict;

	/* --xml prints the report alone, for the menu software. */
	if (type && strcmp(type, "progress") == 0 && o->quick && str_of(obj, "partial")) {
		/* --quick: end with the main checks' verdict */
		verdict = str_of(obj, "verdict");
		if (!o->json && !o->xml)
			printf("overall so far: %s (--quick: the UDP mapping lifetime was not waited for; "
			       "it joins the stored report)\n", verdict ? verdict : "?");
		return !verdict ? AGT_EXIT_FAIL : !strcmp(verdict, "pass") ? 0 : !strcmp(verdict, "warn") ? 1 : 2;
	}
	if (type && (strcmp(type, "event") == 0 || strcmp(type, "progress") == 0)) {
		if (!o->json && !o->xml && str_of(obj, "line"))
			printf("%s\n", str_of(obj, "line"));
		fflush(stdout);
		return AGT_EXIT_OK;
	}
	if (!o->json && !o->xml && str_of(obj, "summary"))
		printf("%s\n", str_of(obj, "summary"));
	if (o->xml && !o->json && str_of(obj, "xml"))
		printf("%s", str_of(obj, "xml"));
	verdict = str_of(obj, "verdict");
	if (!verdict)
		return AGT_EXIT_FAIL;
	if (strcmp(verdict, "pass") == 0)
		return 0;
	if (strcmp(verdict, "warn") == 0)
		return 1;
	return 2;
}

int agt_cli_selftest(const struct agt_options *o)
{
	return cli_call(o, "selftest", selftest_line, false);
}

static int message_line(struct json_object *obj, const struct agt_options *o)
{
	if (!o->json && str_of(obj, "message"))
		printf("%s\n", str_of(obj, "message"));
	return AGT_EXIT_OK;
}

int agt_cli_resync(const struct agt_options *o)
{
	return cli_call(o, "resync", message_line, false);
}

static int version_line(struct json_object *obj, const struct agt_options *o)
{
	if (!o->json)
		printf("running agent: %s\n", str_of(obj, "version") ?: "?");
	return AGT_EXIT_OK;
}

int agt_cli_version(const struct agt_options *o)
{
	/* `version` works without a daemon: this binary's version first, then
	 * the running agent's when one answers. */
	if (o->json)
		printf("{\"v\":1,\"type\":\"result\",\"version\":\"%s\"}\n", PACKAGE_VERSION);
	else
		printf("dialstack-agent %s\n", PACKAGE_VERSION);
	if (!o->json)
		(void)cli_call(o, "version", version_line, true);
	return AGT_EXIT_OK;
}

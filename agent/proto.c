/* proto.c - control protocol encoding and validation. */
#include "config.h"

#include "agent/proto.h"
#include "common/util.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool cmd_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= sizeof(((struct ctl_request *)0)->cmd))
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
			return false;
	return true;
}

int ctl_parse_request(const char *line, size_t len, struct ctl_request *req,
		      const char **code, const char **why)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL, *v, *cmd, *args;
	int64_t ver;
	int err = -1;

	memset(req, 0, sizeof(*req));
	*code = CTL_E_BAD_REQUEST;
	if (len > CTL_MAX_REQUEST) {
		*code = CTL_E_TOO_LARGE;
		*why = "request longer than 4096 bytes";
		return -1;
	}
	if (memchr(line, '\0', len)) {
		*why = "request contains a NUL byte";
		return -1;
	}
	tok = json_tokener_new_ex(8);
	if (!tok) {
		*why = "out of memory";
		return -1;
	}
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		*why = "request is not one complete JSON object";
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		*why = "request is not a JSON object";
		goto out;
	}
	if (!json_object_object_get_ex(obj, "v", &v) || !json_object_is_type(v, json_type_int)) {
		*why = "request has no integer \"v\" (protocol version)";
		goto out;
	}
	ver = json_object_get_int64(v);   /* clamped to int as json_object_get_int does */
	req->version = ver > INT_MAX ? INT_MAX : ver < INT_MIN ? INT_MIN : (int)ver;
	if (req->version != CTL_VERSION) {
		*code = CTL_E_VERSION;
		*why = "this daemon speaks control protocol version 1";
		goto out;
	}
	if (!json_object_object_get_ex(obj, "cmd", &cmd) || !json_object_is_type(cmd, json_type_string) ||
	    !cmd_name_ok(json_object_get_string(cmd))) {
		*why = "request has no valid \"cmd\" (lowercase letters and '-')";
		goto out;
	}
	utl_strlcpy(req->cmd, json_object_get_string(cmd), sizeof(req->cmd));
	if (json_object_object_get_ex(obj, "args", &args)) {
		if (!json_object_is_type(args, json_type_object)) {
			*why = "\"args\" must be a JSON object";
			goto out;
		}
		req->args = json_object_get(args);
	}
	err = 0;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return err;
}

void ctl_request_free(struct ctl_request *req)
{
	json_object_put(req->args);
	req->args = NULL;
}

char *ctl_encode_line(struct json_object *obj)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n;
	char *line;

	if (!s)
		return NULL;
	n = strlen(s);
	line = malloc(n + 2);
	if (!line)
		return NULL;
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

char *ctl_encode_request(const char *cmd, struct json_object *args)
{
	struct json_object *obj = json_object_new_object();
	char *line;

	json_object_object_add(obj, "v", json_object_new_int64(CTL_VERSION));
	json_object_object_add(obj, "cmd", json_object_new_string(cmd));
	if (args)
		json_object_object_add(obj, "args", json_object_get(args));
	line = ctl_encode_line(obj);
	json_object_put(obj);
	return line;
}

struct json_object *ctl_reply_new(const char *type)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "v", json_object_new_int64(CTL_VERSION));
	json_object_object_add(obj, "type", json_object_new_string(type));
	return obj;
}

struct json_object *ctl_error_new(const char *code, const char *msg)
{
	struct json_object *obj = ctl_reply_new("error");

	json_object_object_add(obj, "code", json_object_new_string(code));
	json_object_object_add(obj, "message", json_object_new_string(msg));
	return obj;
}

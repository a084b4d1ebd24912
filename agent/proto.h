/* proto.h - the control protocol between the CLI and the daemon (pure, no I/O).
 *
 * Version 1, documented in docs/control-protocol.md: the client sends one
 * request, a JSON object on one line of at most CTL_MAX_REQUEST bytes; the
 * daemon answers with JSON objects, one per line, of type "event" (zero or
 * more, e.g. a self-test check as it finishes) then exactly one "result" or
 * "error", and closes the connection.
 */
#ifndef DSA_AGENT_PROTO_H
#define DSA_AGENT_PROTO_H

#include <stddef.h>
#include <json-c/json.h>

#define CTL_VERSION 1
#define CTL_MAX_REQUEST 4096
#define CTL_MAX_REPLY_LINE (256 * 1024)

/* Error codes carried in {"type":"error","code":...}. */
#define CTL_E_BAD_REQUEST "bad-request"
#define CTL_E_TOO_LARGE   "too-large"
#define CTL_E_VERSION     "unsupported-version"
#define CTL_E_UNKNOWN     "unknown-command"
#define CTL_E_PERMISSION  "permission-denied"
#define CTL_E_TIMEOUT     "timeout"
#define CTL_E_BUSY        "busy"
#define CTL_E_FAILED      "failed"

struct ctl_request {
	int version;
	char cmd[32];
	struct json_object *args;  /* owned; may be NULL */
};

/* Parse one request line (without its newline). On error returns a negative
 * value and points code and why at static strings naming the problem. */
int ctl_parse_request(const char *line, size_t len, struct ctl_request *req,
		      const char **code, const char **why);

/* Free what ctl_parse_request allocated. */
void ctl_request_free(struct ctl_request *req);

/* Encode a request for cmd (args may be NULL, is not consumed) as one line with '\n'. Caller frees. */
char *ctl_encode_request(const char *cmd, struct json_object *args);

/* A new reply object {"v":1,"type":type}. */
struct json_object *ctl_reply_new(const char *type);

/* A new error reply {"v":1,"type":"error","code":code,"message":msg}. */
struct json_object *ctl_error_new(const char *code, const char *msg);

/* Serialise obj as one line ending in '\n' (malloc'd; NULL on failure). */
char *ctl_encode_line(struct json_object *obj);

#endif

/* fuzz_ctl.c - one control-socket request line (agent/proto.c), as ctl.c
 * hands it over: without its newline, at most CTL_MAX_REQUEST bytes. */
#include "config.h"

#include "fuzz.h"
#include "agent/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request req;
	const char *code = NULL, *why = NULL;
	char *line;

	if (size > CTL_MAX_REQUEST)
		return 0;
	line = fuzz_strndup(data, size);
	memset(&req, 0, sizeof(req));
	if (ctl_parse_request(line, size, &req, &code, &why) == 0) {
		char *enc = ctl_encode_request(req.cmd, req.args);

		free(enc);
		ctl_request_free(&req);
	} else {
		struct json_object *e = ctl_error_new(code ? code : CTL_E_BAD_REQUEST, why ? why : "?");
		char *enc = ctl_encode_line(e);

		free(enc);
		json_object_put(e);
	}
	free(line);
	return 0;
}

/* fuzz_sip_msg.c - SIP message intake as sip/reg.c and sip/call.c do it:
 * stream framing, sip_msg_check, libosip2 parsing through sip_msg_parse, and
 * everything the agent then reads from the result (contact expiry of a 2xx,
 * the response it builds to a request, the raw header lookup of call.c).
 * First input byte: bit 0 = stream transport (TCP/TLS) else UDP. */
#include "config.h"

#include "fuzz.h"
#include "common/log.h"
#include "sip/call.h"
#include "sip/msg.h"

#include <stdbool.h>

/* What reg.c reads from a 2xx and a request: the contact matching and option
 * tag API before and after issue 11's sip/msg.c work, whichever is linked
 * (weak, so this target builds on both sides of that merge; once merged,
 * call the new functions directly and drop these lines). */
int sip_msg_contact_expires(const struct sip_msg *m, const char *instance, const char *match)
	__attribute__((weak));
bool sip_msg_our_contact(const struct sip_msg *m, const char *our_uri, const char *instance,
			 int reg_id, int *expires) __attribute__((weak));
int sip_msg_unsupported(const struct sip_msg *m, const char *const *supported, char *out,
			size_t size) __attribute__((weak));
bool sip_uri_equal(const char *a, const char *b) __attribute__((weak));

static void intake(const char *buf, size_t len, bool stream)
{
	struct sip_msg m;
	const char *why = NULL;
	char hdr[512];

	(void)sip_msg_check(buf, len, stream, &why);
	if (sip_msg_parse(buf, len, stream, &m, &why) != 0)
		return;
	if (m.is_request) {
		char *out = NULL;
		size_t olen = 0;

		if (sip_msg_build_response(&m, 200, "OK", "fuzztag", "", &out, &olen) == 0)
			free(out);
		out = NULL;
		if (sip_msg_unsupported) {
			static const char *const supported[] = { "path", "outbound", "gruu", NULL };

			(void)sip_msg_unsupported(&m, supported, hdr, sizeof(hdr));
		}
		if (sip_msg_build_response(&m, 420, "Bad Extension", m.to_tag[0] ? NULL : "t2",
					   "Unsupported: foo\r\n", &out, &olen) == 0)
			free(out);
	} else {
		int expires = 0;

		if (sip_msg_contact_expires) {
			(void)sip_msg_contact_expires(&m, "00000000-0000-5000-8000-000000000000",
						      "sip:1001@127.0.0.1:5060");
			(void)sip_msg_contact_expires(&m, NULL, "sip:1001@127.0.0.1");
		}
		if (sip_msg_our_contact) {
			(void)sip_msg_our_contact(&m, "sip:1001@127.0.0.1:5060;transport=udp",
						  "00000000-0000-5000-8000-000000000000", 1, &expires);
			(void)sip_msg_our_contact(&m, "sip:1001@127.0.0.1", NULL, 0, &expires);
		}
	}
	if (sip_uri_equal && sip_call_header(buf, len, "Contact", "m", hdr, sizeof(hdr)) > 0)
		(void)sip_uri_equal(hdr, "<sip:1001@127.0.0.1:5060;transport=udp>");
	(void)sip_call_header(buf, len, "Contact", "m", hdr, sizeof(hdr));
	(void)sip_call_header(buf, len, "Record-Route", NULL, hdr, sizeof(hdr));
	sip_msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	bool stream;
	const char *buf;
	size_t len, consumed;
	enum sip_frame kind;
	const char *why;
	int n = 0;

	if (!quiet) {
		log_set_level(LL_ERROR);
		quiet = true;
	}
	if (size < 1)
		return 0;
	stream = data[0] & 1;
	buf = (const char *)data + 1;
	len = size - 1;
	if (!stream) {
		intake(buf, len, false);
		return 0;
	}
	/* a stream buffer: frame after frame, as transport.c feeds them */
	while (len && n++ < 16 && sip_msg_frame(buf, len, &consumed, &kind, &why) == 1) {
		if (consumed == 0 || consumed > len)
			abort();          /* the framer must always make progress inside the buffer */
		if (kind == SIP_FRAME_MSG)
			intake(buf, consumed, true);
		buf += consumed;
		len -= consumed;
	}
	return 0;
}

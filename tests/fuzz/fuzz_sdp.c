/* fuzz_sdp.c - the 2xx answer of the test call (sip/call.c): the body split
 * off the raw message, its SDP parsed, the a=crypto line of the answer read
 * by media/srtp.c. Input: a whole SIP response (or a bare SDP body). */
#include "config.h"

#include "fuzz.h"
#include "media/srtp.h"
#include "sip/call.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_call_media m;
	const char *body, *why = NULL;
	size_t blen;

	body = sip_call_body((const char *)data, size, &blen);
	if (!body) {
		body = (const char *)data;
		blen = size;
	}
	if (sip_call_parse_sdp(body, blen, &m, &why) == 0 && m.has_crypto) {
		struct msrtp_key key;
		unsigned tag;

		(void)msrtp_crypto_parse(m.crypto, &tag, &key);
	}
	return 0;
}

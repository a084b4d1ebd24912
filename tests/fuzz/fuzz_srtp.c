/* fuzz_srtp.c - SRTP packet intake (media/srtp.c) and the a=crypto parser.
 * First input byte selects: 0-1 the datagram as received (unprotect, then
 * rtp_parse, as rtp.c does), 2 the datagram protected by the sender first
 * (so the decrypt path and rtp_parse of the plaintext run), 3 the rest is an
 * a=crypto line. Contexts are fresh per input (no state between runs). */
#include "config.h"

#include "fuzz.h"
#include "media/rtp.h"
#include "media/srtp.h"

static const struct msrtp_key key = {
	.suite = MSRTP_AES_CM_128_HMAC_SHA1_80,
	.key = { 0xE1, 0xF9, 0x7A, 0x0D, 0x3E, 0x01, 0x8B, 0xE0, 0xD6, 0x4F, 0xA3, 0x2C, 0x06, 0xDE,
		 0x41, 0x39, 0x0E, 0xC6, 0x75, 0xAD, 0x49, 0x8A, 0xFE, 0xEB, 0xB6, 0x96, 0x0B, 0x3A,
		 0xAB, 0xE6 },
	.len = 30,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct msrtp *tx = NULL, *rx = NULL;
	uint8_t pkt[1500 + MSRTP_MAX_TRAILER];
	size_t len;
	struct rtp_hdr h;

	if (!init)
		init = msrtp_global_init() == 0 ? 1 : -1;
	if (init < 0 || size < 1)
		return 0;
	if (data[0] == 3) {
		char *line = fuzz_strndup(data + 1, size - 1);
		struct msrtp_key k;
		unsigned tag;

		(void)msrtp_crypto_parse(line, &tag, &k);
		free(line);
		return 0;
	}
	len = size - 1;
	if (len > 1500)
		return 0;
	memcpy(pkt, data + 1, len);
	if (msrtp_new(&key, MSRTP_INBOUND, &rx) != 0)
		return 0;
	if (data[0] == 2 && len >= 12) {
		/* a well-formed header so the sender accepts it */
		pkt[0] = (uint8_t)(0x80 | (pkt[0] & 0x3F));
		if (msrtp_new(&key, MSRTP_OUTBOUND, &tx) != 0 || msrtp_protect(tx, pkt, &len, sizeof(pkt)) != 0)
			goto out;
	}
	if (len >= 12 && msrtp_unprotect(rx, pkt, &len) == 0)
		(void)rtp_parse(pkt, len, &h);
out:
	msrtp_free(tx);
	msrtp_free(rx);
	return 0;
}

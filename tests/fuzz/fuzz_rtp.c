/* fuzz_rtp.c - one received RTP datagram (media/rtp.c's rtp_parse, as the
 * receive path calls it). */
#include "config.h"

#include "fuzz.h"
#include "media/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_hdr h;
	int err = rtp_parse(data, size, &h);

	if (err < 0)
		(void)rtp_parse_strerror(err);
	else if (h.payload + h.payload_len > data + size || h.payload < data)
		abort();   /* the payload must lie inside the datagram */
	return 0;
}

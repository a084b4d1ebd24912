/* fuzz_stun.c - libFuzzer target for the STUN codec: any datagram as a Binding
 * response (with its own transaction id, so the attribute walk is reached) and
 * as a request; a parsed mapping must survive a build/parse round trip. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t txid[12] = { 0 }, out[STUN_MAX];
	struct stun_binding b, b2;
	unsigned flags;
	size_t n;

	if (size >= STUN_HDR)
		memcpy(txid, data + 8, 12);
	(void)stun_is_stun(data, size);
	(void)stun_parse_request(data, size, txid, &flags);
	if (stun_parse_binding(data, size, txid, &b) == 0 && b.have_mapped) {
		n = stun_build_response(out, sizeof(out), txid, &b.mapped_ss,
					b.have_other ? &b.other_ss : NULL,
					b.have_origin ? &b.origin_ss : NULL, true);
		if (!n || stun_parse_binding(out, n, txid, &b2) != 0 || !b2.have_mapped ||
		    memcmp(&b.mapped_ss, &b2.mapped_ss, sizeof(b.mapped_ss)) || !b2.fingerprint)
			__builtin_trap();
	}
	return 0;
}

/* fuzz_sip_digest.c - a WWW-/Proxy-Authenticate value through sip/digest.c:
 * parse it, and when it is usable, answer it as reg.c does. */
#include "config.h"

#include "fuzz.h"
#include "sip/digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_challenge ch, other;
	char *value = fuzz_strndup(data, size);
	char out[1024];

	memset(&ch, 0, sizeof(ch));
	if (sip_digest_parse(value, &ch) == 0) {
		memset(&other, 0, sizeof(other));
		(void)sip_digest_better(&ch, &other);
		(void)sip_digest_alg_name(ch.alg);
		(void)sip_digest_authorization(&ch, "1001", "secret", "REGISTER", "sip:example.com", 1,
					       "0123456789abcdef0123456789abcdef", out, sizeof(out));
	}
	free(value);
	return 0;
}

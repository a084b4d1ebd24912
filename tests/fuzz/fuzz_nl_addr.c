/* fuzz_nl_addr.c - system/addr.c's sys_nl_addr_parse: an RTM_GETADDR dump as the
 * kernel answers it (netlink messages), then what the self-test reads of each
 * address (its origin, whether it is usable). The kernel's bytes are trusted
 * more than the network's, but the parser walks lengths it is given, so it is
 * fuzzed like every other parser. The input is copied into an aligned buffer,
 * as recv() into the agent's answer buffer gives it. */
#include "config.h"

#include "fuzz.h"
#include "system/system.h"

#include <string.h>

#define MAXBUF 65536
#define MAXADDR 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t buf[MAXBUF / 4];
	struct sys_addr a[MAXADDR];
	size_t n = 0;

	if (size > MAXBUF)
		return 0;
	memcpy(buf, data, size);
	for (int ifindex = 0; ifindex <= 2; ifindex += 2) {
		n = 0;
		if (sys_nl_addr_parse(buf, size, ifindex, a, MAXADDR, &n) < 0)
			continue;
		for (size_t i = 0; i < n && i < MAXADDR; i++) {
			(void)sys_addr_origin_name(sys_addr_origin(&a[i]));
			(void)sys_addr_usable(&a[i]);
		}
	}
	return 0;
}

/* fuzz_resolv.c - libFuzzer target for the resolver's parsers of outside bytes:
 * DNS answers as SRV and NAPTR (c-ares's parsers plus our TTL walk), then the
 * pure steps that consume them (RFC 2782 order, RFC 3263 NAPTR choice) and the
 * address order over arbitrary sockaddrs. */
#include "config.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "common/resolv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t fixed_rng(uint32_t bound, void *arg)
{
	uint32_t *s = arg;

	*s = *s * 1103515245u + 12345u;
	return bound ? *s % bound : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rsv_result r;
	uint32_t ttl, seed = size;
	size_t idx[RSV_MAX_RR], i, n;
	enum rsv_tp tp[RSV_MAX_RR];
	struct sockaddr_storage a[RSV_MAX_ADDR];

	(void)rsv_msg_ttl(data, size, &ttl);
	if (rsv_parse(RSV_SRV, data, size, &r) == 0) {
		n = rsv_srv_order(r.srv, r.n, fixed_rng, &seed);
		if (n > r.n)
			__builtin_trap();
	}
	if (rsv_parse(RSV_NAPTR, data, size, &r) == 0) {
		n = rsv_naptr_pick(r.naptr, r.n, 7u, idx, tp, RSV_MAX_RR);
		for (i = 0; i < n; i++)
			if (idx[i] >= r.n || tp[i] > RSV_TP_TLS)
				__builtin_trap();
	}
	/* arbitrary addresses, both families, any scope */
	n = size / 17 < RSV_MAX_ADDR ? size / 17 : RSV_MAX_ADDR;
	memset(a, 0, sizeof(a));
	for (i = 0; i < n; i++) {
		const uint8_t *p = data + i * 17;

		if (p[0] & 1) {
			a[i].ss_family = AF_INET6;
			memcpy(&((struct sockaddr_in6 *)&a[i])->sin6_addr, p + 1, 16);
		} else {
			a[i].ss_family = AF_INET;
			memcpy(&((struct sockaddr_in *)&a[i])->sin_addr, p + 1, 4);
		}
	}
	rsv_addr_order(a, n, size & 1 ? AF_INET : AF_INET6);
	return 0;
}

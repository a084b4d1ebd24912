/* fuzz_dhcp_url.c - the provisioning server a DHCP hook (option 66/160) and
 * the bootstrap file name (provisioning/prov.c's prov_pick_server, as
 * pick_server() feeds it the files read with utl_read_file: NUL-terminated).
 * Input: the DHCP-hook URL file, optionally "\n----\n" and the bootstrap one. */
#include "config.h"

#include "fuzz.h"
#include "provisioning/prov.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *a, *b;
	size_t al, bl;
	char *dhcp, *boot, out[512], why[300];

	fuzz_split(data, size, &a, &al, &b, &bl);
	dhcp = fuzz_strndup(a, al);
	boot = fuzz_strndup(b, bl);
	prov_pick_server(NULL, NULL, dhcp, out, sizeof(out), why, sizeof(why));
	prov_pick_server(NULL, boot, dhcp, out, sizeof(out), why, sizeof(why));
	free(dhcp);
	free(boot);
	return 0;
}

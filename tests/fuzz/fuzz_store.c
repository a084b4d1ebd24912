/* fuzz_store.c - the stored configuration bundle (provisioning/store.c), as
 * the daemon reads last-known-good at boot: ps_bundle_decode on the raw file.
 * Byte 0 even: the rest is a bundle file as found on disk. Byte 0 odd: the
 * rest is two config files ("\n----\n" between them) that are encoded as the
 * store writes them, decoded again (must give the same bytes) and parsed and
 * merged as the daemon does with a stored bundle. */
#include "config.h"

#include "fuzz.h"
#include "provisioning/cfg.h"
#include "provisioning/store.h"

static void use(const struct ps_bundle *b)
{
	static struct cfg_config common, mac, merged;
	static struct cfg_errors errs;

	memset(&errs, 0, sizeof(errs));
	if (cfg_parse_mem(b->common, b->common_len, "dialstack.xml", &common, &errs) < 0)
		cfg_defaults(&common);
	if (cfg_parse_mem(b->mac, b->mac_len, "mac.xml", &mac, &errs) < 0)
		cfg_defaults(&mac);
	cfg_merge(&merged, &common, &mac);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_bundle b, back;
	const uint8_t *pa, *pb;
	size_t la, lb, len;
	char *enc = NULL;

	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		if (ps_bundle_decode((const char *)data + 1, size - 1, &b) == 0) {
			use(&b);
			ps_bundle_free(&b);
		}
		return 0;
	}
	fuzz_split(data + 1, size - 1, &pa, &la, &pb, &lb);
	memset(&b, 0, sizeof(b));
	b.common = fuzz_strndup(pa, la);
	b.common_len = la;
	b.mac = fuzz_strndup(pb, lb);
	b.mac_len = lb;
	strcpy(b.etag_common, "\"c1\"");
	if (ps_bundle_encode(&b, &enc, &len) == 0) {
		if (ps_bundle_decode(enc, len, &back) != 0 || back.common_len != la || back.mac_len != lb ||
		    memcmp(back.common, pa, la) || memcmp(back.mac, pb, lb))
			abort();   /* what the store writes it must read back */
		use(&back);
		ps_bundle_free(&back);
		free(enc);
	}
	free(b.common);
	free(b.mac);
	return 0;
}

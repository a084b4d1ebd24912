/* fuzz_cfg_merge.c - the two configuration files the daemon fetches (the
 * common dialstack.xml and the per-MAC file), separated in the input by a
 * line "----": both parsed, merged, checked and diffed as prov.c does. */
#include "config.h"

#include "fuzz.h"
#include "provisioning/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg_config a, b, merged;
	static struct cfg_errors errs;
	const uint8_t *pa, *pb;
	size_t la, lb;
	char names[256];

	fuzz_split(data, size, &pa, &la, &pb, &lb);
	memset(&errs, 0, sizeof(errs));
	if (cfg_parse_mem((const char *)pa, la, "dialstack.xml", &a, &errs) < 0)
		cfg_defaults(&a);
	if (cfg_parse_mem((const char *)pb, lb, "mac.xml", &b, &errs) < 0)
		cfg_defaults(&b);
	cfg_merge(&merged, &a, &b);
	memset(&errs, 0, sizeof(errs));
	(void)cfg_complete(&merged, &errs);
	(void)cfg_change_str(cfg_diff(&a, &merged), names, sizeof(names));
	(void)cfg_change_str(cfg_diff(NULL, &b), names, sizeof(names));
	return 0;
}

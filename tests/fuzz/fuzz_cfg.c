/* fuzz_cfg.c - a provisioned configuration file through provisioning/cfg.c:
 * format detection, libxml2 parsing, schema and setting checks, completeness. */
#include "config.h"

#include "fuzz.h"
#include "provisioning/cfg.h"

#include <libxml/parser.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg_config cfg;
	static struct cfg_errors errs;

	memset(&errs, 0, sizeof(errs));
	if (cfg_parse_mem((const char *)data, size, "fuzz.xml", &cfg, &errs) == 0) {
		memset(&errs, 0, sizeof(errs));
		(void)cfg_complete(&cfg, &errs);
	}
	return 0;
}

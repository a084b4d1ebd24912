/* fuzz_bootstrap.c - the device's bootstrap settings file (agent/bootstrap.c),
 * as the daemon and check-config read it. */
#include "config.h"

#include "fuzz.h"
#include "agent/bootstrap.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct bst_config c;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	bst_defaults(&c);
	(void)bst_parse((const char *)data, size, "bootstrap.conf", &c, devnull);
	return 0;
}

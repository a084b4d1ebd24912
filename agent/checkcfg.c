/* checkcfg.c - `dialstack-agent check-config FILE`: a provisioned XML
 * configuration or the bootstrap settings, told apart by cfg_detect(), the
 * same detection the daemon's fetch path uses (provisioning/cfg.c): a UTF-8
 * BOM is skipped, UTF-16/UTF-32 are refused naming the encoding and the fix. */
#include "config.h"

#include "agent/agent.h"
#include "agent/bootstrap.h"
#include "common/util.h"
#include "provisioning/cfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int agt_cli_check_config(const struct agt_options *o, const char *file)
{
	struct bst_config bc;
	char *text = NULL;
	const char *why = NULL;
	size_t len = 0, skip = 0;
	int rc, n;

	rc = utl_read_file(file, 1024 * 1024, &text, &len);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot read: %s\n", file,
			rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		return AGT_EXIT_USAGE;
	}
	switch (cfg_detect(text, len, &skip, &why)) {
	case CFG_FMT_UNSUPPORTED:
		printf("%s: %s\n", file, why);
		free(text);
		return AGT_EXIT_FAIL;
	case CFG_FMT_XML:
		free(text);
		rc = cfg_check_file(file, stdout);
		cfg_cleanup();
		return rc;         /* 0 valid, 1 invalid, 2 unreadable */
	case CFG_FMT_TEXT:
	case CFG_FMT_EMPTY:
		break;
	}
	bst_defaults(&bc);
	n = bst_parse(text + skip, len - skip, file, &bc, stdout);
	free(text);
	if (n == 0)
		printf("OK\n");
	return n == 0 ? AGT_EXIT_OK : AGT_EXIT_FAIL;
}

/* checkcfg.c - `dialstack-agent check-config FILE`: a provisioned XML
 * configuration or the bootstrap settings, told apart by their first byte. */
#include "config.h"

#include "agent/agent.h"
#include "agent/bootstrap.h"
#include "common/util.h"
#include "provisioning/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int agt_cli_check_config(const struct agt_options *o, const char *file)
{
	struct bst_config bc;
	char *text = NULL;
	size_t len = 0, i = 0;
	int rc, n;

	rc = utl_read_file(file, 1024 * 1024, &text, &len);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot read: %s\n", file,
			rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		return AGT_EXIT_USAGE;
	}
	while (i < len && isspace((unsigned char)text[i]))
		i++;
	if (i < len && text[i] == '<') {
		free(text);
		rc = cfg_check_file(file, stdout);
		cfg_cleanup();
		return rc;         /* 0 valid, 1 invalid, 2 unreadable */
	}
	bst_defaults(&bc);
	n = bst_parse(text, len, file, &bc, stdout);
	free(text);
	if (n == 0)
		printf("OK\n");
	return n == 0 ? AGT_EXIT_OK : AGT_EXIT_FAIL;
}

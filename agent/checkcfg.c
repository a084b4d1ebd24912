/* checkcfg.c - `dialstack-agent check-config FILE`. */
#include "config.h"

#include "agent/agent.h"

#include <stdio.h>

int agt_cli_check_config(const struct agt_options *o, const char *file)
{
	fprintf(stderr, "dialstack-agent: check-config: the configuration parser is not built in yet\n");
	return AGT_EXIT_FAIL;
}

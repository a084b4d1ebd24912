/* dummy.c - a backend that records what it was asked and changes nothing. */
#include "config.h"

#include "system/system.h"
#include "system/dummy.h"

struct sys_dummy_record sys_dummy_last;

static int dummy_set_dscp(int fd, int dscp)
{
	sys_dummy_last.fd = fd;
	sys_dummy_last.dscp = dscp;
	sys_dummy_last.calls++;
	return 0;
}

const struct sys_ops sys_dummy_ops = {
	.name = "dummy",
	.set_dscp = dummy_set_dscp,
};

/* dummy.c - a backend that records what it was asked and changes nothing. */
#include "config.h"

#include "system/system.h"
#include "system/dummy.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

struct sys_dummy_record sys_dummy_last;

static int dummy_set_dscp(int fd, int dscp)
{
	sys_dummy_last.fd = fd;
	sys_dummy_last.dscp = dscp;
	sys_dummy_last.calls++;
	return 0;
}

void sys_dummy_reset(void)
{
	memset(&sys_dummy_last, 0, sizeof(sys_dummy_last));
}

/* Records the request and the exact RTM_NEWLINK the Linux backend would
 * send (parent index 1 stands for the parent, which may not exist here). */
static int dummy_vlan_add(const char *parent, unsigned vid, unsigned prio)
{
	char name[16];
	int len, err;

	sys_dummy_last.vlan_add_calls++;
	if ((err = sys_vlan_ifname(parent, vid, name, sizeof(name))) < 0)
		return err;
	len = sys_nl_vlan_new(sys_dummy_last.vlan_msg, sizeof(sys_dummy_last.vlan_msg), 1, 1, name, vid, prio);
	if (len < 0)
		return len;
	sys_dummy_last.vlan_msg_len = len;
	utl_strlcpy(sys_dummy_last.vlan_parent, parent, sizeof(sys_dummy_last.vlan_parent));
	sys_dummy_last.vlan_vid = vid;
	sys_dummy_last.vlan_prio = prio;
	sys_dummy_last.vlan_up = 1;
	return 0;
}

static int dummy_vlan_del(const char *parent, unsigned vid)
{
	sys_dummy_last.vlan_del_calls++;
	if (!sys_dummy_last.vlan_up || sys_dummy_last.vlan_vid != vid ||
	    strcmp(sys_dummy_last.vlan_parent, parent) != 0)
		return -ENODEV;
	sys_dummy_last.vlan_up = 0;
	return 0;
}

/* The addresses planted in sys_dummy_last (any interface but "none"). */
static int dummy_iface_addrs(const char *iface, struct sys_addr *out, size_t max)
{
	size_t n = sys_dummy_last.naddrs;

	sys_dummy_last.addrs_calls++;
	if (!strcmp(iface, "none"))
		return -ENODEV;
	if (n > max)
		n = max;
	memcpy(out, sys_dummy_last.addrs, n * sizeof(*out));
	return (int)n;
}

const struct sys_ops sys_dummy_ops = {
	.name = "dummy",
	.set_dscp = dummy_set_dscp,
	.vlan_add = dummy_vlan_add,
	.vlan_del = dummy_vlan_del,
	.iface_addrs = dummy_iface_addrs,
};

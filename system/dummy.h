/* dummy.h - what the dummy backend was last asked to do (for tests). */
#ifndef DSA_SYSTEM_DUMMY_H
#define DSA_SYSTEM_DUMMY_H

#include "system/system.h"

struct sys_dummy_record {
	int fd;
	int dscp;
	unsigned calls;
	/* voice VLAN */
	char vlan_parent[16];
	unsigned vlan_vid, vlan_prio;
	int vlan_up;                   /* created and up */
	unsigned vlan_add_calls, vlan_del_calls;
	unsigned char vlan_msg[512];   /* the RTM_NEWLINK the Linux backend would send */
	int vlan_msg_len;
	/* addresses sys_iface_addrs returns (planted by the test) */
	struct sys_addr addrs[8];
	unsigned naddrs, addrs_calls;
};

/* Forget everything recorded. */
void sys_dummy_reset(void);

extern struct sys_dummy_record sys_dummy_last;

#endif

/* internal.h - the Linux backend's pieces shared between system/ files. */
#ifndef DSA_SYSTEM_INTERNAL_H
#define DSA_SYSTEM_INTERNAL_H

/* Create <parent>.<vid> over rtnetlink and bring it up; 0 or -errno. */
int sys_linux_vlan_add(const char *parent, unsigned vid, unsigned prio);

/* Delete <parent>.<vid> over rtnetlink; 0 or -errno. */
int sys_linux_vlan_del(const char *parent, unsigned vid);

struct sys_addr;

/* The addresses of iface over rtnetlink; count or -errno. */
int sys_linux_iface_addrs(const char *iface, struct sys_addr *out, size_t max);

#endif

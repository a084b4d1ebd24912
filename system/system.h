/* system.h - every access to the kernel's network configuration goes here.
 *
 * Two backends implement struct sys_ops: "linux" (sockets, rtnetlink) and
 * "dummy" (records what would have been done, for tests and for hosts the
 * agent must not change). Modules call the sys_* wrappers, never the kernel.
 */
#ifndef DSA_SYSTEM_SYSTEM_H
#define DSA_SYSTEM_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One address of an interface, as the kernel reports it (RTM_NEWADDR). */
struct sys_addr {
	int family;                          /* AF_INET or AF_INET6 */
	unsigned char addr[16];              /* network order; 4 bytes for IPv4 */
	unsigned prefixlen;
	unsigned scope;                      /* RT_SCOPE_UNIVERSE, _LINK, _HOST */
	uint32_t flags;                      /* IFA_F_* (PERMANENT, TEMPORARY, MANAGETEMPADDR...) */
	unsigned proto;                      /* IFA_PROTO (3: SLAAC, Linux 6.3+), 0 unknown */
	uint32_t valid_s;                    /* valid lifetime, UINT32_MAX forever */
};

/* Where an address came from, as far as the kernel tells. */
enum sys_addr_origin {
	SYS_ADDR_STATIC = 0,                 /* permanent (configured by hand or a client without lifetime) */
	SYS_ADDR_DHCP,                       /* IPv4 with a lease lifetime */
	SYS_ADDR_SLAAC,                      /* IPv6 from router advertisements */
	SYS_ADDR_DHCPV6,                     /* IPv6 /128 with a lifetime, not from SLAAC */
	SYS_ADDR_LINKLOCAL,                  /* fe80::/10 */
	SYS_ADDR_OTHER,
};

struct sys_ops {
	const char *name;
	/* Mark fd's outgoing packets with dscp (0-63) and the matching SO_PRIORITY. */
	int (*set_dscp)(int fd, int dscp);
	/* Create the voice VLAN <parent>.<vid> (egress: socket priorities 0-7 ->
	 * 802.1p prio) and bring it up. 0 or -errno (-EOPNOTSUPP: no 802.1Q). */
	int (*vlan_add)(const char *parent, unsigned vid, unsigned prio);
	/* Delete <parent>.<vid>. 0 or -errno (-ENODEV when absent). */
	int (*vlan_del)(const char *parent, unsigned vid);
	/* The addresses of iface (both families) into out; how many (<= max) or -errno. */
	int (*iface_addrs)(const char *iface, struct sys_addr *out, size_t max);
};

/* The Linux backend. */
extern const struct sys_ops sys_linux_ops;
/* The dummy backend: records calls, touches nothing. */
extern const struct sys_ops sys_dummy_ops;

/* Select the backend (default: Linux). */
void sys_use(const struct sys_ops *ops);

/* The backend in use. */
const struct sys_ops *sys_backend(void);

/* Mark fd with DSCP dscp (0-63) through the backend; 0 or -errno. */
int sys_set_dscp(int fd, int dscp);

/* Ask the kernel for software transmit timestamps on fd (SO_TIMESTAMPING, TX_SOFTWARE,
 * OPT_ID: the n-th datagram sent from now on has key n, OPT_TSONLY). 0 or -errno. */
int sys_tx_timestamps(int fd);

/* Read the transmit timestamps queued on fd's error queue: fn(key, CLOCK_REALTIME ns, arg) for
 * each (at most 4096 per call). The number read. */
int sys_tx_drain(int fd, void (*fn)(uint32_t key, int64_t ns, void *arg), void *arg);

/* The socket priority (SO_PRIORITY, 0-7) matching a DSCP value: EF->6, AF3x->4. */
int sys_dscp_to_priority(int dscp);

/* Create voice VLAN <parent>.<vid> (vid 1-4094, prio 0-7) through the
 * backend and bring it up; 0 or -errno (see sys_vlan_strerror). The system's
 * DHCP client is then started on it by the caller. */
int sys_vlan_add(const char *parent, unsigned vid, unsigned prio);

/* Delete <parent>.<vid> through the backend; 0 or -errno. */
int sys_vlan_del(const char *parent, unsigned vid);

/* A technician's sentence for an error of sys_vlan_add/del. */
const char *sys_vlan_strerror(int err);

/* The VLAN interface name "<parent>.<vid>" into name (IFNAMSIZ); 0 or
 * -ENAMETOOLONG when it would not fit in 15 characters. */
int sys_vlan_ifname(const char *parent, unsigned vid, char *name, size_t size);

/* --- rtnetlink messages (pure: built into buf, nothing sent) --- */

/* RTM_NEWLINK creating the VLAN: ifinfomsg (up), IFLA_LINK parent_index,
 * IFLA_IFNAME name, IFLA_LINKINFO { IFLA_INFO_KIND "vlan", IFLA_INFO_DATA {
 * IFLA_VLAN_ID vid, IFLA_VLAN_EGRESS_QOS { 8 x IFLA_VLAN_QOS_MAPPING
 * (from 0-7 to prio) } } }. Flags REQUEST|ACK|CREATE|EXCL.
 * Returns the message length, or -EINVAL / -ENOSPC. */
int sys_nl_vlan_new(void *buf, size_t size, uint32_t seq, int parent_index,
		    const char *name, unsigned vid, unsigned prio);

/* RTM_NEWLINK setting IFF_UP on the link called name; length or -errno. */
int sys_nl_link_up(void *buf, size_t size, uint32_t seq, const char *name);

/* RTM_DELLINK of the link called name; length or -errno. */
int sys_nl_link_del(void *buf, size_t size, uint32_t seq, const char *name);

/* --- reading the network setup (sysfs/procfs; no backend needed) --- */

/* The interface of the IPv4 default route into name; 0 or -ENOENT. */
int sys_default_iface(char *name, size_t size);

/* The first IPv4 address of iface as "a.b.c.d/len" into out; 0 or -ENOENT. */
int sys_iface_ipv4(const char *iface, char *out, size_t size);

/* The addresses of iface (both families) through the backend, in the kernel's order, into
 * out; how many (<= max) or -errno (-ENODEV: no such interface). */
int sys_iface_addrs(const char *iface, struct sys_addr *out, size_t max);

/* Where a is from (pure: its family, scope, flags, protocol and prefix length). */
enum sys_addr_origin sys_addr_origin(const struct sys_addr *a);

/* "static", "DHCP", "SLAAC", "DHCPv6", "link-local", "other". */
const char *sys_addr_origin_name(enum sys_addr_origin o);

/* Not tentative and duplicate address detection did not fail. */
bool sys_addr_usable(const struct sys_addr *a);

/* Parse RTM_NEWADDR messages of a dump in buf (pure): those of ifindex (0: all) are stored
 * into out (up to max) and counted in *n (which may exceed max). 1 at NLMSG_DONE, 0 when
 * more is to come, -errno for an error message. */
int sys_nl_addr_parse(const void *buf, size_t len, int ifindex, struct sys_addr *out, size_t max,
		      size_t *n);

/* The MAC address of iface as "aa:bb:cc:dd:ee:ff" (out: 18 bytes); 0 or -errno. */
int sys_iface_mac(const char *iface, char *out, size_t size);

#endif

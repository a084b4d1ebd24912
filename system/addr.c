/* addr.c - the interface's addresses and where they came from (rtnetlink RTM_GETADDR). */
#include "config.h"

#include "system/system.h"
#include "system/internal.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <limits.h>
#include <linux/if_addr.h>

#ifndef IFA_PROTO
#define IFA_PROTO 11
#endif
#define PROTO_KERNEL_RA 3        /* IFAPROT_KERNEL_RA: made by SLAAC (Linux 6.3+) */
#define PROTO_KERNEL_LL 2        /* IFAPROT_KERNEL_LL: link-local made by the kernel */

/* The message at off when a whole one lies within len, else NULL. Not NLMSG_OK/NLMSG_NEXT
 * on a size_t: a last message whose 4-aligned length runs past the end wraps the count
 * left and walks off the buffer (found by fuzz_nl_addr). */
static const struct nlmsghdr *nl_at(const void *buf, size_t len, size_t off)
{
	const struct nlmsghdr *h;

	if (off > len || len - off < sizeof(*h))
		return NULL;
	h = (const struct nlmsghdr *)((const char *)buf + off);
	if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > len - off)
		return NULL;
	return h;
}

int sys_nl_addr_parse(const void *buf, size_t len, int ifindex, struct sys_addr *out, size_t max,
		      size_t *n)
{
	const struct nlmsghdr *h;

	for (size_t off = 0; (h = nl_at(buf, len, off)) != NULL;
	     off += ((size_t)h->nlmsg_len + NLMSG_ALIGNTO - 1) & ~(size_t)(NLMSG_ALIGNTO - 1)) {
		const struct ifaddrmsg *ifa;
		const struct rtattr *a;
		struct sys_addr x;
		int alen, have = 0;

		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			return e->error ? e->error : 1;
		}
		if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
			continue;
		ifa = NLMSG_DATA(h);
		if ((ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
		    (ifindex > 0 && (int)ifa->ifa_index != ifindex))
			continue;
		memset(&x, 0, sizeof(x));
		x.family = ifa->ifa_family;
		x.prefixlen = ifa->ifa_prefixlen;
		x.scope = ifa->ifa_scope;
		x.flags = ifa->ifa_flags;
		x.valid_s = UINT32_MAX;
		alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa)));
		for (a = IFA_RTA(ifa); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
			size_t pl = RTA_PAYLOAD(a), want = x.family == AF_INET ? 4 : 16;

			switch (a->rta_type) {
			case IFA_LOCAL:              /* IPv4: the local address (IFA_ADDRESS may be the peer) */
			case IFA_ADDRESS:
				if (pl == want && (a->rta_type == IFA_LOCAL || !have)) {
					memcpy(x.addr, RTA_DATA(a), want);
					have = 1;
				}
				break;
			case IFA_FLAGS:
				if (pl == 4)
					memcpy(&x.flags, RTA_DATA(a), 4);
				break;
			case IFA_CACHEINFO:
				if (pl >= sizeof(struct ifa_cacheinfo)) {
					struct ifa_cacheinfo ci;

					memcpy(&ci, RTA_DATA(a), sizeof(ci));
					x.valid_s = ci.ifa_valid;
				}
				break;
			case IFA_PROTO:
				if (pl >= 1)
					x.proto = *(const unsigned char *)RTA_DATA(a);
				break;
			default:
				break;
			}
		}
		if (!have)
			continue;
		if (*n < max)
			out[*n] = x;
		(*n)++;
	}
	return 0;
}

enum sys_addr_origin sys_addr_origin(const struct sys_addr *a)
{
	bool permanent = a->flags & IFA_F_PERMANENT;

	if (a->family == AF_INET)
		return permanent ? SYS_ADDR_STATIC : SYS_ADDR_DHCP;
	if (a->scope == RT_SCOPE_LINK || (a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80))
		return SYS_ADDR_LINKLOCAL;
	if (a->scope == RT_SCOPE_HOST)
		return SYS_ADDR_OTHER;
	if (a->proto == PROTO_KERNEL_RA || (a->flags & (IFA_F_MANAGETEMPADDR | IFA_F_TEMPORARY)))
		return SYS_ADDR_SLAAC;
	if (permanent)
		return SYS_ADDR_STATIC;
	/* a lifetime without the kernel's SLAAC marks: a /128 is a DHCPv6 lease, a /64 SLAAC
	 * of a kernel that does not say (before 6.3) */
	if (a->prefixlen == 128)
		return SYS_ADDR_DHCPV6;
	if (a->prefixlen == 64)
		return SYS_ADDR_SLAAC;
	return SYS_ADDR_OTHER;
}

const char *sys_addr_origin_name(enum sys_addr_origin o)
{
	static const char names[][11] = {   /* no pointers: a relocation each */
		[SYS_ADDR_STATIC] = "static", [SYS_ADDR_DHCP] = "DHCP", [SYS_ADDR_SLAAC] = "SLAAC",
		[SYS_ADDR_DHCPV6] = "DHCPv6", [SYS_ADDR_LINKLOCAL] = "link-local", [SYS_ADDR_OTHER] = "other",
	};

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "other";
}

bool sys_addr_usable(const struct sys_addr *a)
{
	return !(a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));
}

/* Dump the addresses over NETLINK_ROUTE (the kernel answers at once; bounded: 64 reads). */
int sys_linux_iface_addrs(const char *iface, struct sys_addr *out, size_t max)
{
	struct {
		struct nlmsghdr h;
		struct ifaddrmsg a;
	} req = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)), .nlmsg_type = RTM_GETADDR,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		  .a = { .ifa_family = AF_UNSPEC } };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 2 };
	union {
		struct nlmsghdr h;
		unsigned char b[16384];
	} ans;
	int fd, err, ifindex = (int)if_nametoindex(iface);
	size_t n = 0;

	if (ifindex <= 0)
		return -ENODEV;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	err = -EPROTO;
	for (int i = 0; i < 64; i++) {
		ssize_t got = recv(fd, &ans, sizeof(ans), 0);

		if (got < 0) {
			err = -errno;
			goto out;
		}
		err = sys_nl_addr_parse(&ans, (size_t)got, ifindex, out, max, &n);
		if (err)
			break;
	}
	if (err == 1)
		err = (int)(n < max ? n : max);
	else if (err == 0)
		err = -EPROTO;
out:
	close(fd);
	return err;
}

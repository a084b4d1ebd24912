/* system.c - backend selection and the Linux implementation. */
#include "config.h"

#include "system/system.h"
#include "system/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <stdbool.h>
#include <stdint.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

static const struct sys_ops *backend = &sys_linux_ops;

void sys_use(const struct sys_ops *ops)
{
	backend = ops ? ops : &sys_linux_ops;
}

const struct sys_ops *sys_backend(void)
{
	return backend;
}

int sys_set_dscp(int fd, int dscp)
{
	if (dscp < 0 || dscp > 63)
		return -EINVAL;
	return backend->set_dscp(fd, dscp);
}

int sys_vlan_add(const char *parent, unsigned vid, unsigned prio)
{
	if (!parent || !*parent || vid < 1 || vid > 4094 || prio > 7)
		return -EINVAL;
	return backend->vlan_add(parent, vid, prio);
}

int sys_vlan_del(const char *parent, unsigned vid)
{
	if (!parent || !*parent || vid < 1 || vid > 4094)
		return -EINVAL;
	return backend->vlan_del(parent, vid);
}

int sys_iface_addrs(const char *iface, struct sys_addr *out, size_t max)
{
	if (!iface || !*iface || (!out && max))
		return -EINVAL;
	return backend->iface_addrs(iface, out, max);
}

int sys_dscp_to_priority(int dscp)
{
	if (dscp >= 46)
		return 6;          /* EF and above: voice */
	if (dscp >= 24)
		return 4;          /* CS3/AF3x: signalling */
	return 0;
}

static int linux_set_dscp(int fd, int dscp)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int tos = dscp << 2, prio = sys_dscp_to_priority(dscp);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos)) < 0)
			return -errno;
		/* A dual-stack socket may still send IPv4: mark that too. */
		(void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	} else if (setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) < 0) {
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)) < 0)
		return -errno;
	return 0;
}

const struct sys_ops sys_linux_ops = {
	.name = "linux",
	.set_dscp = linux_set_dscp,
	.vlan_add = sys_linux_vlan_add,
	.vlan_del = sys_linux_vlan_del,
	.iface_addrs = sys_linux_iface_addrs,
};

int sys_default_iface(char *name, size_t size)
{
	char line[256], ifn[32];
	unsigned long dest, flags;
	FILE *f = fopen("/proc/net/route", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))   /* header */
		goto out;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %lx %*x %lx", ifn, &dest, &flags) != 3)
			continue;
		if (dest == 0 && (flags & 0x1) && strlen(ifn) < size) {   /* RTF_UP */
			memcpy(name, ifn, strlen(ifn) + 1);
			err = 0;
			break;
		}
	}
out:
	fclose(f);
	return err;
}

int sys_iface_mac(const char *iface, char *out, size_t size)
{
	char path[128], buf[32];
	FILE *f;
	size_t n;

	if (!*iface || strchr(iface, '/') || size < 18)
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", iface);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (strlen(buf) != 17)
		return -EINVAL;
	memcpy(out, buf, 18);
	return 0;
}

int sys_iface_ipv4(const char *iface, char *out, size_t size)
{
	struct ifaddrs *ifa, *i;
	int err = -ENOENT;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		char a[INET_ADDRSTRLEN];
		uint32_t m;
		int len = 0;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, iface))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a, sizeof(a));
		m = i->ifa_netmask ? ntohl(((struct sockaddr_in *)(void *)i->ifa_netmask)->sin_addr.s_addr) : 0;
		while (m & 0x80000000u) {
			len++;
			m <<= 1;
		}
		snprintf(out, size, "%s/%d", a, len);
		err = 0;
		break;
	}
	freeifaddrs(ifa);
	return err;
}

int sys_tx_timestamps(int fd)
{
	int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
		    SOF_TIMESTAMPING_OPT_TSONLY;

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) < 0)
		return -errno;
	return 0;
}

int sys_tx_drain(int fd, void (*fn)(uint32_t key, int64_t ns, void *arg), void *arg)
{
	int got = 0;

	for (int guard = 0; guard < 4096; guard++) {
		union {
			char b[256];
			struct cmsghdr align;
		} cb;
		char junk[64];
		struct iovec iov = { .iov_base = junk, .iov_len = sizeof(junk) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
				     .msg_controllen = sizeof(cb.b) };
		int64_t ns = 0;
		bool have_key = false;
		uint32_t key = 0;

		if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
				struct scm_timestamping ts;

				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				ns = (int64_t)ts.ts[0].tv_sec * 1000000000 + ts.ts[0].tv_nsec;
			} else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
				   (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
				struct sock_extended_err ee;

				memcpy(&ee, CMSG_DATA(c), sizeof(ee));
				if (ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING && ee.ee_info == SCM_TSTAMP_SND) {
					key = ee.ee_data;
					have_key = true;
				}
			}
		}
		if (have_key && ns) {
			fn(key, ns, arg);
			got++;
		}
	}
	return got;
}

/* netlink.c - rtnetlink messages for the voice VLAN, built into a buffer
 * (pure), and the Linux backend that sends them. */
#include "config.h"

#include "system/system.h"
#include "system/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* A message being built in a caller's buffer. */
struct nlb {
	unsigned char *buf;
	size_t size, len;
	int err;
};

static void *nlb_put(struct nlb *b, size_t len)
{
	void *p;

	if (b->err || b->len + NLMSG_ALIGN(len) > b->size) {
		b->err = -ENOSPC;
		return NULL;
	}
	p = b->buf + b->len;
	memset(p, 0, NLMSG_ALIGN(len));
	b->len += NLMSG_ALIGN(len);
	return p;
}

/* Add attribute type with len bytes of data; returns it (for nesting). */
static struct rtattr *nlb_attr(struct nlb *b, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = nlb_put(b, RTA_LENGTH(len));

	if (!a)
		return NULL;
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	return a;
}

static struct rtattr *nlb_nest(struct nlb *b, unsigned short type)
{
	return nlb_attr(b, type, NULL, 0);
}

/* Close a nest opened with nlb_nest: its length covers what was added. */
static void nlb_end(struct nlb *b, struct rtattr *nest)
{
	if (nest && !b->err)
		nest->rta_len = (unsigned short)(b->buf + b->len - (unsigned char *)nest);
}

static struct ifinfomsg *nlb_start(struct nlb *b, void *buf, size_t size, uint16_t type,
				   uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *h;
	struct ifinfomsg *ifi;

	b->buf = buf;
	b->size = size;
	b->len = 0;
	b->err = 0;
	h = nlb_put(b, sizeof(*h));
	ifi = nlb_put(b, sizeof(*ifi));
	if (!h || !ifi)
		return NULL;
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	ifi->ifi_family = AF_UNSPEC;
	return ifi;
}

static int nlb_finish(struct nlb *b)
{
	if (b->err)
		return b->err;
	((struct nlmsghdr *)(void *)b->buf)->nlmsg_len = (uint32_t)b->len;
	return (int)b->len;
}

static int name_ok(const char *name)
{
	return name && *name && strlen(name) < IFNAMSIZ;
}

int sys_nl_vlan_new(void *buf, size_t size, uint32_t seq, int parent_index,
		    const char *name, unsigned vid, unsigned prio)
{
	struct nlb b;
	struct ifinfomsg *ifi;
	struct rtattr *linkinfo, *data, *qos;
	uint32_t link = (uint32_t)parent_index;
	uint16_t id = (uint16_t)vid;

	if (parent_index <= 0 || !name_ok(name) || vid < 1 || vid > 4094 || prio > 7)
		return -EINVAL;
	ifi = nlb_start(&b, buf, size, RTM_NEWLINK,
			NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
	if (ifi) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	nlb_attr(&b, IFLA_LINK, &link, sizeof(link));
	nlb_attr(&b, IFLA_IFNAME, name, strlen(name) + 1);
	linkinfo = nlb_nest(&b, IFLA_LINKINFO);
	nlb_attr(&b, IFLA_INFO_KIND, "vlan", 5);
	data = nlb_nest(&b, IFLA_INFO_DATA);
	nlb_attr(&b, IFLA_VLAN_ID, &id, sizeof(id));
	qos = nlb_nest(&b, IFLA_VLAN_EGRESS_QOS);
	for (uint32_t from = 0; from < 8; from++) {
		struct ifla_vlan_qos_mapping m = { .from = from, .to = prio };

		nlb_attr(&b, IFLA_VLAN_QOS_MAPPING, &m, sizeof(m));
	}
	nlb_end(&b, qos);
	nlb_end(&b, data);
	nlb_end(&b, linkinfo);
	return nlb_finish(&b);
}

int sys_nl_link_up(void *buf, size_t size, uint32_t seq, const char *name)
{
	struct nlb b;
	struct ifinfomsg *ifi;

	if (!name_ok(name))
		return -EINVAL;
	ifi = nlb_start(&b, buf, size, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
	if (ifi) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	nlb_attr(&b, IFLA_IFNAME, name, strlen(name) + 1);
	return nlb_finish(&b);
}

int sys_nl_link_del(void *buf, size_t size, uint32_t seq, const char *name)
{
	struct nlb b;

	if (!name_ok(name))
		return -EINVAL;
	nlb_start(&b, buf, size, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
	nlb_attr(&b, IFLA_IFNAME, name, strlen(name) + 1);
	return nlb_finish(&b);
}

int sys_vlan_ifname(const char *parent, unsigned vid, char *name, size_t size)
{
	int n = snprintf(name, size, "%s.%u", parent, vid);

	if (n < 0 || (size_t)n >= size || n >= IFNAMSIZ)
		return -ENAMETOOLONG;
	return 0;
}

const char *sys_vlan_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case -EOPNOTSUPP:
		return "this kernel has no 802.1Q VLAN support (8021q module): the voice VLAN cannot be created";
	case -ENODEV:
		return "the network interface does not exist";
	case -EEXIST:
		return "the VLAN interface exists already";
	case -EPERM:
	case -EACCES:
		return "not permitted: creating a VLAN needs CAP_NET_ADMIN (run the agent as root)";
	case -EINVAL:
		return "invalid VLAN id (1-4094) or priority (0-7)";
	case -ENAMETOOLONG:
		return "the VLAN interface name would be longer than 15 characters";
	default:
		return strerror(-err);
	}
}

/* ------------------------------------------------------------------ Linux */

/* Send one request on a NETLINK_ROUTE socket and read its ACK (the kernel
 * answers at once; this is the only synchronous step and takes microseconds). */
static int nl_transact(const void *msg, int len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr h;
		unsigned char b[4096];
	} ans;
	struct timeval tv = { .tv_sec = 2 };
	int fd, err;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, msg, (size_t)len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, &ans, sizeof(ans), 0);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	err = -EPROTO;
	if ((size_t)n >= NLMSG_LENGTH(sizeof(struct nlmsgerr)) && ans.h.nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(&ans.h);

		err = e->error;              /* 0 = ACK, else -errno */
	}
out:
	close(fd);
	return err;
}

int sys_linux_vlan_add(const char *parent, unsigned vid, unsigned prio)
{
	unsigned char msg[512];
	char name[IFNAMSIZ];
	int idx, len, err;

	if ((err = sys_vlan_ifname(parent, vid, name, sizeof(name))) < 0)
		return err;
	idx = (int)if_nametoindex(parent);
	if (!idx)
		return -ENODEV;
	len = sys_nl_vlan_new(msg, sizeof(msg), 1, idx, name, vid, prio);
	if (len < 0)
		return len;
	if ((err = nl_transact(msg, len)) < 0)
		return err;
	len = sys_nl_link_up(msg, sizeof(msg), 2, name);
	if (len < 0)
		return len;
	return nl_transact(msg, len);
}

int sys_linux_vlan_del(const char *parent, unsigned vid)
{
	unsigned char msg[128];
	char name[IFNAMSIZ];
	int len, err;

	if ((err = sys_vlan_ifname(parent, vid, name, sizeof(name))) < 0)
		return err;
	len = sys_nl_link_del(msg, sizeof(msg), 1, name);
	if (len < 0)
		return len;
	return nl_transact(msg, len);
}


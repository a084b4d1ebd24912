/* test_system_vlan.c - the voice VLAN's rtnetlink messages, decoded byte by
 * byte with the kernel's own uapi macros; the dummy backend; and the Linux
 * backend on this kernel (in a private network namespace). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "system/system.h"
#include "system/dummy.h"

/* The attribute of type t directly inside [a, a+len), or NULL; fails the
 * test when a length is malformed. */
static struct rtattr *find(struct rtattr *a, int len, unsigned short t, int *count)
{
	struct rtattr *hit = NULL;

	*count = 0;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == t) {
			if (!hit)
				hit = a;
			(*count)++;
		}
	}
	assert_int_equal(len, 0);        /* consumed exactly: no trailing garbage */
	return hit;
}

static void check_vlan_msg(const unsigned char *buf, int len, uint32_t seq, int parent,
			   const char *name, unsigned vid, unsigned prio)
{
	const struct nlmsghdr *h = (const void *)buf;
	struct ifinfomsg *ifi;
	struct rtattr *a, *li, *kind, *data, *id, *qos, *m;
	int alen, n, rest;

	assert_int_equal(h->nlmsg_len, len);
	assert_int_equal(h->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(h->nlmsg_seq, seq);
	assert_int_equal(h->nlmsg_pid, 0);
	ifi = NLMSG_DATA(h);
	assert_int_equal(ifi->ifi_family, AF_UNSPEC);
	assert_int_equal(ifi->ifi_index, 0);
	assert_int_equal(ifi->ifi_type, 0);
	assert_int_equal(ifi->ifi_flags, IFF_UP);
	assert_int_equal(ifi->ifi_change, IFF_UP);

	a = IFLA_RTA(ifi);
	alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	/* exactly three top-level attributes */
	rest = alen;
	n = 0;
	for (struct rtattr *x = a; RTA_OK(x, rest); x = RTA_NEXT(x, rest))
		n++;
	assert_int_equal(n, 3);

	struct rtattr *link = find(a, alen, IFLA_LINK, &n);
	assert_non_null(link);
	assert_int_equal(n, 1);
	assert_int_equal(RTA_PAYLOAD(link), 4);
	assert_int_equal(*(uint32_t *)RTA_DATA(link), (uint32_t)parent);

	struct rtattr *ifname = find(a, alen, IFLA_IFNAME, &n);
	assert_non_null(ifname);
	assert_int_equal(RTA_PAYLOAD(ifname), strlen(name) + 1);
	assert_string_equal((char *)RTA_DATA(ifname), name);

	li = find(a, alen, IFLA_LINKINFO, &n);
	assert_non_null(li);
	kind = find(RTA_DATA(li), (int)RTA_PAYLOAD(li), IFLA_INFO_KIND, &n);
	assert_non_null(kind);
	assert_int_equal(RTA_PAYLOAD(kind), 5);
	assert_memory_equal(RTA_DATA(kind), "vlan", 5);
	data = find(RTA_DATA(li), (int)RTA_PAYLOAD(li), IFLA_INFO_DATA, &n);
	assert_non_null(data);

	id = find(RTA_DATA(data), (int)RTA_PAYLOAD(data), IFLA_VLAN_ID, &n);
	assert_non_null(id);
	assert_int_equal(RTA_PAYLOAD(id), 2);
	assert_int_equal(*(uint16_t *)RTA_DATA(id), vid);
	qos = find(RTA_DATA(data), (int)RTA_PAYLOAD(data), IFLA_VLAN_EGRESS_QOS, &n);
	assert_non_null(qos);
	assert_null(find(RTA_DATA(data), (int)RTA_PAYLOAD(data), IFLA_VLAN_INGRESS_QOS, &n));

	/* eight mappings: socket priority 0..7 -> prio, in order */
	m = find(RTA_DATA(qos), (int)RTA_PAYLOAD(qos), IFLA_VLAN_QOS_MAPPING, &n);
	assert_int_equal(n, 8);
	rest = (int)RTA_PAYLOAD(qos);
	unsigned from = 0;
	for (m = RTA_DATA(qos); RTA_OK(m, rest); m = RTA_NEXT(m, rest), from++) {
		struct ifla_vlan_qos_mapping *q = RTA_DATA(m);

		assert_int_equal(m->rta_type, IFLA_VLAN_QOS_MAPPING);
		assert_int_equal(RTA_PAYLOAD(m), sizeof(*q));
		assert_int_equal(q->from, from);
		assert_int_equal(q->to, prio);
	}
	assert_int_equal(from, 8);
}

static void test_newlink_bytes(void **state)
{
	unsigned char buf[512];
	int len = sys_nl_vlan_new(buf, sizeof(buf), 42, 7, "eth0.100", 100, 5);

	assert_true(len > 0);
	assert_int_equal(len % 4, 0);
	check_vlan_msg(buf, len, 42, 7, "eth0.100", 100, 5);
	/* the exact size: hdr 16 + ifinfomsg 16 + LINK 8 + IFNAME 4+9->16 +
	 * LINKINFO 4 + KIND 4+5->12 + DATA 4 + ID 4+2->8 + EGRESS 4 + 8 x (4+8) */
	assert_int_equal(len, 16 + 16 + 8 + 16 + 4 + 12 + 4 + 8 + 4 + 8 * 12);
	/* the first bytes, literally (little-endian host) */
	const unsigned char head[] = {
		(unsigned char)len, 0, 0, 0,          /* nlmsg_len */
		RTM_NEWLINK, 0,                         /* nlmsg_type 16 */
		0x05, 0x06,                             /* REQUEST|ACK|EXCL|CREATE = 0x605 */
		42, 0, 0, 0, 0, 0, 0, 0,                /* seq, pid */
	};
	assert_memory_equal(buf, head, sizeof(head));

	len = sys_nl_vlan_new(buf, sizeof(buf), 1, 2, "wan.4094", 4094, 0);
	check_vlan_msg(buf, len, 1, 2, "wan.4094", 4094, 0);
}

static void test_newlink_refuses(void **state)
{
	unsigned char buf[512];

	assert_int_equal(sys_nl_vlan_new(buf, sizeof(buf), 1, 2, "eth0.0", 0, 5), -EINVAL);
	assert_int_equal(sys_nl_vlan_new(buf, sizeof(buf), 1, 2, "eth0.4095", 4095, 5), -EINVAL);
	assert_int_equal(sys_nl_vlan_new(buf, sizeof(buf), 1, 2, "eth0.1", 1, 8), -EINVAL);
	assert_int_equal(sys_nl_vlan_new(buf, sizeof(buf), 1, 0, "eth0.1", 1, 5), -EINVAL);
	assert_int_equal(sys_nl_vlan_new(buf, sizeof(buf), 1, 2, "a-very-long-name.1", 1, 5), -EINVAL);
	/* too small a buffer: refused, never overrun */
	int full = sys_nl_vlan_new(buf, sizeof(buf), 1, 2, "eth0.1", 1, 5);
	assert_true(full > 0);
	for (size_t n = 0; n < (size_t)full; n++)
		assert_int_equal(sys_nl_vlan_new(buf, n, 1, 2, "eth0.1", 1, 5), -ENOSPC);
	assert_int_equal(sys_nl_vlan_new(buf, (size_t)full, 1, 2, "eth0.1", 1, 5), full);
	char name[16];
	assert_int_equal(sys_vlan_ifname("eth0", 100, name, sizeof(name)), 0);
	assert_string_equal(name, "eth0.100");
	assert_int_equal(sys_vlan_ifname("enp0s31f6abc", 4094, name, sizeof(name)), -ENAMETOOLONG);
}

static void test_up_and_del_bytes(void **state)
{
	unsigned char buf[128];
	const struct nlmsghdr *h = (const void *)buf;
	struct ifinfomsg *ifi;
	struct rtattr *a;
	int len, n;

	len = sys_nl_link_up(buf, sizeof(buf), 9, "eth0.100");
	assert_int_equal(len, 16 + 16 + 16);
	assert_int_equal(h->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	ifi = NLMSG_DATA(h);
	assert_int_equal(ifi->ifi_flags, IFF_UP);
	assert_int_equal(ifi->ifi_change, IFF_UP);
	a = find(IFLA_RTA(ifi), len - (int)NLMSG_LENGTH(sizeof(*ifi)), IFLA_IFNAME, &n);
	assert_string_equal((char *)RTA_DATA(a), "eth0.100");

	len = sys_nl_link_del(buf, sizeof(buf), 10, "eth0.100");
	assert_int_equal(h->nlmsg_type, RTM_DELLINK);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(h->nlmsg_seq, 10);
	ifi = NLMSG_DATA(h);
	assert_int_equal(ifi->ifi_index, 0);
	assert_int_equal(ifi->ifi_flags, 0);
	a = find(IFLA_RTA(ifi), len - (int)NLMSG_LENGTH(sizeof(*ifi)), IFLA_IFNAME, &n);
	assert_string_equal((char *)RTA_DATA(a), "eth0.100");
}

static void test_dummy_backend(void **state)
{
	sys_use(&sys_dummy_ops);
	sys_dummy_reset();
	assert_int_equal(sys_vlan_add("eth0", 100, 5), 0);
	assert_string_equal(sys_dummy_last.vlan_parent, "eth0");
	assert_int_equal(sys_dummy_last.vlan_vid, 100);
	assert_int_equal(sys_dummy_last.vlan_prio, 5);
	assert_int_equal(sys_dummy_last.vlan_up, 1);
	check_vlan_msg(sys_dummy_last.vlan_msg, sys_dummy_last.vlan_msg_len, 1, 1, "eth0.100", 100, 5);
	assert_int_equal(sys_vlan_del("eth0", 101), -ENODEV);
	assert_int_equal(sys_vlan_del("eth0", 100), 0);
	assert_int_equal(sys_dummy_last.vlan_up, 0);
	assert_int_equal(sys_vlan_add("eth0", 0, 5), -EINVAL);      /* checked before the backend */
	assert_int_equal(sys_dummy_last.vlan_add_calls, 1);
	/* DSCP still works as before */
	assert_int_equal(sys_set_dscp(3, 46), 0);
	assert_int_equal(sys_dummy_last.dscp, 46);
	sys_use(NULL);
}

/* The Linux backend, in a private network namespace: on this kernel (no
 * 802.1Q) the kernel refuses with EOPNOTSUPP and we say so; on a kernel with
 * it, the VLAN appears up and goes away again. */
static void test_linux_backend(void **state)
{
	int pipefd[2], status, res[3] = { 0 };
	pid_t pid;

	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int r[3] = { -999, -999, -999 };

		close(pipefd[0]);
		if (unshare(CLONE_NEWNET) == 0) {
			sys_use(&sys_linux_ops);
			r[0] = sys_vlan_add("lo", 100, 5);
			if (r[0] == 0) {
				unsigned idx = if_nametoindex("lo.100");
				struct ifreq ifr = { 0 };
				int s = socket(AF_INET, SOCK_DGRAM, 0);

				snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo.100");
				r[1] = idx && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
				close(s);
				r[2] = sys_vlan_del("lo", 100);
			}
			if (sys_vlan_add("nosuchif0", 100, 5) != -ENODEV)
				r[0] = -998;
		}
		if (write(pipefd[1], r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], res, sizeof(res)), sizeof(res));
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	assert_int_not_equal(res[0], -999);     /* unshare worked */
	assert_int_not_equal(res[0], -998);     /* missing parent -> ENODEV */
	if (res[0] == -EOPNOTSUPP) {
		print_message("# kernel without 802.1Q: %s\n", sys_vlan_strerror(res[0]));
		assert_non_null(strstr(sys_vlan_strerror(res[0]), "no 802.1Q"));
	} else {
		assert_int_equal(res[0], 0);
		assert_int_equal(res[1], 1);      /* exists and is up */
		assert_int_equal(res[2], 0);      /* deleted */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newlink_bytes),
		cmocka_unit_test(test_newlink_refuses),
		cmocka_unit_test(test_up_and_del_bytes),
		cmocka_unit_test(test_dummy_backend),
		cmocka_unit_test(test_linux_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

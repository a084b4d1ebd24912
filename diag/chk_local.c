/* chk_local.c - checks that need no network traffic: link, address, clock. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/util.h"
#include "diag/check.h"
#include "diag/famverdict.h"
#include "diag/probe.h"
#include "system/system.h"

/* Read a small sysfs attribute (trimmed) into buf; 0 or -errno. */
static int sysfs_read(const struct diag_opts *o, const char *ifname, const char *attr, char *buf,
		      size_t cap)
{
	char path[512], *data = NULL;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/%s/%s", o->sysfs_net, ifname, attr);
	if ((err = utl_read_file(path, 4096, &data, &len)) < 0)
		return err;
	while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
		data[--len] = '\0';
	utl_strlcpy(buf, data, cap);
	free(data);
	return 0;
}

/* The interface of the IPv4 default route (/proc/net/route) and its gateway. 0 or -ENOENT. */
static int default_route(const char *route_file, const char *want_if, char *ifname, size_t cap,
			 struct in_addr *gw)
{
	char *data = NULL, *line, *save = NULL;
	size_t len;
	int err = utl_read_file(route_file, 65536, &data, &len);

	if (err < 0)
		return err;
	err = -ENOENT;
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char ifn[32];
		unsigned dest, gate, flags, mask;

		if (sscanf(line, "%31s %x %x %x %*d %*d %*d %x", ifn, &dest, &gate, &flags, &mask) != 5)
			continue;
		if (dest != 0 || mask != 0 || !(flags & 0x1) || !(flags & 0x2))
			continue;
		if (want_if && want_if[0] && strcmp(want_if, ifn))
			continue;
		utl_strlcpy(ifname, ifn, cap);
		gw->s_addr = gate; /* /proc prints it in host order of the raw value */
		err = 0;
		break;
	}
	free(data);
	return err;
}

/* ---------------------------------------------------------------- link */

static int link_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	const struct diag_opts *o = x->opts;
	struct diag_result *r = &c->res;
	char buf[64], path[512], gwif[32];
	struct in_addr gw;
	struct stat st;
	bool wireless;

	if (!x->ifname[0]) {
		if (default_route(o->proc_route, NULL, gwif, sizeof(gwif), &gw) == 0)
			utl_strlcpy(x->ifname, gwif, sizeof(x->ifname));
		else
			utl_strlcpy(x->ifname, "eth0", sizeof(x->ifname));
	}
	diag_value_add(r, "interface", "", "%s", x->ifname);
	snprintf(path, sizeof(path), "%s/%s", o->sysfs_net, x->ifname);
	if (stat(path, &st) < 0) {
		snprintf(r->brief, sizeof(r->brief), "no %s", x->ifname);
		diag_verdict_set(r, DIAG_FAIL, "network interface %s not found: check the phone's network settings",
				 x->ifname);
		goto out;
	}
	if (sysfs_read(o, x->ifname, "operstate", buf, sizeof(buf)) == 0)
		diag_value_add(r, "operstate", "", "%s", buf);
	snprintf(path, sizeof(path), "%s/%s/wireless", o->sysfs_net, x->ifname);
	wireless = stat(path, &st) == 0;
	snprintf(path, sizeof(path), "%s/%s/phy80211", o->sysfs_net, x->ifname);
	wireless = wireless || stat(path, &st) == 0;
	diag_value_add(r, "medium", "", "%s", wireless ? "wireless" : "wired");
	if (sysfs_read(o, x->ifname, "carrier", buf, sizeof(buf)) < 0 || strcmp(buf, "1") != 0) {
		diag_value_add(r, "carrier", "", "down");
		snprintf(r->brief, sizeof(r->brief), "%s: no link", x->ifname);
		diag_verdict_set(r, DIAG_FAIL,
				 "no link on %s: check the cable and the switch port (use the phone's LAN port, "
				 "not its PC pass-through port)", x->ifname);
		goto out;
	}
	diag_value_add(r, "carrier", "", "up");
	if (wireless) {
		/* nl80211 is not queried: the band stays unknown */
		diag_value_add(r, "band", "", "unknown");
		snprintf(r->brief, sizeof(r->brief), "%s Wi-Fi", x->ifname);
		diag_verdict_set(r, DIAG_PASS,
				 "on Wi-Fi: wired Ethernet is most reliable for desk phones; else prefer 5 GHz");
		goto out;
	}
	{
		char speed[16] = "", duplex[16] = "";
		long sp = 0;

		if (sysfs_read(o, x->ifname, "speed", speed, sizeof(speed)) == 0 && sscanf(speed, "%ld", &sp) == 1 && sp > 0)
			diag_value_add(r, "speed", "Mb/s", "%ld", sp);
		if (sysfs_read(o, x->ifname, "duplex", duplex, sizeof(duplex)) == 0 && duplex[0])
			diag_value_add(r, "duplex", "", "%s", duplex);
		if (sp > 0)
			snprintf(r->brief, sizeof(r->brief), "wired %ldM %s", sp, duplex);
		else
			snprintf(r->brief, sizeof(r->brief), "wired, up");
		if (!strcmp(duplex, "half")) {
			diag_verdict_set(r, DIAG_WARN,
					 "link is half duplex: check the cable and the switch port settings (auto)");
			goto out;
		}
	}
	diag_verdict_set(r, DIAG_PASS, "wired Ethernet with link");
out:
	diag_check_done(c);
	return 0;
}

static void nothing_to_cancel(struct diag_check *c)
{
}

const struct diag_check_type diag_chk_link = {
	DIAG_C_LINK, "link", "Link", 1, false, DIAG_H_NONE, 0, link_start, nothing_to_cancel,
};

/* ---------------------------------------------------------------- address */

int diag_read_resolv(struct diag_ctx *x, const char *path)
{
	char *data = NULL, *line, *save = NULL;
	size_t len;
	int err = utl_read_file(path, 65536, &data, &len);

	x->nns = 0;
	if (err < 0)
		return err;
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char addr[64];

		if (sscanf(line, " nameserver %63s", addr) == 1 && x->nns < ARRAY_SIZE(x->ns) &&
		    inet_pton(AF_INET, addr, &x->ns[x->nns]) == 1)
			x->nns++;
	}
	free(data);
	return 0;
}

/* The addresses of the interface per family (the kernel's flags through system/): the origin of
 * the IPv4 address into v4src, the phone's IPv6 into x->v6 / x->local6 and a value. Facts, not
 * failures; a global IPv6 address without IPv4 makes an IPv6-only phone. */
static void address_families(struct diag_ctx *x, char *v4src, size_t cap, char *v6, size_t v6cap)
{
	struct sys_addr a[16];
	int n = sys_iface_addrs(x->ifname, a, ARRAY_SIZE(a)), ll = -1, gl = -1;
	char ip[INET6_ADDRSTRLEN];

	utl_strlcpy(v4src, "", cap);
	x->v6 = DIAG_V6_NONE;
	snprintf(v6, v6cap, "none");
	if (n < 0) {
		snprintf(v6, v6cap, "unknown (%s)", strerror(-n));
		return;
	}
	for (int i = 0; i < n; i++) {
		enum sys_addr_origin o = sys_addr_origin(&a[i]);

		if (a[i].family == AF_INET && !v4src[0] && !memcmp(a[i].addr, &x->local, 4)) {
			if (o == SYS_ADDR_DHCP)
				snprintf(v4src, cap, "DHCP (lease, %u s left)", a[i].valid_s);
			else
				snprintf(v4src, cap, "static (no lease time)");
		}
		if (a[i].family != AF_INET6 || !sys_addr_usable(&a[i]))
			continue;
		if (o == SYS_ADDR_LINKLOCAL) {
			if (ll < 0)
				ll = i;
		} else if (o != SYS_ADDR_OTHER && (gl < 0 || (a[gl].flags & 0x20 /* IFA_F_DEPRECATED */))) {
			gl = i;
		}
	}
	if (gl >= 0) {
		x->v6 = DIAG_V6_GLOBAL;
		memcpy(&x->local6, a[gl].addr, 16);
		snprintf(v6, v6cap, "%s/%u (%s)", inet_ntop(AF_INET6, a[gl].addr, ip, sizeof(ip)), a[gl].prefixlen,
			 sys_addr_origin_name(sys_addr_origin(&a[gl])));
	} else if (ll >= 0) {
		x->v6 = DIAG_V6_LINKLOCAL;
		snprintf(v6, v6cap, "link-local only (no router advertises a prefix)");
	}
}

/* One message (one string) for both ways of not getting an address by DHCP. */
#define NO_DHCP "%s %s: the phone is not getting DHCP; make sure the network has DHCP (or IPv6 " \
		"router advertisements, SLAAC) available on the segment the phones are on"

static int address_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	const struct diag_opts *o = x->opts;
	struct diag_result *r = &c->res;
	struct ifaddrs *ifa = NULL;
	struct in_addr gw = { 0 };
	char ip[INET_ADDRSTRLEN], gwif[32], list[64] = "", v4src[48], v6[72];
	bool found = false;

	if (!x->ifname[0] && default_route(o->proc_route, NULL, gwif, sizeof(gwif), &gw) == 0)
		utl_strlcpy(x->ifname, gwif, sizeof(x->ifname));
	if (getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, x->ifname))
				continue;
			x->local = ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr;
			found = true;
			break;
		}
		freeifaddrs(ifa);
	}
	address_families(x, v4src, sizeof(v4src), v6, sizeof(v6));
	if (!found || x->local.s_addr == 0) {
		diag_value_add(r, "ipv4", "", "0.0.0.0");
		if (x->v6 == DIAG_V6_GLOBAL) {   /* an IPv6-only phone: its checks run over IPv6 */
			snprintf(r->brief, sizeof(r->brief), "IPv6 only");
			diag_verdict_set(r, DIAG_PASS, "IPv6 only: the phone has no IPv4 address on %s, its "
					 "checks run over IPv6 (see family)", x->ifname);
			goto out;
		}
		snprintf(r->brief, sizeof(r->brief), "no address");
		diag_verdict_set(r, DIAG_FAIL, NO_DHCP, "no IPv4 or global IPv6 address on", x->ifname);
		goto out;
	}
	diag_ntoa(x->local, ip);
	diag_value_add(r, "ipv4", "", "%s", ip);
	if (v4src[0])
		diag_value_add(r, "ipv4_source", "", "%s", v4src);
	if ((ntohl(x->local.s_addr) >> 16) == (169u << 8 | 254)) {
		snprintf(r->brief, sizeof(r->brief), "self-assigned %s", ip);
		diag_verdict_set(r, DIAG_FAIL, NO_DHCP, "self-assigned address", ip);
		goto out;
	}
	x->have_addr = true;
	gw.s_addr = 0;
	if (default_route(o->proc_route, x->ifname, gwif, sizeof(gwif), &gw) == 0) {
		diag_value_add(r, "gateway", "", "%s", diag_ntoa(gw, ip));
	} else {
		diag_value_add(r, "gateway", "", "none");
		snprintf(r->brief, sizeof(r->brief), "%s no gateway", diag_ntoa(x->local, ip));
		diag_verdict_set(r, DIAG_FAIL,
				 "no default gateway: check the DHCP server's router option for the phones' segment");
		goto out;
	}
	diag_read_resolv(x, o->resolv_conf);
	for (unsigned i = 0; i < x->nns; i++) {
		size_t l = strlen(list);

		snprintf(list + l, sizeof(list) - l, "%s%s", i ? " " : "", diag_ntoa(x->ns[i], ip));
	}
	diag_value_add(r, "dns", "", "%s", x->nns ? list : "none");
	snprintf(r->brief, sizeof(r->brief), "%s", diag_ntoa(x->local, ip));
	if (!x->nns) {
		diag_verdict_set(r, DIAG_FAIL,
				 "no DNS server (%s is empty): check the DHCP server's DNS option", o->resolv_conf);
		goto out;
	}
	diag_verdict_set(r, DIAG_PASS, "address, gateway and DNS servers from DHCP");
out:
	diag_value_add(r, "ipv6", "", "%s", v6);
	diag_check_done(c);
	return 0;
}

const struct diag_check_type diag_chk_address = {
	DIAG_C_ADDRESS, "address", "Address", 1, false, DIAG_H_NONE, 0, address_start, nothing_to_cancel,
};

/* ---------------------------------------------------------------- clock */

static int clock_start(struct diag_check *c)
{
	struct diag_result *r = &c->res;
	time_t now = time(NULL), bound = (time_t)c->ctx->opts->build_epoch;
	char t[32], b[32];
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gmtime_r(&bound, &tm);
	strftime(b, sizeof(b), "%Y-%m-%d", &tm);
	diag_value_add(r, "now", "", "%s", t);
	diag_threshold_set(r, "not before the software's build date %s", b);
	snprintf(r->brief, sizeof(r->brief), "%.19s", t);
	if (now < bound)
		diag_verdict_set(r, DIAG_FAIL,
				 "clock not set: TLS cannot verify (clock says %.10s); let the phone reach "
				 "its time server (NTP, UDP 123)", t);
	else
		diag_verdict_set(r, DIAG_PASS, "clock is set");
	diag_check_done(c);
	return 0;
}

const struct diag_check_type diag_chk_clock = {
	DIAG_C_CLOCK, "clock", "Clock", 1, false, DIAG_H_NONE, 0, clock_start, nothing_to_cancel,
};

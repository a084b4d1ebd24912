/* vlan.bpf.c - terminate the emulated phone's voice VLAN on the lab router.
 *
 * The host kernel has no 802.1Q module, so the router side of the voice VLAN is
 * done by two tc (clsact) classifiers, built with `clang -O2 -target bpf` by
 * tests/phone/phone-net.sh, which passes the interface indexes and the VLAN as
 * -D defines (no maps: nothing to set up after loading):
 *
 *   tap0 (the guest's NIC)            voice0 (router: 192.168.60.1) <-veth-> voice1
 *
 *   "from_phone" on tap0 ingress: a frame tagged with VOICE_VID has its tag
 *       popped and is redirected into voice0's ingress, so the router's stack
 *       (and the voice DHCP server) sees it arrive on the voice subnet.  Other
 *       tagged frames are dropped (the network does not carry that VLAN);
 *       untagged frames go on to tap0 (the data LAN) unchanged.
 *   "to_phone" on voice1 ingress: whatever the router sends out of voice0
 *       comes out of voice1; it gets the VOICE_VID tag with priority VOICE_PCP
 *       pushed and is redirected out of tap0 to the guest.
 *
 * Counters are not kept here: the test checks the wire with tcpdump.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef TAP_IFINDEX
#error "build with -DTAP_IFINDEX=<ifindex of tap0>"
#endif
#ifndef VOICE_IFINDEX
#error "build with -DVOICE_IFINDEX=<ifindex of voice0>"
#endif
#ifndef VOICE_VID
#define VOICE_VID 100
#endif
#ifndef VOICE_PCP
#define VOICE_PCP 5
#endif

#if VOICE_VID < 1 || VOICE_VID > 4094
#error "VOICE_VID must be 1-4094"
#endif
#if VOICE_PCP < 0 || VOICE_PCP > 7
#error "VOICE_PCP must be 0-7"
#endif

/* Frames from the phone: pop the voice tag and hand the frame to voice0. */
SEC("tc/from_phone")
int from_phone(struct __sk_buff *skb)
{
	/* The receive path has already moved the 802.1Q header into skb metadata. */
	if (!skb->vlan_present)
		return TC_ACT_OK;
	if ((skb->vlan_tci & 0x0fff) != VOICE_VID)
		return TC_ACT_SHOT;
	if (bpf_skb_vlan_pop(skb) != 0)
		return TC_ACT_SHOT;
	return bpf_redirect(VOICE_IFINDEX, BPF_F_INGRESS);
}

/* Frames the router sends on the voice subnet: tag them and send them to the phone. */
SEC("tc/to_phone")
int to_phone(struct __sk_buff *skb)
{
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), (VOICE_PCP << 13) | VOICE_VID) != 0)
		return TC_ACT_SHOT;
	return bpf_redirect(TAP_IFINDEX, 0);
}

char _license[] SEC("license") = "GPL";

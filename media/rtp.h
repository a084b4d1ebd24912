/* rtp.h - RFC 3550 RTP: strict header parse/build and a paced UDP session.
 *
 * The session lives on the agent's event loop (common/ev.h): a non-blocking
 * UDP socket bound to a random even port of a range (the provisioned RTP
 * range), marked DSCP 46 through system/system.h, connected to one peer,
 * sending one packet per ptime against an absolute monotonic schedule (no
 * drift), receiving with kernel timestamps (SO_TIMESTAMPNS). Malformed
 * datagrams are counted and dropped. With an echo peer (sipp -rtp_echo) each
 * returned packet of our SSRC carries the time we sent that sequence number,
 * so RTT = rx_ns - tx_ns; jitter and loss are the caller's arithmetic (diag).
 * No RTCP is sent or read.
 */
#ifndef DSA_MEDIA_RTP_H
#define DSA_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HDR_LEN      12
#define RTP_MAX_DATAGRAM 1500    /* larger datagrams are dropped as malformed */
#define RTP_PORT_MIN     10000   /* the platform's RTP range */
#define RTP_PORT_MAX     20000
#define RTP_DSCP_EF      46

/* Reasons rtp_parse() rejects a datagram (returned negated). */
enum rtp_parse_err {
	RTP_E_SHORT = 1,        /* shorter than the fixed header */
	RTP_E_VERSION,          /* version is not 2 */
	RTP_E_CSRC,             /* CSRC list runs past the end */
	RTP_E_EXT,              /* header extension runs past the end */
	RTP_E_PAD,              /* padding count 0 or larger than the payload */
	RTP_E_RTCP,             /* payload type 72-76: RTCP on the RTP port */
	RTP_E_MAX
};

struct rtp_hdr {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t cc;
	uint32_t csrc[15];
	bool has_ext;
	uint16_t ext_profile;
	const uint8_t *ext;         /* extension data (ext_len bytes), inside the buffer */
	size_t ext_len;
	const uint8_t *payload;     /* inside the buffer, padding excluded */
	size_t payload_len;
	uint8_t pad_len;
};

/* Parse and check the RTP header of buf; pointers in h point into buf.
 * 0 or -RTP_E_*. Pure. */
int rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *h);

/* A technician-readable reason for a negative rtp_parse() result. */
const char *rtp_parse_strerror(int err);

/* Write h (version 2, CSRCs, optional extension, no padding) and the payload
 * into buf. Returns the packet length, or -EINVAL / -ENOSPC. Pure. */
int rtp_build(uint8_t *buf, size_t size, const struct rtp_hdr *h,
	      const uint8_t *payload, size_t payload_len);

/* ---------------------------------------------------------------- session */

struct rtp_session;
struct msrtp;

struct rtp_config {
	const char *local_addr;     /* numeric address to bind; NULL: 0.0.0.0 */
	uint16_t port_min;          /* even port picked at random in [min, max]; */
	uint16_t port_max;          /*   0/0: RTP_PORT_MIN..RTP_PORT_MAX */
	int dscp;                   /* DSCP to mark; 0: RTP_DSCP_EF (46, voice); -1: leave unmarked */
	uint8_t pt;                 /* payload type (0 PCMU, 8 PCMA) */
	unsigned ptime_ms;          /* packet interval; 0: 20 */
	unsigned clock_rate;        /* RTP clock; 0: 8000 */
	uint32_t ssrc;              /* 0: random */
};

/* One received, well-formed packet. */
struct rtp_rx {
	const struct rtp_hdr *hdr;
	uint64_t rx_ns;             /* kernel receive time, CLOCK_REALTIME ns */
	bool kernel_ts;             /* false: rx_ns is the read time (no SO_TIMESTAMPNS) */
	uint64_t tx_ns;             /* our send time of this SSRC+seq (echo), CLOCK_REALTIME ns; 0 unknown */
	bool tx_kernel;             /* tx_ns is the kernel's software TX timestamp (else send() time) */
	bool own;                   /* the SSRC is ours: an echo of our stream */
};

struct rtp_stats {
	uint64_t tx_packets;        /* handed to the kernel */
	uint64_t tx_errors;         /* send failed (last_errno says why) */
	uint64_t tx_late;           /* sent more than half a ptime after its due time */
	uint64_t tx_kernel_ts;      /* packets whose send time is the kernel's TX timestamp */
	uint64_t rx_packets;        /* well-formed, delivered to the callback */
	uint64_t rx_malformed;      /* failed rtp_parse() (sum of rx_reason) */
	uint64_t rx_reason[RTP_E_MAX];
	uint64_t rx_oversize;       /* larger than RTP_MAX_DATAGRAM */
	uint64_t rx_srtp_fail;      /* SRTP authentication/replay failure */
	uint64_t rx_unreachable;    /* ICMP port/host unreachable reported on the socket */
	int last_errno;             /* last send/receive error (positive errno), 0 none */
};

/* Called for each packet received. */
typedef void (*rtp_rx_cb)(void *arg, const struct rtp_rx *rx);
/* Fill the payload of packet index (0-based) into buf (size bytes); return
 * its length, or a negative value to stop sending. */
typedef int (*rtp_fill_cb)(void *arg, uint32_t index, uint8_t *buf, size_t size);
/* Called once when the last packet of rtp_start() was sent (or sending stopped). */
typedef void (*rtp_done_cb)(void *arg);

/* Open a session: socket, bind in the port range, DSCP, timestamps, read
 * watcher. 0 or -errno (-EADDRINUSE: every port of the range is taken). */
int rtp_session_new(const struct rtp_config *cfg, struct rtp_session **out);

/* Close the socket, cancel the timer, free s (NULL is fine). Safe from inside
 * the session's own rx and done callbacks. */
void rtp_session_free(struct rtp_session *s);

/* The bound local port. */
uint16_t rtp_local_port(const struct rtp_session *s);

/* Our SSRC. */
uint32_t rtp_ssrc(const struct rtp_session *s);

/* Connect to the peer at a numeric address and port; 0 or -errno. */
int rtp_set_peer(struct rtp_session *s, const char *addr, uint16_t port);

/* Deliver received packets to cb (NULL: count and drop). */
void rtp_set_rx(struct rtp_session *s, rtp_rx_cb cb, void *arg);

/* Protect sent / unprotect received packets with these SRTP contexts (the
 * session does not own them; NULL: plain RTP). */
void rtp_set_srtp(struct rtp_session *s, struct msrtp *tx, struct msrtp *rx);

/* Send count packets, one per ptime, payloads from fill; done when finished.
 * The first packet leaves now. 0, -EBUSY when already sending, -ENOTCONN without peer. */
int rtp_start(struct rtp_session *s, uint32_t count, rtp_fill_cb fill,
	      rtp_done_cb done, void *arg);

/* Stop sending (done is not called). */
void rtp_stop(struct rtp_session *s);

/* Whether rtp_start() is still sending. */
bool rtp_sending(const struct rtp_session *s);

/* Counters since the session opened. */
const struct rtp_stats *rtp_stats(const struct rtp_session *s);

#endif
